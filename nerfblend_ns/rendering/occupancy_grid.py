"""The occupancy grid: which cells of the scene box the head may fill, and marching through them.

One grid serves training and rendering. Training refreshes it from the max density over the neutral
head and each basis at its largest training coefficient (paper §3.3), so it is the union of every
expression's head; a rendered frame shows one expression, which fills part of those cells, so a render
may march that expression's own grid (`expression_binaries`), a subset of the union.
"""

import dataclasses
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
import torch.distributed as dist
from jaxtyping import Bool, Float, Int
from nerfacc import OccGridEstimator
from torch import Tensor

from nerfstudio.cameras.cameras import Cameras

from nerfblend_ns.fields.nerfblend_field import NerfBlendField
from nerfblend_ns.rendering.occupancy_ray_marching import SigmaFn, grown_by_one_cell, march_rays
from nerfblend_ns.rendering.visual_hull import VisualHullConfig, training_hull
from nerfblend_ns.spatial_order import morton_order

DensityFn = Callable[[Float[Tensor, "n 3"]], Float[Tensor, "n 1"]]
"""Positions in scene units -> density σ."""
Samples = Tuple[Int[Tensor, "s"], Float[Tensor, "s"], Float[Tensor, "s"]]
"""Packed samples: ray_indices, t_starts, t_ends."""


@dataclass
class OccupancyGridConfig:
    """The occupancy grid over the scene box and the marching through it."""

    resolution: int = 128
    """Cells per axis of the grid over the scene box."""
    update_interval: int = 16
    """Training steps between grid updates."""
    warmup_steps: int = 256
    """Training steps during which every update re-evaluates all cells."""
    threshold: float = 0.01
    """Opacity σ·Δt (Δt: the training step) above which a cell counts as occupied."""
    chunk: int = 1 << 20
    """Density evaluations per chunk of an update (bounds its memory: ~3 GB at the paper's size)."""
    half_precision: bool = True
    """Evaluate an update's MLPs under float16 autocast on CUDA, as the paper's code does; its (K + 1)·N
    MLP evaluations dominate an update. Off: float32."""
    expression_aware: bool = True
    """Build the grid from the max density over h0 and h0 + ŵ_i·h_i (paper §3.3); off: neutral head only."""
    training_step_size: Optional[float] = None
    """Marching step of training in scene units (default: box diagonal / 1000); also the Δt of `threshold`.
    Rendering outside training marches a multiple of it (the renderer's `step_scale`)."""
    near_plane: float = 0.05
    """Nearest distance from the camera at which samples are taken."""
    far_plane: float = 1000.0
    """Farthest distance from the camera at which samples are taken."""
    visual_hull: VisualHullConfig = dataclasses.field(default_factory=VisualHullConfig)
    """Empty space carved from the grid by the training frames' head masks."""


