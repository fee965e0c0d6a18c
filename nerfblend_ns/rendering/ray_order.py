"""An order of rays in which neighbours in the list are neighbours in the picture.

A program of the fused renderer walks a block of consecutive rays until the slowest of them is done, so
a block that mixes rays through the head with rays through empty space leaves most of its lanes idle.
Cameras give rays in raster order, which makes a block a one-pixel strip across the head's silhouette;
along a Z-order curve of the ray directions a block is a compact tile whose rays need similar numbers of
samples.
"""

import torch
import torch.nn.functional as F
from jaxtyping import Float, Int
from torch import Tensor

from nerfblend_ns.spatial_order import MORTON_CODE_BITS, morton_codes

MAX_SLOPE = 8.0
"""Bound on a ray's offset across the mean direction per unit along it (83°): wilder rays share the edge cells."""


def _first_step_across(directions: Float[Tensor, "r 3"], mean: Float[Tensor, "3"]) -> Float[Tensor, "3"]:
    """Unit vector across `mean` along the step from the first ray to the second: cameras give rays row by
    row, and Z-order cells aligned with the rows hold whole tiles of pixels (a rotated grid splits them).
    Any other vector across the mean where there is no such step."""
    first = directions[:2] / (directions[:2] @ mean).clamp_min(1e-3)[:, None]  # on the plane one unit along the mean
    fallback = F.one_hot(mean.abs().argmin(), 3).to(mean.dtype)  # the axis least parallel to the mean
    # Chosen on the device: a host-side test would wait for the GPU.
    step = torch.where((first[-1] - first[0]).norm() > 1e-9, first[-1] - first[0], fallback)
    return F.normalize(step - (step @ mean) * mean, dim=0)


def coherent_order(directions: Float[Tensor, "r 3"], table_index: Int[Tensor, "r"]) -> Int[Tensor, "r"]:
    """Permutation that groups rays by table, then orders them along a Z-order curve of their directions'
    two coordinates across the mean direction (NaN directions count as zero)."""
    if directions.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long, device=directions.device)
    directions = torch.nan_to_num(directions.float(), nan=0.0, posinf=0.0, neginf=0.0)
    mean = directions.mean(dim=0)
    mean = F.normalize(torch.where(mean.norm() > 1e-6, mean, torch.tensor([0.0, 0.0, 1.0], device=mean.device)), dim=0)
    across = _first_step_across(directions, mean)
    # Where the rays cross the plane one unit along the mean: for a pinhole camera the pixel grid itself,
    # so that Z-order blocks of rays are blocks of pixels (clamped: rays far off the mean are few).
    depth = (directions @ mean).clamp_min(1e-3)
    coordinates = directions @ torch.stack((across, torch.linalg.cross(mean, across)), dim=1) / depth[:, None]
    coordinates = coordinates.clamp(-MAX_SLOPE, MAX_SLOPE)  # [R, 2]
    return torch.argsort(table_index.long() << MORTON_CODE_BITS[2] | morton_codes(coordinates))
