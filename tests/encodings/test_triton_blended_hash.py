"""The fused Triton lookup against the torch reference, forward and backward (tables, coefficients and
positions).

On a GPU the comparisons run directly. Without one, Triton can still interpret its kernels on
CPU tensors (TRITON_INTERPRET=1, read when a kernel is defined): a test runs this file as a
script in a fresh interpreter with that set, at a tiny size.
"""

from importlib.util import find_spec

import pytest
import torch
from torch.testing import assert_close
from triton_interpreter import run_interpreted

from nerfblend_ns.encodings import BlendedHashEncoding

# Two dense levels (res 4, 8) and two hashed ones (res 16, 32): 3 features exercise the padding to 4.
SMALL = dict(num_levels=4, features_per_level=3, log2_hashmap_size=10, base_resolution=4, max_resolution=32)
PAPER = dict(num_levels=16, features_per_level=4, log2_hashmap_size=14, base_resolution=16, max_resolution=1024)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
needs_triton = pytest.mark.skipif(find_spec("triton") is None, reason="needs the triton package")


def _encodings(num_bases: int, config: dict, device: str, dtype=torch.float32):
    """The same unit-scale tables (small init values would hide mismatches) behind both implementations."""
    reference = BlendedHashEncoding(num_bases, implementation="torch", **config)
    with torch.no_grad():
        reference.tables.normal_()
    fused = BlendedHashEncoding(num_bases, implementation="triton", **config)
    fused.load_state_dict(reference.state_dict())
    return reference.to(device, dtype), fused.to(device, dtype)


def _positions(n: int, device: str) -> torch.Tensor:
    """Mostly inside the unit cube; a tenth outside, some barely; the cube's corners and faces."""
    positions = torch.rand(n, 3)
    outside = torch.rand(n) < 0.1
    positions[outside] = positions[outside] * 1.4 - 0.2
    edges = torch.tensor(
        [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.5, 1.0], [1.0, 1e-7, 0.5], [-1e-6, 0.5, 0.5], [0.5, 1.0 + 1e-6, 0.5]]
    )
    positions[: len(edges)] = edges
    return positions.to(device)


def _coefficients(num_frames: int, num_coefficients: int) -> torch.Tensor:
    """Frames far apart: neutral, large random, a negative ramp, and small random ones."""
    rows = [torch.zeros(num_coefficients), 5 * torch.randn(num_coefficients), torch.linspace(-3, 1, num_coefficients)]
    rows += [0.1 * torch.randn(num_coefficients) for _ in range(num_frames - len(rows))]
    return torch.stack(rows[:num_frames])


def _run(encoding: BlendedHashEncoding, positions, coefficients, frame_index, output_grad):
    """Blended features, and the gradients of the basis tables, of the coefficients and of the positions."""
    coefficients = coefficients.clone().requires_grad_()
    positions = positions.clone().requires_grad_()
    encoding.tables.grad = None
    features = encoding(positions, coefficients, frame_index)
    features.backward(output_grad)
    return features.detach(), encoding.tables.grad.clone(), coefficients.grad.clone(), positions.grad.clone()


def _assert_matches(got: torch.Tensor, want: torch.Tensor, name: str, max_resolution: int) -> None:
    """Equal up to float32 rounding, of two kinds. Sums taken in another order (atomics) stay within
    a tight tolerance. And the kernel may compute position · resolution − cell in one fused
    multiply-add where the reference rounds the product first: at the finest levels that moves a
    corner weight by up to 3 · resolution · 2^-24, so some values differ by up to 8 such weights'
    share of the largest value. Features and table gradients mix the finest levels into a few
    values only; every position-gradient value holds a finest-level term scaled by its resolution,
    so there the shifted values are not few (0.2 % of them on a GPU, with 47 unit-scale tables)."""
    scale = float(want.abs().max())
    difference = (got - want).abs()
    loose = (24 * max_resolution * 2.0**-24 + 1e-5) * scale
    assert float(difference.max()) <= loose, f"{name}: largest difference {float(difference.max()):.3g} > {loose:.3g}"
    beyond_tight = int((difference > 1e-5 * scale + 1e-4 * want.abs()).sum())
    share = 1e-2 if name.startswith("position gradient") else 1e-3
    assert beyond_tight <= max(1, share * want.numel()), f"{name}: {beyond_tight} of {want.numel()} values beyond sum rounding"


def compare_blended_lookup(config: dict, num_bases: int, num_frames: int, n: int, device: str) -> None:
    torch.manual_seed(0)
    reference, fused = _encodings(num_bases, config, device)
    positions = _positions(n, device)
    coefficients = _coefficients(num_frames, num_bases - 1).to(device)
    frame_index = torch.randint(0, num_frames, (n,), device=device)
    output_grad = torch.randn(n, reference.output_dim, device=device)

    expected = _run(reference, positions, coefficients, frame_index, output_grad)
    actual = _run(fused, positions, coefficients, frame_index, output_grad)
    for name, want, got in zip(("features", "table gradient", "coefficient gradient", "position gradient"), expected, actual):
        _assert_matches(got, want, name, config["max_resolution"])

    inside = ((positions >= 0) & (positions <= 1)).all(dim=1)
    assert torch.all(actual[0][~inside] == 0) and torch.all(actual[3][~inside] == 0)
    assert torch.all(actual[3][inside].abs().amax(dim=0) > 0), "an axis got no position gradient"
    levels = actual[0][inside].view(int(inside.sum()), reference.layout.num_levels, -1)
    assert torch.all(levels.abs().amax(dim=(0, 2)) > 0), "a level read nothing"
    table_grad = actual[1].view(num_bases, reference.layout.num_entries, -1)
    for offset, size in zip(reference.layout.offsets, reference.layout.level_sizes):
        assert table_grad[:, offset : offset + size].abs().amax() > 0, "a level got no gradient"


