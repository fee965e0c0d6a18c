"""Head masks whose outline above the ears is one head-fixed shape: the consensus of the clip's masks.

The model renders one head shape in the head's frame, but the person segmenter's hair edge moves by a
pixel or two from frame to frame, and so does a small pose error; on real video most of the full-frame
error lies within 3 px of the mask outline (docs/quality.md, "Where the error lies"). Here the clip's
masks vote for one shape: the visual hull with a tolerance (nerfblend_ns/mask_hull.py), which drops a
cell when a few percent of the views that see it see background there. Above the line through the ears
(the image of a head-fixed line, so it moves with the head) each frame's mask becomes that shape seen by
the frame's camera; below it the frame's own mask stays, since jaw, chin and open mouth change shape with
the expression and the rule that bounds them is already fixed in the head's frame (head_mask.py).

A visual hull is nearly the intersection of the masks: from a few views near the front, depth is only
ruled out by the views that see background, so the consensus lies inside the outline of most masks (on
the shared address video the masks reach about 1 px beyond it over the hair, on average). What it buys is an
outline that the model can fit in every frame; docs/tracking.md gives what it did on the benchmark.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np
import torch
from jaxtyping import Bool, Float

from nerfblend_ns.mask_hull import cell_centres, consensus_cells, hull_silhouette, project_to_pixels, shell_cells
from nerfblend_ns.metrics.silhouette_band import silhouette_band
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.masks.mask_volume import BELOW_EARS_HALF_WIDTH_M, EAR_LEVEL_Y_M, WORKSPACE_RADIUS_M


@dataclass(frozen=True)
class ConsensusOutlineConfig:
    """The clip's masks voting for one head shape above the ears."""

    enabled: bool = True
    """Replace each mask above the ears by the clip's consensus head shape, unless the clip is too short to vote or its poses disagree with the shape."""
    background_fraction: float = 0.05
    """A cell leaves the shape when at least this fraction of the views that see it see background there."""
    min_views: int = 8
    """Cells seen by fewer views than this leave the shape: the masks say too little about them."""
    resolution: int = 160
    """Cells per side of the grid over the workspace's ball (2 mm cells at the default); even."""
    max_views: int = 96
    """Views that vote, spread evenly over the clip: enough for a stable vote, and the cost grows with each."""
    max_shift_px: int = 6
    """The shape moves no outline by more than this many pixels (0: no limit): farther off, the frame's pose is wrong."""
    max_far_change: float = 0.5
    """Keep the frames' own masks when more than this share of the shape's disagreement with them lies off their outlines (the poses are off); 1: always use the shape."""


@dataclass(frozen=True)
class ConsensusOutline:
    """The masks with their consensus outline, and what changed."""

    masks: Bool[np.ndarray, "n h w"]
    area_ratio: float
    """Mean over frames of the new mask's area over the old one's."""
    changed_fraction: float
    """Mean over frames of the pixels that changed, as a fraction of the old mask's area."""
    cells: int
    """Cells in the consensus shape."""
    far_change_fraction: float
    """Of the pixels above the ears where the shape and the frames' own masks disagree, the share outside the
    own outline's silhouette band (metrics/silhouette_band.py: where most of the full-frame error lies), before
    max_shift_px limits the change: high where the poses, not the masks, disagree with the shape (the shape
    seen from a wrong pose lands off the head)."""


def upper_head_pixels(camera_to_world: Float[np.ndarray, "4 4"], intrinsics: PinholeIntrinsics) -> Bool[np.ndarray, "h w"]:
    """The pixels on the crown's side of the image of the head-fixed line through both ears (at ear level,
    through the head centre)."""
    points = torch.tensor(
        [[-BELOW_EARS_HALF_WIDTH_M, EAR_LEVEL_Y_M, 0.0], [BELOW_EARS_HALF_WIDTH_M, EAR_LEVEL_Y_M, 0.0], [0.0, WORKSPACE_RADIUS_M, 0.0]]
    )
    x, y = _project(points, camera_to_world, intrinsics)
    rows, columns = np.arange(intrinsics.height)[:, None] + 0.5, np.arange(intrinsics.width)[None, :] + 0.5

    def side(px, py):  # sign of the cross product: which side of the ear line a point lies on
        return (x[1] - x[0]) * (py - y[0]) - (y[1] - y[0]) * (px - x[0])

    return np.sign(side(columns, rows)) == np.sign(side(x[2], y[2]))


