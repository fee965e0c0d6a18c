"""Samples along rays, only where the occupancy grid is occupied (nerfacc's OccGridEstimator semantics)."""

from typing import Callable, Optional, Sequence

import torch
from jaxtyping import Bool, Float, Int
from nerfacc.grid import traverse_grids
from nerfacc.volrend import render_visibility_from_density
from torch import Tensor

from nerfblend_ns.rendering.packed_volume_rendering import visible_samples_reference

SigmaFn = Callable[[Tensor, Tensor, Tensor], Tensor]
"""(t_starts [S], t_ends [S], ray_indices [S]) -> densities [S]."""

EARLY_STOP_EPS = 1e-4
"""Transmittance under which the rest of a ray is skipped (nerfacc's default)."""


def ray_box_interval(
    origins: Float[Tensor, "r 3"], directions: Float[Tensor, "r 3"], aabb: Float[Tensor, "6"]
) -> tuple[Float[Tensor, "r"], Float[Tensor, "r"]]:
    """Where each ray enters and leaves `aabb` (min xyz, max xyz): t_near [R], t_far [R]; t_near > t_far on a miss."""
    safe = torch.where(directions.abs() < 1e-12, torch.full_like(directions, 1e-12), directions)
    to_low = (aabb[:3] - origins) / safe
    to_high = (aabb[3:] - origins) / safe
    t_near = torch.minimum(to_low, to_high).amax(dim=-1)
    t_far = torch.maximum(to_low, to_high).amin(dim=-1)
    return t_near, t_far


def grid_cells(
    shape: Sequence[int], aabb: Float[Tensor, "6"], points: Float[Tensor, "n 3"]
) -> tuple[Int[Tensor, "n 3"], Bool[Tensor, "n"]]:
    """Each point's cell [x, y, z] of a grid of `shape` over `aabb` (clamped into the grid), and whether the
    point lies inside the grid at all."""
    resolution = torch.tensor(tuple(shape), device=points.device)
    cell = ((points - aabb[:3]) / (aabb[3:] - aabb[:3]) * resolution).floor().long()
    inside = ((cell >= 0) & (cell < resolution)).all(dim=-1)
    return torch.minimum(cell.clamp(min=0), resolution - 1), inside


def grown_by_one_cell(cells: Bool[Tensor, "x y z"]) -> Bool[Tensor, "x y z"]:
    """`cells` and each of their 26 neighbours."""
    return torch.nn.functional.max_pool3d(cells[None, None].float(), kernel_size=3, stride=1, padding=1)[0, 0] > 0


def occupied(binary: Bool[Tensor, "x y z"], aabb: Float[Tensor, "6"], points: Float[Tensor, "n 3"]) -> Bool[Tensor, "n"]:
    """Whether each point lies in an occupied cell of `binary`, a grid over `aabb` (False outside it)."""
    cell, inside = grid_cells(binary.shape, aabb, points)
    return inside & binary[cell[:, 0], cell[:, 1], cell[:, 2]]


def march_rays_reference(
    binary: Bool[Tensor, "x y z"],
    aabb: Float[Tensor, "6"],
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    step_size: float,
    near_plane: float,
    far_plane: float,
    stratified: bool,
    sigma_fn: Optional[SigmaFn] = None,
    alpha_threshold: float = 0.0,
) -> tuple[Int[Tensor, "s"], Float[Tensor, "s"], Float[Tensor, "s"]]:
    """Fixed steps from where each ray enters the box; keeps steps whose midpoint lies in an occupied cell."""
    t_near, t_far = ray_box_interval(origins, directions, aabb)
    t_near = t_near.clamp(min=near_plane)
    t_far = t_far.clamp(max=far_plane)
    span = (t_far - t_near).nan_to_num(0.0).clamp(min=0)  # a NaN ray has no samples
    num_steps = int(torch.ceil(span.max() / step_size).item()) if span.numel() else 0
    steps = torch.arange(num_steps, device=origins.device, dtype=origins.dtype)  # [T]
    t_starts = t_near[:, None] + step_size * steps[None]  # [R, T]
    if stratified:
        t_starts = t_starts + torch.rand_like(t_near)[:, None] * step_size
    t_ends = t_starts + step_size
    midpoints = origins[:, None] + directions[:, None] * ((t_starts + t_ends) / 2)[..., None]  # [R, T, 3]
    keep = ((t_starts + t_ends) / 2 < t_far[:, None]) & occupied(binary, aabb, midpoints.reshape(-1, 3)).reshape(t_starts.shape)
    ray_indices, step_indices = torch.nonzero(keep, as_tuple=True)
    t_starts, t_ends = t_starts[ray_indices, step_indices], t_ends[ray_indices, step_indices]
    if sigma_fn is not None and ray_indices.numel():
        sigmas = sigma_fn(t_starts, t_ends, ray_indices)
        visible = visible_samples_reference(
            t_starts, t_ends, sigmas, ray_indices, origins.shape[0], alpha_threshold, EARLY_STOP_EPS
        )
        ray_indices, t_starts, t_ends = ray_indices[visible], t_starts[visible], t_ends[visible]
    return ray_indices, t_starts, t_ends


def march_rays(
    binaries: Bool[Tensor, "levels x y z"],
    aabbs: Float[Tensor, "levels 6"],
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    step_size: float,
    near_plane: float,
    far_plane: float,
    stratified: bool,
    sigma_fn: Optional[SigmaFn] = None,
    alpha_threshold: float = 0.0,
) -> tuple[Int[Tensor, "s"], Float[Tensor, "s"], Float[Tensor, "s"]]:
    """Packed samples (ray_indices, t_starts, t_ends) through the grid `binaries` over `aabbs`: nerfacc's
    traversal on CUDA (what its `OccGridEstimator.sampling` runs, here on the grid given), the reference
    elsewhere."""
    if origins.is_cuda:
        near_planes = torch.full_like(origins[:, 0], near_plane)
        if stratified:
            near_planes += torch.rand_like(near_planes) * step_size
        intervals, samples, _ = traverse_grids(
            origins, directions, binaries, aabbs, near_planes=near_planes,
            far_planes=torch.full_like(origins[:, 0], far_plane), step_size=step_size, cone_angle=0.0,
        )
        t_starts, t_ends = intervals.vals[intervals.is_left], intervals.vals[intervals.is_right]
        ray_indices = samples.ray_indices
        if sigma_fn is None or t_starts.numel() == 0:
            return ray_indices, t_starts, t_ends
        visible = render_visibility_from_density(
            t_starts=t_starts, t_ends=t_ends, sigmas=sigma_fn(t_starts, t_ends, ray_indices),
            packed_info=samples.packed_info, early_stop_eps=EARLY_STOP_EPS, alpha_thre=alpha_threshold,
        )
        return ray_indices[visible], t_starts[visible], t_ends[visible]
    if binaries.shape[0] != 1:
        raise NotImplementedError("the torch ray marcher supports single-level occupancy grids")
    return march_rays_reference(
        binaries[0], aabbs[0], origins, directions, step_size, near_plane, far_plane, stratified, sigma_fn,
        alpha_threshold,
    )
