"""The fused Triton renderer against the torch path (`render_rays_torch`, the same signature).

Without a GPU the kernel runs under Triton's CPU interpreter (TRITON_INTERPRET=1, read when a kernel
is defined): a test runs this file as a script in a fresh interpreter with that set, at a tiny size.
"""

from importlib.util import find_spec

import pytest
import torch
from torch.testing import assert_close
from triton_interpreter import run_interpreted

from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, NerfBlendField
from nerfblend_ns.rendering.fused_rendering import current_kernel_weights, render_rays_fused, unsupported_reason
from nerfblend_ns.rendering.render_settings import RenderSettings
from nerfblend_ns.rendering.torch_rendering import render_rays_torch

AABB = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])
ALPHA_THRESHOLD = 0.01
EARLY_STOP_EPS = 1e-3
# Two dense levels and two hashed ones; one hidden layer in each MLP; 3 SH levels exercise the padding.
SMALL_GRID = BlendedHashGridConfig(num_levels=4, features_per_level=4, log2_hashmap_size=10, base_resolution=4, max_resolution=32)
SMALL_DECODER = DecoderConfig(hidden_dim=16, num_layers=3, geometry_features=16, color_hidden_dim=16, color_num_layers=3, sh_levels=3)
# No hidden layers at all.
SHALLOW_DECODER = DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=32, color_hidden_dim=16, color_num_layers=2)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
needs_triton = pytest.mark.skipif(find_spec("triton") is None, reason="needs the triton package")


def _field(grid: BlendedHashGridConfig, decoder: DecoderConfig, num_coefficients: int) -> NerfBlendField:
    """Unit-scale tables (small init values would hide mismatches) and a density bias that makes some rays
    turn opaque within the box and leaves others translucent."""
    torch.manual_seed(0)
    field = NerfBlendField(AABB.view(2, 3), CoefficientSegments.linear(num_coefficients), grid, decoder)
    with torch.no_grad():
        field.encoding.tables.normal_()
        field.density_mlp.layers[-1].bias[0] = 5.0
    return field


def _sphere_grid(resolution: int = 8) -> torch.Tensor:
    centres = (torch.arange(resolution) + 0.5) / resolution * 2 - 1
    x, y, z = torch.meshgrid(centres, centres, centres, indexing="ij")
    return x**2 + y**2 + (z * 1.3) ** 2 < 0.6


def _rays(num_rays: int):
    """A fan from z = 3 towards the box, some missing it, one NaN ray, one starting inside the box."""
    generator = torch.Generator().manual_seed(1)
    targets = torch.rand(num_rays, 3, generator=generator) * 2.4 - 1.2
    origins = torch.tensor([0.2, -0.1, 3.0]).expand(num_rays, 3).clone()
    origins[5] = torch.tensor([0.1, 0.0, 0.2])
    directions = torch.nn.functional.normalize(targets - origins, dim=-1)
    directions[7] = float("nan")
    return origins, directions


