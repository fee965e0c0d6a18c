"""The density that the occupancy grid is built from, evaluated in chunks to bound memory."""

from typing import Callable

import torch
from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.fields.nerfblend_field import NerfBlendField
from nerfblend_ns.models.spatial_order import morton_order


def occupancy_density_fn(
    field: NerfBlendField,
    basis_scales: Float[Tensor, "k"],
    step_size: float,
    expression_aware: bool,
    chunk: int,
    half_precision: bool = False,
) -> Callable[[Tensor], Tensor]:
    """x [N, 3] -> σ·Δt [N, 1]: the max over the K + 1 basis expressions, or the neutral head only.

    ``half_precision`` runs the MLPs under float16 autocast on CUDA (CPU stays float32): an
    occupancy threshold does not need float32 densities, and the update's (K + 1)·N MLP
    evaluations are most of its time.
    """

    def density(points: Float[Tensor, "n 3"]) -> Float[Tensor, "n 1"]:
        # The grid update draws cells at random; neighbours evaluated together read the bases'
        # table rows from cache rather than from device memory (about 40% off the update's lookups).
        order = morton_order(points)
        # The K + 1 evaluations multiply memory per point, so the chunk shrinks with K.
        per_chunk = max(1, chunk // (basis_scales.numel() + 1)) if expression_aware else chunk
        parts = []
        with torch.autocast("cuda", dtype=torch.float16, enabled=half_precision and points.is_cuda):
            for start in range(0, points.shape[0], per_chunk):
                x = points[order[start : start + per_chunk]]
                parts.append(field.expression_aware_density(x, basis_scales) if expression_aware else field.neutral_density(x))
        in_order = torch.cat(parts)
        return torch.empty_like(in_order).index_copy_(0, order, in_order) * step_size

    return density
