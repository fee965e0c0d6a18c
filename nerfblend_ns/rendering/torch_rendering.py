"""Rendering rays of a field with torch operators: marching through the occupancy grid, then front-to-back
evaluation with the field's own forward. The reference of the fused kernel (`render_rays_fused`, same
signature) and what runs where the kernel cannot: on CPU, for other fields, for decoders whose sizes a
tensor-core product cannot take.

Marching is the reference marcher's on every device: its steps start where each ray enters the box, as the
kernel's do; nerfacc's CUDA traversal (training's marcher) places them elsewhere, and the two paths' pictures
then differ by up to 0.08 in colour on a coarse grid."""

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

from nerfblend_ns.rendering.front_to_back import render_front_to_back
from nerfblend_ns.rendering.occupancy_ray_marching import march_rays_reference
from nerfblend_ns.rendering.packed_volume_rendering import RenderedRays, sample_positions
from nerfblend_ns.rendering.render_settings import RenderSettings


@torch.no_grad()
def render_rays_torch(
    field: nn.Module,
    tables: Float[Tensor, "b p f"],
    table_index: Int[Tensor, "r"],
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    binary: Bool[Tensor, "x y z"],
    grid_aabb: Float[Tensor, "6"],
    settings: RenderSettings,
    coherent: bool = False,
) -> RenderedRays:
    """Colour, opacity and depth of every ray, each ray shaded in the blended table `tables[table_index]`.
    `coherent` is the fused renderer's launch-order hint; the result here does not depend on it."""
    ray_indices, t_starts, t_ends = march_rays_reference(
        binary, grid_aabb, origins, directions, settings.step_size, settings.near_plane, settings.far_plane,
        stratified=False,
    )
    half = settings.half_precision and origins.is_cuda

    def field_fn(ids: Int[Tensor, "n"]) -> tuple[Float[Tensor, "n 3"], Float[Tensor, "n"]]:
        rays = ray_indices[ids]
        positions = sample_positions(origins, directions, t_starts[ids], t_ends[ids], rays)
        with torch.autocast("cuda", dtype=torch.float16, enabled=half):
            rgb, density = field(positions, directions[rays], tables, table_index[rays])
        return rgb.float(), density.float().squeeze(-1)

    return render_front_to_back(
        ray_indices, t_starts, t_ends, origins.shape[0], field_fn, settings.alpha_threshold, settings.early_stop_eps
    )