def consensus_outline(
    masks: Bool[np.ndarray, "n h w"],
    camera_to_world: Float[np.ndarray, "n 4 4"],
    intrinsics: PinholeIntrinsics,
    config: ConsensusOutlineConfig,
) -> ConsensusOutline:
    """The frames' masks with the consensus shape above the ears. Poses are camera-to-world in the workspace's
    world (head-fixed, metres, OpenGL axes); every frame is seen through `intrinsics`."""
    count = masks.shape[0]
    if masks.ndim != 3 or camera_to_world.shape != (count, 4, 4) or masks.shape[1:] != (intrinsics.height, intrinsics.width):
        raise ValueError(
            f"need one {intrinsics.height}×{intrinsics.width} mask per pose, got masks {masks.shape} and poses {camera_to_world.shape}"
        )
    if count < config.min_views:
        raise ValueError(f"{count} frames cannot outvote one another: the consensus outline needs at least {config.min_views}")
    voters = np.unique(np.linspace(0, count - 1, min(count, config.max_views)).round().astype(int))
    aabb = torch.tensor([-WORKSPACE_RADIUS_M] * 3 + [WORKSPACE_RADIUS_M] * 3)
    lenses = torch.tensor([[intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy]] * len(voters), dtype=torch.float32)
    sizes = torch.tensor([[intrinsics.height, intrinsics.width]] * len(voters), dtype=torch.float32)
    kept = consensus_cells(
        aabb, config.resolution, lenses, sizes, torch.from_numpy(camera_to_world[voters, :3].astype(np.float32)),
        torch.from_numpy(masks[voters]), config.min_views, config.background_fraction,
    )  # [R, R, R]
    shell = cell_centres(aabb, config.resolution)[shell_cells(kept)]  # [S, 3]
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * config.max_shift_px + 1,) * 2)
    result = np.empty_like(masks)

    def outlined(frame: int) -> Tuple[float, float, int, int]:
        """Writes the frame's new mask; returns its area and its changed pixels as fractions of the old area, and
        the pixels above the ears where shape and mask disagree: all, and far from the outline."""
        mask, pose = masks[frame], camera_to_world[frame]
        shape = hull_silhouette(
            shell, lenses[0], torch.from_numpy(pose[:3].astype(np.float32)), intrinsics.height, intrinsics.width,
            2.0 * WORKSPACE_RADIUS_M / config.resolution,
        )
        upper = upper_head_pixels(pose, intrinsics)
        disagree = upper & (shape ^ mask)
        far = int((disagree & ~silhouette_band(torch.from_numpy(mask)).numpy()).sum())
        if config.max_shift_px > 0:  # beyond this the frame's pose, not its mask, is what is wrong
            mask8 = mask.astype(np.uint8)
            shape = (shape | (cv2.erode(mask8, reach) > 0)) & (cv2.dilate(mask8, reach) > 0)
        new = result[frame] = np.where(upper, shape, mask)
        area = max(int(mask.sum()), 1)
        return new.sum() / area, (new ^ mask).sum() / area, int(disagree.sum()), far

    # Frames are independent and their numpy, OpenCV and torch work releases the GIL: two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        ratios, changed, disagreeing, far_pixels = (np.array(column) for column in zip(*pool.map(outlined, range(count))))
    return ConsensusOutline(
        result, float(ratios.mean()), float(changed.mean()), int(kept.sum()), int(far_pixels.sum()) / max(int(disagreeing.sum()), 1)
    )


def _project(points: Float[torch.Tensor, "p 3"], camera_to_world: Float[np.ndarray, "4 4"], intrinsics: PinholeIntrinsics) -> Tuple[np.ndarray, np.ndarray]:
    """(x, y) pixels of `points` in the frame."""
    lens = torch.tensor([[intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy]], dtype=torch.float32)
    x, y, _ = project_to_pixels(points, lens, torch.from_numpy(camera_to_world[None, :3].astype(np.float32)))
    return x[0].numpy(), y[0].numpy()
