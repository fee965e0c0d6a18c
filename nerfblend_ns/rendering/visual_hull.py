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
from typing import Tuple

import torch
from jaxtyping import Bool, Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor

CHUNK_ELEMENTS = 1 << 24
"""Cells × views projected at once: bounds the memory of a carve to a few hundred megabytes."""


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


def cell_centres(aabb: Float[Tensor, "6"], resolution: int) -> Float[Tensor, "r r r 3"]:
    """Centres of a resolution³ grid over `aabb` (min xyz, max xyz), indexed [x, y, z] as nerfacc's cells."""
    index = torch.arange(resolution, device=aabb.device, dtype=aabb.dtype) + 0.5
    grid = torch.stack(torch.meshgrid(index, index, index, indexing="ij"), dim=-1)  # [R, R, R, 3]
    return aabb[:3] + grid * (aabb[3:] - aabb[:3]) / resolution


def project_to_pixels(
    points: Float[Tensor, "c 3"], intrinsics: Float[Tensor, "v 4"], camera_to_world: Float[Tensor, "v 3 4"]
) -> Tuple[Float[Tensor, "v c"], Float[Tensor, "v c"], Float[Tensor, "v c"]]:
    """(x, y, depth) of every point in every view: image coordinates in pixels (x right, y down; pixel i
    covers [i, i + 1)) of undistorted pinhole cameras (fx, fy, cx, cy) with OpenGL camera-to-world
    matrices (looking down -z, y up), and the depth in front of the camera (≤ 0 behind it)."""
    rotation, origin = camera_to_world[:, :, :3].float(), camera_to_world[:, :, 3].float()
    # Camera coordinates: rows of R^T applied to (p - origin), for every view and point.
    local = torch.einsum("vji,vcj->vci", rotation, points[None].float() - origin[:, None])  # [V, C, 3]
    depth = -local[..., 2]
    fx, fy, cx, cy = intrinsics.float().unbind(-1)  # [V] each
    safe_depth = depth.clamp(min=1e-9)
    x = cx[:, None] + fx[:, None] * local[..., 0] / safe_depth
    y = cy[:, None] - fy[:, None] * local[..., 1] / safe_depth
    return x, y, depth


def visual_hull(
    centres: Float[Tensor, "*cells 3"],
    intrinsics: Float[Tensor, "n 4"],
    image_sizes: Float[Tensor, "n 2"],
    camera_to_world: Float[Tensor, "n 3 4"],
    silhouettes: Bool[Tensor, "n hs ws"],
    min_views: int,
    background_fraction: float,
    keep_unseen: bool = True,
) -> Bool[Tensor, "*cells"]:
    """Which points may hold density: False where at least `min_views` views see the point and a fraction
    ≥ `background_fraction` of them see background there, and with `keep_unseen` off also where fewer
    views see it (the shape the masks agree on, rather than the space they leave open). Views are undistorted pinhole cameras,
    (fx, fy, cx, cy) in pixels of images of (height, width) `image_sizes`, with OpenGL camera-to-world
    matrices (looking down -z, y up); `silhouettes` are their head masks at any resolution."""
    if not 0.0 < background_fraction <= 1.0:
        raise ValueError(f"background_fraction must lie in (0, 1], got {background_fraction}")
    num_views, height, width = silhouettes.shape
    if not (intrinsics.shape[0] == image_sizes.shape[0] == camera_to_world.shape[0] == num_views):
        raise ValueError(
            f"{num_views} silhouettes, {intrinsics.shape[0]} intrinsics, {image_sizes.shape[0]} image sizes and "
            f"{camera_to_world.shape[0]} poses: need one of each per view"
        )
    points = centres.reshape(-1, 3).float()  # [C, 3]
    seen = torch.zeros(points.shape[0], dtype=torch.int32, device=points.device)
    background = torch.zeros_like(seen)
    flat_silhouettes = silhouettes.reshape(-1)
    views_per_chunk = max(1, CHUNK_ELEMENTS // max(1, points.shape[0]))
    for start in range(0, num_views, views_per_chunk):
        views = slice(start, start + views_per_chunk)
        u, v, depth = project_to_pixels(points, intrinsics[views], camera_to_world[views])  # [V, C] each
        size = image_sizes[views].float()  # [V, 2] (height, width)
        inside = (depth > 0) & (u >= 0) & (u < size[:, 1:2]) & (v >= 0) & (v < size[:, 0:1])
        column = (u * (width / size[:, 1:2])).long().clamp(0, width - 1)
        row = (v * (height / size[:, 0:1])).long().clamp(0, height - 1)
        view_index = torch.arange(start, start + u.shape[0], device=points.device)[:, None]
        head = flat_silhouettes[(view_index * height + row) * width + column]  # [V, C]
        seen += inside.sum(0, dtype=torch.int32)
        background += (inside & ~head).sum(0, dtype=torch.int32)
    judged = seen >= min_views
    carved = judged & (background.float() >= background_fraction * seen.float())
    kept = ~carved if keep_unseen else judged & ~carved
    return kept.reshape(centres.shape[:-1])


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
