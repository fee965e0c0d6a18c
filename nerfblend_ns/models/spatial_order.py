"""An order of 3-D points that keeps neighbours together: the Morton (Z-order) curve.

Evaluated in this order, consecutive points share hash-grid rows, which then come from cache
rather than device memory; in random order every corner read of a large table is a miss.
"""

import torch
from jaxtyping import Float, Int
from torch import Tensor

_BITS = 10
"""Per axis: a 1024³ lattice over the points' bounding box, codes of 30 bits."""


def _spread_bits(values: Int[Tensor, "n"]) -> Int[Tensor, "n"]:
    """Moves bit i of a 10-bit value to bit 3i."""
    values = (values | (values << 16)) & 0xFF0000FF
    values = (values | (values << 8)) & 0x0300F00F
    values = (values | (values << 4)) & 0x030C30C3
    return (values | (values << 2)) & 0x09249249


def morton_order(points: Float[Tensor, "n 3"]) -> Int[Tensor, "n"]:
    """Permutation of the points along the Z-order curve of their bounding box."""
    low, high = points.amin(dim=0), points.amax(dim=0)
    lattice = ((points - low) / (high - low).clamp(min=1e-12) * (2**_BITS - 1)).long()  # [N, 3]
    codes = _spread_bits(lattice[:, 0]) | (_spread_bits(lattice[:, 1]) << 1) | (_spread_bits(lattice[:, 2]) << 2)
    return torch.argsort(codes)
