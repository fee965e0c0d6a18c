"""A penalty on density at random points of the occupied cells, behind the surfaces the training rays stop at,
or of the cells no training ray sees, for the space no training ray reaches.

A point behind the head in every training view (the back of the skull seen from the front, or the space
behind the hair's outline) gets no gradient from the colour or mask loss: each training ray has stopped
before it. Whatever density the field leaves there shows once a view turns further than the training
views did: on the synthetic head, a hair-coloured fringe beyond the back of the head's outline, inside
every training silhouette, so that no visual hull can carve it (docs/quality.md). This term asks every
occupied cell for as little opacity as the frames allow: the surfaces the frames see are held by the
colour loss, the rest empties. Each point's opacity over one marching step, 1 − exp(−σ·Δt), saturates on
solid surfaces, so the term weighs most on thin density.

Points of the occupied cells include the surfaces the frames see, where the term pulls against the colour
loss: on the synthetic head it cleared the fringe but left the brows and eyes, thin and seen by few rays,
fainter. Points drawn behind the depth at which this step's training rays turned opaque, beyond a margin,
leave every surface those rays see to the colour loss, but a ray that grazes the side of the head passes, behind
its depth, through the side that other views see (on the synthetic head: white holes in the turned side). Points
of the occupied cells that no training ray has lately seen (`seen_cells.py`) leave to the colour loss every
surface any frame shows, and no more.
"""

from typing import Optional, Tuple

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from nerfblend_ns.rendering.occupancy_ray_marching import occupied, ray_box_interval


def occupied_cell_points(
    occupied_cells: Bool[Tensor, "x y z"], aabb: Float[Tensor, "6"], count: int, generator: Optional[torch.Generator] = None
) -> Float[Tensor, "n 3"]:
    """`count` points drawn uniformly from the occupied cells of a grid over `aabb` (min xyz, max xyz; cells
    indexed [x, y, z] as nerfacc's): a random occupied cell, then a uniform point in it; no points when no cell is
    occupied."""
    cells = occupied_cells.nonzero()  # [M, 3]
    if cells.shape[0] == 0 or count <= 0:
        return aabb.new_zeros((0, 3))
    device = occupied_cells.device
    pick = torch.randint(cells.shape[0], (count,), generator=generator, device=device)
    within = torch.rand(count, 3, generator=generator, device=device, dtype=aabb.dtype)
    size = torch.tensor(occupied_cells.shape, device=device, dtype=aabb.dtype)
    return aabb[:3] + (cells[pick].to(aabb.dtype) + within) * (aabb[3:] - aabb[:3]) / size


@torch.no_grad()
def points_behind_surfaces(
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    depth: Float[Tensor, "r"],
    opacity: Float[Tensor, "r"],
    occupied_cells: Bool[Tensor, "x y z"],
    aabb: Float[Tensor, "6"],
    margin: float,
    count: int,
    generator: Optional[torch.Generator] = None,
) -> Tuple[Float[Tensor, "n 3"], Int[Tensor, "n"]]:
    """Up to `count` points on the rays that turned opaque (opacity over 0.5), each uniform between `margin`
    beyond the ray's depth and where it leaves `aabb`, kept where an occupied cell holds it; with each point's
    ray, in ray order (the rays' frames stay grouped, as the lookup wants them). The points carry no gradient:
    the term's gradient is the density's at them."""
    device = origins.device
    opaque = (opacity > 0.5).nonzero()[:, 0]  # [H]
    if opaque.numel() == 0 or count <= 0:
        return origins.new_zeros((0, 3)), torch.zeros(0, dtype=torch.long, device=device)
    rays = opaque[torch.randint(opaque.numel(), (count,), generator=generator, device=device)].sort().values  # [N]
    origin, direction = origins[rays], directions[rays]  # [N, 3]
    exits = ray_box_interval(origin, direction, aabb)[1]  # [N]
    start = depth[rays] + margin
    t = start + torch.rand(rays.shape, generator=generator, device=device, dtype=origins.dtype) * (exits - start)
    points = origin + t[:, None] * direction  # [N, 3]
    keep = (exits > start) & occupied(occupied_cells, aabb, points)
    return points[keep], rays[keep]


def step_opacity_penalty(density: Float[Tensor, "n"], step_size: float) -> Float[Tensor, ""]:
    """Mean over the points of their opacity over one marching step, 1 − exp(−σ·Δt); 0 for no points."""
    if density.numel() == 0:
        return density.sum()
    return (1.0 - torch.exp(-density * step_size)).mean()