def compare_with_torch_path(decoder: DecoderConfig, grid: BlendedHashGridConfig, num_rays: int, device: str, half: bool) -> None:
    field = _field(grid, decoder, num_coefficients=3).to(device)
    coefficients = torch.tensor([[0.0, 0.0, 0.0], [1.5, -2.0, 0.7]], device=device)
    tables = field.blend(coefficients).detach()
    origins, directions = (x.to(device) for x in _rays(num_rays))
    table_index = torch.arange(num_rays, device=device) % 2
    binary = _sphere_grid().to(device)
    aabb = AABB.to(device)
    settings = RenderSettings(
        step_size=0.03, near_plane=0.05, far_plane=3.6, alpha_threshold=ALPHA_THRESHOLD, early_stop_eps=EARLY_STOP_EPS,
        half_precision=half,
    )
    expected = render_rays_torch(field, tables, table_index, origins, directions, binary, aabb, settings)

    def fused(coherent: bool):
        return render_rays_fused(
            field, tables, table_index, origins, directions, binary, aabb, settings, coherent=coherent
        )

    actual = fused(coherent=False)
    # Launched in the order given (as a camera's tile-ordered rays are), each ray renders the same.
    as_given = fused(coherent=True)
    assert_close(as_given.premultiplied, actual.premultiplied, atol=1e-6, rtol=0)
    assert torch.equal(as_given.evaluated, actual.evaluated)
    tolerance = dict(atol=2e-2, rtol=0) if half else dict(atol=1e-4, rtol=1e-4)
    assert_close(actual.premultiplied, expected.premultiplied, **tolerance)
    assert_close(actual.opacity, expected.opacity, **tolerance)
    hit = expected.opacity[:, 0] > 0.05
    assert_close(actual.depth[hit], expected.depth[hit], atol=1e-2 if half else 1e-4, rtol=0)
    # The torch path evaluates whole windows of candidates; the kernel stops at the sample that ends a ray,
    # and both evaluate every candidate of a ray that stays translucent.
    assert torch.all(actual.evaluated <= expected.evaluated)
    translucent = expected.opacity[:, 0] < 0.9
    if half:
        assert float((actual.evaluated - expected.evaluated)[translucent].abs().float().mean()) < 0.5
    else:
        assert torch.equal(actual.evaluated[translucent], expected.evaluated[translucent])
    # The scene has it all: rays that miss, translucent rays, rays that end early, and the NaN ray renders nothing.
    assert int((expected.evaluated == 0).sum()) > 0 and float(expected.opacity.max()) > 0.99
    assert 0.05 < float(expected.opacity[hit].min()) < 0.9
    assert actual.opacity[7] == 0 and actual.evaluated[7] == 0


def test_fields_the_kernel_cannot_render_are_named():
    field = _field(SMALL_GRID, SMALL_DECODER, 2)
    assert unsupported_reason(field) is None
    odd = _field(SMALL_GRID, DecoderConfig(hidden_dim=24), 2)
    assert "density width 24" in unsupported_reason(odd)
    assert "levels" in unsupported_reason(_field(BlendedHashGridConfig(num_levels=3), SMALL_DECODER, 2))
    assert "spherical" in unsupported_reason(_field(SMALL_GRID, DecoderConfig(sh_levels=5), 2))
    assert "not a blended" in unsupported_reason(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="density width 24"):
        render_rays_fused(odd, None, None, torch.zeros(1, 3), None, None, None, None)


def test_kernel_weights_are_remade_only_after_the_decoder_changed_and_in_place():
    field = _field(SMALL_GRID, SMALL_DECODER, 2)
    first = current_kernel_weights(field, torch.float32)
    assert current_kernel_weights(field, torch.float32) is first
    before = [weight.clone() for weight in first]
    with torch.no_grad():
        field.color_mlp.layers[-1].bias.add_(1.0)  # as an optimiser step does, in place
    changed = current_kernel_weights(field, torch.float32)
    assert [weight.data_ptr() for weight in changed] == [weight.data_ptr() for weight in first]
    assert_close(changed[-1][:3], before[-1][:3] + 1.0)
    assert_close(changed[0], before[0])
    before = [weight.clone() for weight in changed]
    field.load_state_dict({key: value + 1.0 for key, value in field.state_dict().items()})
    assert_close(current_kernel_weights(field, torch.float32)[0], before[0] + 1.0)
    half = current_kernel_weights(field, torch.float16)
    assert half[0].dtype == torch.float16
    assert_close(half[0].float(), before[0] + 1.0, atol=1e-3, rtol=1e-3)


@needs_triton
def test_interpreted_kernel_matches_torch_path_on_cpu():
    run_interpreted(__file__)


@pytest.mark.parametrize("half", [False, True])
@pytest.mark.parametrize("decoder", [SMALL_DECODER, SHALLOW_DECODER, DecoderConfig()], ids=["small", "shallow", "paper"])
@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_compiled_kernel_matches_torch_path(decoder, half):
    grid = BlendedHashGridConfig() if decoder == DecoderConfig() else SMALL_GRID
    compare_with_torch_path(decoder, grid, num_rays=4000, device="cuda", half=half)


if __name__ == "__main__":
    compare_with_torch_path(SMALL_DECODER, SMALL_GRID, num_rays=150, device="cpu", half=False)
    compare_with_torch_path(SHALLOW_DECODER, SMALL_GRID, num_rays=70, device="cpu", half=False)