def occupancy_density_fn(
    field: NerfBlendField,
    largest_coefficients: Float[Tensor, "k"],
    step_size: float,
    expression_aware: bool,
    chunk: int,
    half_precision: bool = False,
) -> Callable[[Tensor], Tensor]:
    """x [N, 3] -> σ·Δt [N, 1]: the max over the field's basis expressions (the neutral one and each basis at
    `largest_coefficients`: `field.expression_aware_density`), or the neutral head only.

    ``half_precision`` runs the MLPs under float16 autocast on CUDA (CPU stays float32): an
    occupancy threshold does not need float32 densities, and the update's (K + 1)·N MLP
    evaluations are most of its time.
    """

    def density(points: Float[Tensor, "n 3"]) -> Float[Tensor, "n 1"]:
        # The grid update draws cells at random; neighbours evaluated together read the bases'
        # table rows from cache rather than from device memory (about 40% off the update's lookups).
        order = morton_order(points)
        # The expressions evaluated per point multiply its memory, so the chunk shrinks with their number.
        per_chunk = max(1, chunk // field.occupancy_expressions) if expression_aware else chunk
        parts = []
        with torch.autocast("cuda", dtype=torch.float16, enabled=half_precision and points.is_cuda):
            for start in range(0, points.shape[0], per_chunk):
                x = points[order[start : start + per_chunk]]
                parts.append(field.expression_aware_density(x, largest_coefficients) if expression_aware else field.neutral_density(x))
        in_order = torch.cat(parts)
        return torch.empty_like(in_order).index_copy_(0, order, in_order) * step_size

    return density


def expression_grid(
    binary: Bool[Tensor, "x y z"],
    aabb: Float[Tensor, "6"],
    density_fn: DensityFn,
    step_size: float,
    threshold: float,
    chunk: int = 1 << 18,
) -> Bool[Tensor, "x y z"]:
    """Cells of `binary` where σ·Δt at the cell centre exceeds `threshold` for `density_fn`, grown by one
    cell: a surface can cross a cell away from its centre, and then it lies near a neighbour's centre."""
    cells = torch.nonzero(binary)  # [M, 3]
    cell_size = (aabb[3:] - aabb[:3]) / torch.tensor(binary.shape, device=aabb.device)
    centres = aabb[:3] + (cells + 0.5) * cell_size  # [M, 3]
    opacity = torch.cat(
        [density_fn(centres[start : start + chunk]).reshape(-1) for start in range(0, len(centres), chunk)]
    ) * step_size  # [M]
    seeds = torch.zeros(binary.shape, dtype=torch.bool, device=binary.device)
    filled = cells[opacity > threshold]
    seeds[filled[:, 0], filled[:, 1], filled[:, 2]] = True
    return grown_by_one_cell(seeds) & binary


class OccupancyGrid(OccGridEstimator):
    """One level of `config.resolution`³ cells over the scene box (nerfacc's estimator: its buffers `occs`
    and `binaries`, its update), with the project's update, broadcast, per-expression grids and marching.

    Every grid that is marched is `binaries` or a subset of it, so a per-cell restriction (the visual
    hull, `carve`) is applied to `binaries` after each of nerfacc's updates.

    Args:
        aabb: [2, 3] the scene box.
    """

    def __init__(self, aabb: Float[Tensor, "2 3"], config: OccupancyGridConfig) -> None:
        super().__init__(roi_aabb=aabb.flatten(), resolution=config.resolution, levels=1)
        self.config = config
        self.training_step_size = config.training_step_size or float((aabb[1] - aabb[0]).norm()) / 1000.0
        self._updates = 0
        self._expression_cache: Optional[Tuple[tuple, Optional[Tensor]]] = None
        self._hull: Optional[Bool[Tensor, "x y z"]] = None

    def carve(self, cameras: Cameras, head_masks: Bool[Tensor, "n h w"]) -> None:
        """Empties, now and after every update, the cells outside the visual hull of the training frames'
        `head_masks` seen from their `cameras` (`rendering/visual_hull.py`); a no-op unless
        `config.visual_hull.enabled`."""
        if not self.config.visual_hull.enabled:
            return
        self._hull = training_hull(
            self.config.visual_hull, self.aabbs[0], self.config.resolution, cameras, head_masks
        ).to(self.binaries.device)
        self.binaries &= self._hull

    def update(self, step: int, field: NerfBlendField, largest_coefficients: Float[Tensor, "k"]) -> None:
        """nerfacc's update on its schedule (all cells while warming up, then a quarter), from
        `occupancy_density_fn` with each basis at its `largest_coefficients` (the training maximum), ANDed
        with the visual hull (`carve`), then rank 0's grid to every process."""
        config = self.config
        self.update_every_n_steps(
            step=step,
            occ_eval_fn=occupancy_density_fn(
                field, largest_coefficients, self.training_step_size, config.expression_aware, config.chunk,
                config.half_precision,
            ),
            occ_thre=config.threshold,
            warmup_steps=config.warmup_steps,
            n=config.update_interval,
        )
        if self._hull is not None:
            self.binaries &= self._hull
        self._updates += 1
        self.broadcast()

    def broadcast(self) -> None:
        """Overwrites this process's `occs` and `binaries` with rank 0's; a no-op unless torch.distributed
        runs more than one process.

        Each process refreshes its grid from cells and jitter drawn with its own random stream, so left
        alone the ranks would skip different space while training one shared field. DDP as nerfstudio
        builds it also copies rank 0's buffers before each training forward; this holds from the update
        on, and whatever the wrapper's buffer setting.
        """
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
            return
        # Marching reads the bits and the next update decays the values: both must agree across ranks.
        for buffer in (self.occs, self.binaries):
            dist.broadcast(buffer, src=0)

    def march(
        self,
        origins: Float[Tensor, "r 3"],
        directions: Float[Tensor, "r 3"],
        step_size: float,
        stratified: bool,
        sigma_fn: Optional[SigmaFn] = None,
        binaries: Optional[Bool[Tensor, "1 x y z"]] = None,
    ) -> Samples:
        """Samples every `step_size` where `binaries` (default: the training grid) is occupied, between the
        near and far planes; with `sigma_fn`, without the samples hidden behind opaque ones."""
        return march_rays(
            self.binaries if binaries is None else binaries, self.aabbs, origins, directions, step_size,
            self.config.near_plane, self.config.far_plane, stratified, sigma_fn,
        )

    def expression_binaries(
        self, coefficients: Float[Tensor, "b k"], density_fn: Callable[[], DensityFn]
    ) -> Bool[Tensor, "1 x y z"]:
        """The grid to march for rays of the `coefficients`: that one expression's grid (`expression_grid`
        of `density_fn()`, its density), or the training grid for several expressions.

        Building a grid costs a 512² frame about as much as it saves (docs/speed.md), so an expression gets
        one when it is rendered a second time in a row (a viewer's next frame; the next chunk of rays that
        nerfstudio hands over chunk by chunk): a video whose expression changes every frame marches the
        training grid. The last grid is kept while the expression and the training grid stay the same.
        """
        trained = self.binaries
        if coefficients.shape[0] != 1 or trained.shape[0] != 1:
            return trained
        key = (self._updates, trained.data_ptr(), trained._version, coefficients.cpu().numpy().tobytes())
        if self._expression_cache is None or self._expression_cache[0] != key:
            self._expression_cache = (key, None)
            return trained
        if self._expression_cache[1] is None:
            grid = expression_grid(
                trained[0], self.aabbs[0], density_fn(), self.training_step_size, self.config.threshold
            )
            self._expression_cache = (key, grid[None])
        return self._expression_cache[1]
