"""An order of 3-D points that keeps neighbours together: the Morton (Z-order) curve.

Evaluated in this order, consecutive points share hash-grid rows, which then come from cache
rather than device memory; in random order every corner read of a large table is a miss.
"""

import torch
from jaxtyping import Float, Int
from torch import Tensor

LATTICE_BITS = 10
"""Per axis: a 1024^D lattice over the points' bounding box, codes of 10·D bits."""
_SPREAD_STEPS = {
    2: ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)),
    3: ((16, 0xFF0000FF), (8, 0x0300F00F), (4, 0x030C30C3), (2, 0x09249249)),
}
"""(shift, mask) steps that move bit i of a 10-bit value to bit D·i, for D = 2 and 3."""
MORTON_CODE_BITS = {dims: LATTICE_BITS * dims for dims in _SPREAD_STEPS}
"""Bits of a code in D dimensions."""


def _spread_bits(values: Int[Tensor, "n"], dims: int = 3) -> Int[Tensor, "n"]:
    """Moves bit i of a 10-bit value to bit dims·i."""
    for shift, mask in _SPREAD_STEPS[dims]:
        values = (values | (values << shift)) & mask
    return values


def morton_codes(points: Float[Tensor, "n d"]) -> Int[Tensor, "n"]:
    """Z-order codes of 2-D or 3-D points on the lattice over their bounding box."""
    low, high = points.amin(dim=0), points.amax(dim=0)
    lattice = ((points - low) / (high - low).clamp(min=1e-12) * (2**LATTICE_BITS - 1)).long()  # [N, D]
    return interleaved_bits(lattice)


def interleaved_bits(lattice: Int[Tensor, "n d"]) -> Int[Tensor, "n"]:
    """Z-order codes of 2-D or 3-D integer lattice points with coordinates in [0, 1024)."""
    dims = lattice.shape[1]
    codes = _spread_bits(lattice[:, 0], dims)
    for axis in range(1, dims):
        codes = codes | (_spread_bits(lattice[:, axis], dims) << axis)
    return codes


def morton_order(points: Float[Tensor, "n 3"]) -> Int[Tensor, "n"]:
    """Permutation of the points along the Z-order curve of their bounding box."""
    return torch.argsort(morton_codes(points))
