"""The visual hull of head masks seen by pinhole cameras: which points of space the masks agree may hold
the head, and the silhouette of such points in a view.

Shared by the training's occupancy carving (rendering/visual_hull.py), the tracker's consensus mask
outline (tracking/masks/consensus_outline.py) and the mask-consistency benchmark. Views are undistorted
pinhole cameras (fx, fy, cx, cy) in pixels, with OpenGL camera-to-world matrices (looking down -z, y up).
"""

from typing import Tuple

import cv2
import numpy as np
import torch
from jaxtyping import Bool, Float
from torch import Tensor

from nerfblend_ns.mask_holes import filled_holes

CHUNK_ELEMENTS = 1 << 24
"""Cells × views projected at once: bounds the memory of a carve to a few hundred megabytes."""
COARSEST_RESOLUTION = 40
"""The coarse-to-fine vote's first grid has at least this many cells per side (8 mm cells over the head's
ball): fine enough that no part of a head (an ear's rim) falls between its cells' centres unnoticed."""


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
    fx, fy, cx, cy = intrinsics.float().unbind(-1)  # [V] each
    zero, one = torch.zeros_like(fx), torch.ones_like(fx)
    # Rows (x·depth, y·depth, depth) of camera coordinates (X, Y, Z): depth = −Z, x·depth = fx·X − cx·Z,
    # y·depth = −fy·Y − cy·Z. Folded into one matrix per view, every point costs a single matrix product.
    lens = torch.stack([fx, zero, -cx, zero, -fy, -cy, zero, zero, -one], dim=-1).view(-1, 3, 3)
    to_image = lens @ rotation.transpose(1, 2)  # [V, 3, 3], applied to p − origin
    scaled = to_image @ points.float().T - (to_image @ origin[:, :, None])  # [V, 3, C]
    depth = scaled[:, 2]
    safe_depth = depth.clamp(min=1e-9)
    return scaled[:, 0] / safe_depth, scaled[:, 1] / safe_depth, depth


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
    # The lenses rescaled to the silhouettes' pixels (they may be at another resolution than the images).
    to_silhouette = torch.stack([width / image_sizes[:, 1].float(), height / image_sizes[:, 0].float()], dim=-1)  # [N, 2]
    lenses = intrinsics.float() * to_silhouette.repeat(1, 2)  # [N, 4]: (fx, cx) scale with x, (fy, cy) with y
    # Pixel indices into the stacked silhouettes fit int32, which halves the memory traffic, where they can.
    index_type = torch.int32 if num_views * height * width < 2**31 else torch.int64
    seen = torch.zeros(points.shape[0], dtype=torch.int32, device=points.device)
    head_views = torch.zeros_like(seen)
    flat_silhouettes = silhouettes.reshape(-1)
    views_per_chunk = max(1, CHUNK_ELEMENTS // max(1, points.shape[0]))
    for start in range(0, num_views, views_per_chunk):
        views = slice(start, start + views_per_chunk)
        u, v, depth = project_to_pixels(points, lenses[views], camera_to_world[views])  # [V, C] each
        inside = (depth > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
        # Truncation is the floor where it counts, inside the image; the pixels of points outside are not read.
        first = torch.arange(start, start + u.shape[0], device=points.device, dtype=index_type)[:, None] * (height * width)
        pixel = torch.where(inside, first + v.to(index_type) * width + u.to(index_type), 0)  # [V, C]
        seen += inside.sum(0, dtype=torch.int32)
        head_views += (flat_silhouettes[pixel] & inside).sum(0, dtype=torch.int32)
    background = seen - head_views
    judged = seen >= min_views
    carved = judged & (background.float() >= background_fraction * seen.float())
    kept = ~carved if keep_unseen else judged & ~carved
    return kept.reshape(centres.shape[:-1])


def consensus_cells(
    aabb: Float[Tensor, "6"],
    resolution: int,
    intrinsics: Float[Tensor, "n 4"],
    image_sizes: Float[Tensor, "n 2"],
    camera_to_world: Float[Tensor, "n 3 4"],
    silhouettes: Bool[Tensor, "n hs ws"],
    min_views: int,
    background_fraction: float,
) -> Bool[Tensor, "r r r"]:
    """The cells of a resolution³ grid over `aabb` that the masks agree hold the head: `visual_hull` without the
    unseen cells, computed coarse to fine (at half the resolution, itself coarse to fine down to
    COARSEST_RESOLUTION, then at full resolution only within one coarse cell of the coarse shape's surface),
    which on a head gives the same cells at a fraction of the cost. `resolution` must be even."""
    if resolution < 8 or resolution % 2:
        raise ValueError(f"the consensus grid's resolution must be even and at least 8, got {resolution}")

    def vote(points: Float[Tensor, "c 3"]) -> Bool[Tensor, "c"]:
        return visual_hull(points, intrinsics, image_sizes, camera_to_world, silhouettes, min_views, background_fraction, keep_unseen=False)

    half = resolution // 2
    if half >= 2 * COARSEST_RESOLUTION and half % 2 == 0:
        coarse = consensus_cells(aabb, half, intrinsics, image_sizes, camera_to_world, silhouettes, min_views, background_fraction)
    else:
        coarse = vote(cell_centres(aabb, half).reshape(-1, 3)).reshape(half, half, half)
    # A coarse cell whose 3×3×3 neighbourhood is not all alike may hold the surface: its fine cells are voted on.
    near_inside = torch.nn.functional.max_pool3d(coarse[None, None].float(), 3, stride=1, padding=1)[0, 0] > 0
    near_outside = torch.nn.functional.max_pool3d((~coarse)[None, None].float(), 3, stride=1, padding=1)[0, 0] > 0
    uncertain, kept = _doubled(near_inside & near_outside), _doubled(coarse)
    kept[uncertain] = vote(cell_centres(aabb, resolution)[uncertain])
    return kept


def _doubled(cells: Bool[Tensor, "c c c"]) -> Bool[Tensor, "r r r"]:
    """Each cell repeated into the 2×2×2 cells it splits into."""
    return cells.repeat_interleave(2, 0).repeat_interleave(2, 1).repeat_interleave(2, 2)


def hull_silhouette(
    points: Float[Tensor, "c 3"], intrinsics: Float[Tensor, "4"], camera_to_world: Float[Tensor, "3 4"],
    height: int, width: int, cell_size: float,
) -> Bool[np.ndarray, "h w"]:
    """The pixels whose centres the cubic cells of side `cell_size` (world units) centred on `points` cover in a
    view, each cell's footprint taken as a square about its centre's image, as wide as the cell at its depth:
    neighbouring cells leave no gaps, and the outline is as far out as the cells reach, not half a cell in
    or out; enclosed holes are filled, as the silhouette of a solid has none."""
    x, y, depth = (coordinate[0] for coordinate in project_to_pixels(points, intrinsics[None], camera_to_world[None]))
    front = (depth > 0).numpy()
    x, y = x.numpy()[front].astype(np.float64), y.numpy()[front].astype(np.float64)
    half = 0.5 * float(intrinsics[0]) * cell_size / depth.numpy()[front].astype(np.float64)  # [C] pixels
    # Pixel i's centre is i + 0.5: the columns and rows whose centres the square [x - half, x + half] holds,
    # clipped to the image; squares that hold none are dropped.
    first_column = np.clip(np.ceil(x - half - 0.5), 0, width).astype(np.int64)
    end_column = np.clip(np.floor(x + half - 0.5) + 1, 0, width).astype(np.int64)
    first_row = np.clip(np.ceil(y - half - 0.5), 0, height).astype(np.int64)
    end_row = np.clip(np.floor(y + half - 0.5) + 1, 0, height).astype(np.int64)
    some = (first_column < end_column) & (first_row < end_row)
    first_column, end_column, first_row, end_row = first_column[some], end_column[some], first_row[some], end_row[some]
    # Each square as +1/-1 at its corners of a (height + 1) × (width + 1) difference image, whose 2-D running
    # sum counts the squares over each pixel: the cost grows with the cells, not with the squares' area.
    stride = width + 1
    corners = np.concatenate([
        first_row * stride + first_column, end_row * stride + end_column,
        first_row * stride + end_column, end_row * stride + first_column,
    ])
    signs = np.repeat(np.array([1, 1, -1, -1], np.float32), len(first_column))
    difference = np.bincount(corners, signs, minlength=(height + 1) * stride).reshape(height + 1, stride)
    # Small integers, exact in float32; OpenCV's running sum is several times faster than numpy's.
    covered = cv2.integral(difference.astype(np.float32), sdepth=cv2.CV_32F)[1 : height + 1, 1 : width + 1] > 0.5
    # Surface cells whose footprints meet only at a corner (a surface running diagonally across the view) leave
    # pinholes inside the silhouette of a solid, which has none.
    return filled_holes(covered)


def shell_cells(kept: Bool[Tensor, "r r r"]) -> Bool[Tensor, "r r r"]:
    """The kept cells with a face on a cell that is not kept (or on the grid's border): every ray through the
    kept cells enters through one, so they alone give the hull's silhouette, at a fraction of the cells."""
    padded = torch.nn.functional.pad(kept[None, None].float(), (1, 1, 1, 1, 1, 1))[0, 0]  # [R + 2] * 3
    inner = padded[1:-1, 1:-1, 1:-1]
    neighbours = (
        padded[:-2, 1:-1, 1:-1] * padded[2:, 1:-1, 1:-1] * padded[1:-1, :-2, 1:-1]
        * padded[1:-1, 2:, 1:-1] * padded[1:-1, 1:-1, :-2] * padded[1:-1, 1:-1, 2:]
    )
    return (inner > 0) & (neighbours == 0)
