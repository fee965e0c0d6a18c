"""The Triton blend of basis tables against the torch product, forward and backward.

Run directly on a GPU; without one, under Triton's interpreter on CPU tensors (a fresh interpreter
runs this file as a script with TRITON_INTERPRET=1)."""

from importlib.util import find_spec

import pytest
import torch
from torch.testing import assert_close
from triton_interpreter import run_interpreted

needs_triton = pytest.mark.skipif(find_spec("triton") is None, reason="needs the triton package")


def compare_blend(num_frames: int, num_bases: int, rows: int, device: str, dtype: torch.dtype = torch.float32) -> None:
    """Frames whose coefficients differ by orders of magnitude, tables whose column count is not a
    multiple of the kernel's block."""
    from nerfblend_ns.encodings.triton_blend import blend_tables

    generator = torch.Generator().manual_seed(num_frames)
    scales = torch.logspace(-3, 2, num_frames)[:, None]
    coefficients = (torch.randn(num_frames, num_bases, generator=generator) * scales).to(device)
    bases = torch.randn(num_bases, rows, 3, generator=generator).to(device, dtype)
    grad = torch.randn(num_frames, rows, 3, generator=generator).to(device, dtype)
    results = []
    for blend in (blend_tables, lambda c, b: (c.to(b.dtype) @ b.flatten(1)).view(c.shape[0], *b.shape[1:])):
        c, b = coefficients.clone().requires_grad_(), bases.clone().requires_grad_()
        out = blend(c, b)
        out.backward(grad)
        results.append((out.detach(), c.grad, b.grad))
    tolerance = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=2e-3, atol=2e-3)
    for name, got, want in zip(("tables", "coefficient gradient", "basis gradient"), *results):
        assert got.dtype == want.dtype, name
        scale = want.float().abs().amax(dim=tuple(range(1, want.dim())), keepdim=True) if name == "tables" else 1.0
        assert_close(got.float() / scale, want.float() / scale, msg=name, **tolerance)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("num_frames", [1, 3, 4, 9])
def test_blend_matches_the_product(num_frames):
    compare_blend(num_frames, num_bases=47, rows=5000, device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_half_tables_blend_in_float32():
    compare_blend(4, num_bases=47, rows=5000, device="cuda", dtype=torch.float16)


def test_mismatched_coefficients_are_named():
    pytest.importorskip("triton")
    from nerfblend_ns.encodings.triton_blend import blend_tables

    with pytest.raises(ValueError, match="3 coefficients per frame for 4 basis tables"):
        blend_tables(torch.zeros(2, 3), torch.zeros(4, 5, 2))


@needs_triton
def test_interpreted_blend_matches_the_product_on_cpu():
    run_interpreted(__file__)


if __name__ == "__main__":
    for frames in (1, 5):
        compare_blend(frames, num_bases=3, rows=700, device="cpu")
