"""The density that the occupancy grid is built from, evaluated in chunks to bound memory."""

from typing import Callable

import torch
from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.fields.nerfblend_field import NerfBlendField


def occupancy_density_fn(
    field: NerfBlendField, basis_scales: Float[Tensor, "k"], step_size: float, expression_aware: bool, chunk: int
) -> Callable[[Tensor], Tensor]:
    """x [N, 3] -> σ·Δt [N, 1]: the max over the K + 1 basis expressions, or the neutral head only."""

    def density(points: Float[Tensor, "n 3"]) -> Float[Tensor, "n 1"]:
        # The K + 1 evaluations multiply memory per point, so the chunk shrinks with K.
        per_chunk = max(1, chunk // (basis_scales.numel() + 1)) if expression_aware else chunk
        parts = []
        for start in range(0, points.shape[0], per_chunk):
            x = points[start : start + per_chunk]
            parts.append(field.expression_aware_density(x, basis_scales) if expression_aware else field.neutral_density(x))
        return torch.cat(parts) * step_size

    return density
