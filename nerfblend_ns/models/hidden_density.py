"""A penalty on density at random points of the occupied cells, for the space no training ray reaches.

A point behind the head in every training view (the back of the skull seen from the front, or the space
behind the hair's outline) gets no gradient from the colour or mask loss: each training ray has stopped
before it. Whatever density the field leaves there shows once a view turns further than the training
views did: on the synthetic head, a hair-coloured fringe beyond the back of the head's outline, inside
every training silhouette, so that no visual hull can carve it (docs/quality.md). This term asks every
occupied cell for as little opacity as the frames allow: the surfaces the frames see are held by the
colour loss, the rest empties. Each point's opacity over one marching step, 1 − exp(−σ·Δt), saturates on
solid surfaces, so the term weighs most on thin density.
"""

from typing import Optional

import torch
from jaxtyping import Bool, Float
from torch import Tensor


def occupied_cell_points(
    occupied: Bool[Tensor, "x y z"], aabb: Float[Tensor, "6"], count: int, generator: Optional[torch.Generator] = None
) -> Float[Tensor, "n 3"]:
    """`count` points drawn uniformly from the occupied cells of a grid over `aabb` (min xyz, max xyz; cells
    indexed [x, y, z] as nerfacc's): a random occupied cell, then a uniform point in it; no points when no cell is
    occupied."""
    cells = occupied.nonzero()  # [M, 3]
    if cells.shape[0] == 0 or count <= 0:
        return aabb.new_zeros((0, 3))
    device = occupied.device
    pick = torch.randint(cells.shape[0], (count,), generator=generator, device=device)
    within = torch.rand(count, 3, generator=generator, device=device, dtype=aabb.dtype)
    size = torch.tensor(occupied.shape, device=device, dtype=aabb.dtype)
    return aabb[:3] + (cells[pick].to(aabb.dtype) + within) * (aabb[3:] - aabb[:3]) / size


def step_opacity_penalty(density: Float[Tensor, "n"], step_size: float) -> Float[Tensor, ""]:
    """Mean over the points of their opacity over one marching step, 1 − exp(−σ·Δt); 0 for no points."""
    if density.numel() == 0:
        return density.sum()
    return (1.0 - torch.exp(-density * step_size)).mean()
