"""Level layout of a multi-resolution hash grid and the corner lookups of points in it.

All levels of one grid live in a single flat table of ``num_entries`` rows; level ``l``
owns rows ``offsets[l] : offsets[l] + level_sizes[l]``. A level with resolution ``R`` has
``R + 1`` vertices per axis. When its ``(R + 1)^3`` vertices fit in the per-level budget
it is dense (one row per vertex), otherwise vertices share rows through the instant-ngp
spatial hash.

Points outside the unit cube get zero trilinear weights: their features are zero and no
gradient reaches the tables from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor

HASH_PRIMES = (1, 2654435761, 805459861)
# Resolutions that are mathematically integral (e.g. 16 * 64**(5/15) = 64) come out of
# floating point a hair above or below; this margin keeps ceil from bumping them up.
_RESOLUTION_EPS = 1e-6


@dataclass(frozen=True)
class HashGridLayout:
    resolutions: tuple[int, ...]  # [L] cells per axis
    level_sizes: tuple[int, ...]  # [L] table rows per level
    offsets: tuple[int, ...]  # [L] first row of each level in the flat table
    dense: tuple[bool, ...]  # [L] True where vertices are indexed directly

    @property
    def num_levels(self) -> int:
        return len(self.resolutions)

    @property
    def num_entries(self) -> int:
        return self.offsets[-1] + self.level_sizes[-1]


def make_layout(
    num_levels: int = 16,
    log2_hashmap_size: int = 14,
    base_resolution: int = 16,
    max_resolution: int = 1024,
) -> HashGridLayout:
    """Resolution ``ceil(base * b^l)`` with ``b = (max / base)^(1 / (L - 1))``.

    ``ceil`` (not ``floor``) is what gives level 1 of the paper configuration its 23^3
    dense vertices (21.11 -> 22 cells) and the 246,456 rows per table.
    """
    growth = math.exp((math.log(max_resolution) - math.log(base_resolution)) / max(num_levels - 1, 1))
    budget = 2**log2_hashmap_size
    resolutions, sizes, offsets, dense = [], [], [], []
    offset = 0
    for level in range(num_levels):
        resolution = math.ceil(base_resolution * growth**level - _RESOLUTION_EPS)
        vertices = (resolution + 1) ** 3
        resolutions.append(resolution)
        sizes.append(min(vertices, budget))
        offsets.append(offset)
        dense.append(vertices <= budget)
        offset += sizes[-1]
    return HashGridLayout(tuple(resolutions), tuple(sizes), tuple(offsets), tuple(dense))


def level_table(layout: HashGridLayout, device: torch.device | None = None) -> Int[Tensor, "levels 4"]:
    """The layout as fused kernels read it: int32 (resolution, first row, rows, dense) per level."""
    rows = zip(layout.resolutions, layout.offsets, layout.level_sizes, layout.dense)
    return torch.tensor([[r, o, s, int(d)] for r, o, s, d in rows], dtype=torch.int32, device=device)


def corner_indices_and_weights(
    layout: HashGridLayout, positions: Float[Tensor, "n 3"]
) -> tuple[Int[Tensor, "n levels 8"], Float[Tensor, "n levels 8"]]:
    """Rows of the flat table holding the 8 cell corners of every point at every level, and
    their trilinear weights, corners ordered as in ``_combine_axes``."""
    device = positions.device
    resolution = torch.tensor(layout.resolutions, device=device)  # [L]
    level_size = torch.tensor(layout.level_sizes, device=device)  # [L]
    offset = torch.tensor(layout.offsets, device=device)  # [L]
    dense = torch.tensor(layout.dense, device=device)  # [L]

    inside = ((positions >= 0) & (positions <= 1)).all(dim=-1)  # [N]
    scaled = positions.clamp(0, 1)[:, None, :] * resolution[:, None].to(positions.dtype)  # [N, L, 3]
    # The upper face x = 1 belongs to the last cell, with fraction 1.
    cell = scaled.detach().floor().long().clamp(max=resolution[:, None] - 1)  # [N, L, 3]
    frac = scaled - cell.to(positions.dtype)  # [N, L, 3]

    # Per-axis terms are formed in int64 on [N, L, 3, 2] (the hash products overflow int32)
    # and combined at full [N, L, 8] size in int32, which halves the traffic of those passes.
    vertex = torch.stack((cell, cell + 1), dim=-1)  # [N, L, 3, 2]
    side = resolution + 1  # [L]
    strides = torch.stack((torch.ones_like(side), side, side * side), dim=-1)  # [L, 3]
    # Direct indices of hashed levels would not fit int32 and are never used.
    direct_terms = torch.where(dense[:, None, None], vertex * strides[:, :, None], 0).int()
    # Hashed levels hold exactly 2^log2_hashmap_size rows, so the modulo is a bit mask, and
    # masking each axis term before the xor equals masking after; the low bits are the same
    # with or without instant-ngp's uint32 wrap-around.
    primes = torch.tensor(HASH_PRIMES, device=device)[:, None]  # [3, 1]
    mask = (level_size - 1)[:, None, None]  # [L, 1, 1]
    hash_terms = ((vertex * primes) & mask).int()
    direct = _combine_axes(direct_terms, torch.add)  # [N, L, 8]
    hashed = _combine_axes(hash_terms, torch.bitwise_xor)  # [N, L, 8]
    indices = torch.where(dense[:, None], direct, hashed) + offset.int()[:, None]  # [N, L, 8] int32

    axis_weight = torch.stack((1 - frac, frac), dim=-1)  # [N, L, 3, 2]
    axis_weight[:, :, 0] *= inside[:, None, None].to(positions.dtype)
    weights = _combine_axes(axis_weight, torch.mul)  # [N, L, 8]
    return indices, weights


def _combine_axes(per_axis: Tensor, combine: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """[N, L, 3, 2] terms of the two vertices along each axis -> [N, L, 8] over the 8 corners,
    corner ``c`` taking the ``(c >> 2, c >> 1, c) & 1`` terms of ``(x, y, z)``."""
    x = per_axis[:, :, 0, :, None, None]
    y = per_axis[:, :, 1, None, :, None]
    z = per_axis[:, :, 2, None, None, :]
    return combine(combine(x, y), z).flatten(2)
