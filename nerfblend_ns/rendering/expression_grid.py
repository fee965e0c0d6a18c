"""An occupancy grid for one expression, for rendering.

The training grid is the union over the K + 1 basis expressions (paper §3.3): every cell that some
extreme expression fills. A rendered frame shows one expression, which fills part of those cells;
marching through the others costs field evaluations that add nothing to the image.
"""

from typing import Callable

import torch
from jaxtyping import Bool, Float
from torch import Tensor


def expression_grid(
    binary: Bool[Tensor, "x y z"],
    aabb: Float[Tensor, "6"],
    density_fn: Callable[[Tensor], Tensor],
    step_size: float,
    threshold: float,
    chunk: int = 1 << 18,
) -> Bool[Tensor, "x y z"]:
    """Cells of `binary` where σ·Δt at the cell centre exceeds `threshold` for `density_fn` (x [N, 3] -> σ [N, 1]),
    grown by one cell: a surface can cross a cell away from its centre, and then it lies near a
    neighbour's centre."""
    cells = torch.nonzero(binary)  # [M, 3]
    cell_size = (aabb[3:] - aabb[:3]) / torch.tensor(binary.shape, device=aabb.device)
    centres = aabb[:3] + (cells + 0.5) * cell_size  # [M, 3]
    opacity = torch.cat(
        [density_fn(centres[start : start + chunk]).reshape(-1) for start in range(0, len(centres), chunk)]
    ) * step_size  # [M]
    seeds = torch.zeros(binary.shape, dtype=torch.float32, device=binary.device)
    filled = cells[opacity > threshold]
    seeds[filled[:, 0], filled[:, 1], filled[:, 2]] = 1.0
    grown = torch.nn.functional.max_pool3d(seeds[None, None], kernel_size=3, stride=1, padding=1)[0, 0] > 0
    return grown & binary
