"""Empty space carved by the training frames' head masks (a visual hull), as a mask on occupancy cells.

A point that every training view sees outside the head holds nothing the images could show, yet the
photometric loss alone leaves density there whenever some background colour happens to match (the
clouds beside the head in views turned further than the training views). The hull is the union over
all training frames, so a mouth opened in a few frames stays inside it.

Tolerances: silhouettes are grown by a few pixels (mask errors, tracking error, and the cell's own
footprint, since a cell is judged by its centre); a cell is carved only when at least `min_views`
views see it and a fraction ≥ `background_fraction` of those see background there; a cell seen by
fewer views (behind the head, outside the frames) is kept.
"""

import math
from dataclasses import dataclass
import torch
from jaxtyping import Bool, Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor

from nerfblend_ns.mask_hull import cell_centres, visual_hull


@dataclass
class VisualHullConfig:
    """Occupancy cells outside the head in the training views hold no density."""

    enabled: bool = False
    """Carve the occupancy grid with the training frames' head masks after every update."""
    mask_size: int = 128
    """Masks are reduced so that their longer side has this many pixels; a reduced pixel is head if any
    pixel under it is."""
    dilation: int = 2
    """Pixels (of the reduced masks) by which each silhouette grows before carving: covers mask and
    tracking errors and a cell's own footprint."""
    min_views: int = 8
    """Cells seen by fewer training views than this are kept."""
    background_fraction: float = 1.0
    """A seen cell is carved when at least this fraction of the views that see it see background there.
    1: a single frame that sees head keeps it (a rare expression, the open jaw, is never carved)."""


def reduced_silhouettes(masks: Bool[Tensor, "n h w"], size: int, dilation: int, frames_per_chunk: int = 64) -> Bool[Tensor, "n hs ws"]:
    """Head masks reduced by max-pooling to `size` pixels on their longer side, then grown by `dilation`
    pixels (a (2·dilation + 1)² max filter)."""
    if masks.dim() != 3 or masks.shape[0] == 0:
        raise ValueError(f"need [N, H, W] head masks of at least one frame, got shape {tuple(masks.shape)}")
    factor = max(1, math.ceil(max(masks.shape[1:]) / size))
    parts = []
    for start in range(0, masks.shape[0], frames_per_chunk):
        chunk = masks[start : start + frames_per_chunk, None].to(torch.float16 if masks.is_cuda else torch.float32)
        pooled = torch.nn.functional.max_pool2d(chunk, factor, stride=factor, ceil_mode=True)
        if dilation > 0:
            pooled = torch.nn.functional.max_pool2d(pooled, 2 * dilation + 1, stride=1, padding=dilation)
        parts.append(pooled[:, 0] > 0)
    return torch.cat(parts)


def training_hull(
    config: VisualHullConfig, aabb: Float[Tensor, "6"], resolution: int, cameras: Cameras, masks: Bool[Tensor, "n h w"]
) -> Bool[Tensor, "r r r"]:
    """The occupancy cells (resolution³ over `aabb`) that `config` allows, from every training frame's
    camera and head mask (masks at the cameras' resolution or any other), on the masks' device."""
    device = masks.device
    intrinsics = torch.cat((cameras.fx, cameras.fy, cameras.cx, cameras.cy), dim=-1).to(device)  # [N, 4]
    image_sizes = torch.cat((cameras.height, cameras.width), dim=-1).to(device)  # [N, 2]
    silhouettes = reduced_silhouettes(masks, config.mask_size, config.dilation)
    return visual_hull(
        cell_centres(aabb.to(device).float(), resolution), intrinsics, image_sizes,
        cameras.camera_to_worlds.to(device), silhouettes, config.min_views, config.background_fraction,
    )