def compare_one_gradient_at_a_time(config: dict, n: int, device: str) -> None:
    """Training (tables only) and the held-out pose fit (positions only, frozen tables) each take one gradient."""
    torch.manual_seed(2)
    reference, fused = _encodings(3, config, device)
    positions = _positions(n, device)
    coefficients = _coefficients(2, 2).to(device)
    frame_index = torch.randint(0, 2, (n,), device=device)
    output_grad = torch.randn(n, reference.output_dim, device=device)
    table_grads, position_grads = [], []
    for encoding in (reference, fused):
        encoding.tables.grad = None
        encoding(positions, coefficients, frame_index).backward(output_grad)
        table_grads.append(encoding.tables.grad)
        encoding.tables.requires_grad_(False)
        moved = positions.clone().requires_grad_()
        encoding(moved, coefficients, frame_index).backward(output_grad)
        position_grads.append(moved.grad)
        encoding.tables.requires_grad_(True)
    _assert_matches(table_grads[1], table_grads[0], "table gradient alone", config["max_resolution"])
    _assert_matches(position_grads[1], position_grads[0], "position gradient alone", config["max_resolution"])


def compare_basis_features(config: dict, num_bases: int, n: int, device: str) -> None:
    """Every sample in every basis table (the occupancy update's and the concat field's lookup)."""
    torch.manual_seed(1)
    reference, fused = _encodings(num_bases, config, device)
    positions = _positions(n, device)
    output_grad = torch.randn(num_bases, n, reference.output_dim, device=device)
    results = []
    for encoding in (reference, fused):
        moved = positions.clone().requires_grad_()
        features = encoding.basis_features(moved)
        features.backward(output_grad)
        results.append((features.detach(), encoding.tables.grad, moved.grad))
    for name, want, got in zip(("features", "table gradient", "position gradient"), *results):
        _assert_matches(got, want, name, config["max_resolution"])


@pytest.mark.parametrize("num_frames", [1, 4])
@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_small_grid_matches_reference(num_frames):
    compare_blended_lookup(SMALL, num_bases=6, num_frames=num_frames, n=5000, device="cuda")
    compare_basis_features(SMALL, num_bases=6, n=3000, device="cuda")
    compare_one_gradient_at_a_time(SMALL, n=3000, device="cuda")


@pytest.mark.parametrize("num_coefficients", [46, 51])
@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_paper_grid_matches_reference(num_coefficients):
    compare_blended_lookup(PAPER, num_bases=num_coefficients + 1, num_frames=4, n=1 << 16, device="cuda")


@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_paper_basis_features_match_reference():
    compare_basis_features(PAPER, num_bases=47, n=4096, device="cuda")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_half_tables_accumulate_in_float32(dtype):
    """Half tables are read and upcast; the sums match float32 arithmetic on the same values."""
    torch.manual_seed(2)
    device = "cuda"
    reference, fused = _encodings(3, PAPER, device, dtype)
    positions = _positions(1 << 14, device)
    frame_index = torch.randint(0, 3, (len(positions),), device=device)
    expected = reference.to(torch.float32).lookup(reference.tables, positions, frame_index)
    actual = fused.lookup(fused.tables, positions, frame_index)
    assert actual.dtype == dtype
    assert_close(actual.float(), expected, rtol=1e-2, atol=1e-2)


@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_positions_without_gradient_keep_no_tables_and_get_none():
    encoding = BlendedHashEncoding(3, implementation="triton", **SMALL).to("cuda")
    tables = encoding.blend(torch.randn(2, 2, device="cuda"))
    features = encoding.lookup(tables, torch.rand(64, 3, device="cuda"), torch.zeros(64, dtype=torch.long, device="cuda"))
    assert features.grad_fn.saved_tensors[3] is None
    features.sum().backward()
    assert encoding.tables.grad is not None


@pytest.mark.gpu
@needs_cuda
@needs_triton
def test_auto_uses_kernels_on_cuda_and_handles_no_samples():
    device = "cuda"
    encoding = BlendedHashEncoding(3, **SMALL).to(device)
    tables = encoding.blend(torch.randn(2, 2, device=device))
    empty = encoding.lookup(tables, torch.empty(0, 3, device=device), torch.empty(0, dtype=torch.long, device=device))
    assert empty.shape == (0, encoding.output_dim)
    empty.sum().backward()
    features = encoding.lookup(tables, torch.rand(10, 3, device=device), torch.zeros(10, dtype=torch.long, device=device))
    assert "Fused" in type(features.grad_fn).__name__


@needs_triton
def test_interpreted_kernels_match_reference_on_cpu():
    run_interpreted(__file__)


def test_unknown_implementation_is_rejected():
    with pytest.raises(ValueError, match="implementation"):
        BlendedHashEncoding(2, implementation="cuda", **SMALL)


if __name__ == "__main__":
    compare_blended_lookup(SMALL, num_bases=4, num_frames=3, n=400, device="cpu")
    compare_basis_features(SMALL, num_bases=3, n=200, device="cpu")
    compare_one_gradient_at_a_time(SMALL, n=200, device="cpu")
