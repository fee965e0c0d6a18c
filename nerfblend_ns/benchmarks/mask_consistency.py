"""How well a sequence's head masks agree with one head-fixed shape: each frame's mask outline against
the outline of the masks' consensus hull seen by that frame's camera.

The model renders one head shape per expression in the head's frame. A mask outline that moves with
respect to the head (the segmenter's hair edge from frame to frame, a pose error of a pixel or two)
cannot be fitted, and on real video most of the full-frame error lies on the outline
(docs/quality.md, "Where the error lies"). The consensus is the visual hull with a tolerance
(`consensus_cells` in nerfblend_ns/mask_hull.py, the vote the tracker's consensus outline uses): a cell
that at least `min_views` views see is in it unless at least `background_fraction` of those views see
background there. The offsets are measured in pixels along each mask's outline, over the upper head (hair
and skull: rigid, where expressions do not move the outline) and over the whole outline.

The tolerance that lets the consensus ignore a few wrong masks also keeps cells that only a few views rule
out, so with a larger tolerance even exact masks stray from it (on 16 views of a sphere: 0.3 px at 5 %,
1.4 px at 20 %): compare trackers on the same frames with the same settings, not against zero.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch
from jaxtyping import Bool, Float

from nerfblend_ns.dataparsers.frame_files import read_head_mask
from nerfblend_ns.dataparsers.tracked_sequence import TrackedSequence
from nerfblend_ns.mask_hull import cell_centres, consensus_cells, hull_silhouette, shell_cells


@dataclass
class MaskConsistencyConfig:
    """The consensus hull and where its outline is compared."""

    resolution: int = 160
    """Cells per side of the hull's grid over the cube that holds the head."""
    background_fraction: float = 0.05
    """A cell is outside the consensus when at least this fraction of the views that see it see background:
    a few wrong masks do not carve it; larger tolerances keep cells that only a few views rule out."""
    min_views: int = 8
    """Cells seen by fewer views are left out of the consensus: the masks say too little about them."""
    upper_head: float = 0.45
    """The upper head: outline pixels above this fraction of the face box's height, from its top."""


def outline_offsets(mask: Bool[np.ndarray, "h w"], silhouette: Bool[np.ndarray, "h w"]) -> Tuple[np.ndarray, np.ndarray]:
    """(rows, signed offsets) of the mask's outline pixels: the distance in pixels to the silhouette's
    edge, positive where the mask reaches outside the silhouette."""
    mask8 = mask.astype(np.uint8)
    outline = mask8 - cv2.erode(mask8, np.ones((3, 3), np.uint8))
    rows, columns = np.nonzero(outline)
    sil8 = silhouette.astype(np.uint8)
    outside = cv2.distanceTransform(1 - sil8, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    inside = cv2.distanceTransform(sil8, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # Edges lie half a pixel beyond the last pixel of each: outside the silhouette the distance to its nearest
    # pixel is the offset; inside, the nearest pixel off it is one pixel further than its edge.
    signed = np.where(sil8 > 0, -(inside - 1.0), outside)
    return rows, signed[rows, columns]


def mask_consistency(sequence: TrackedSequence, config: MaskConsistencyConfig, frames: Optional[List[int]] = None) -> Dict[str, float]:
    """Offsets of the frames' mask outlines from the consensus hull's: mean absolute offset over the upper
    head and over the whole outline (pixels, averaged over frames), the 10th and 90th percentile over frames
    of the upper-head one, the mean signed upper-head offset (positive: masks reach outside the consensus),
    and the areas only the consensus or only the mask covers (fractions of the mask's area), averaged over
    frames, with the cells' mean size in pixels. Upper-head scores are NaN where no frame has a face box."""
    chosen = list(range(len(sequence.frames))) if frames is None else list(frames)
    picked = [sequence.frames[i] for i in chosen]
    masks = np.stack([read_head_mask(f.mask_path, sequence.mask_encoding, sequence.background_path) for f in picked])
    intrinsics = torch.tensor([[f.intrinsics.fx, f.intrinsics.fy, f.intrinsics.cx, f.intrinsics.cy] for f in picked])
    sizes = torch.tensor([[f.intrinsics.height, f.intrinsics.width] for f in picked], dtype=torch.float32)
    poses = torch.from_numpy(np.stack([f.camera_to_world[:3] for f in picked]).astype(np.float32))  # [N, 3, 4]
    radius = float(sequence.head_radius)
    aabb = torch.tensor([-radius] * 3 + [radius] * 3)
    keep = consensus_cells(
        aabb, config.resolution, intrinsics, sizes, poses, torch.from_numpy(masks), config.min_views, config.background_fraction
    )
    points = cell_centres(aabb, config.resolution)[shell_cells(keep)]  # [C, 3]
    if points.shape[0] == 0:
        raise ValueError(
            f"{sequence.source}: the masks of the {len(picked)} frames agree on no cell seen by {config.min_views} views "
            "or more: too few frames, or masks and cameras that do not match"
        )
    upper, whole, signed, hull_only, mask_only, cell_sizes = [], [], [], [], [], []
    for frame, mask, view_intrinsics, pose in zip(picked, masks, intrinsics, poses):
        distance = float(pose[:, 3].norm())
        cell_px = frame.intrinsics.fx * 2.0 * radius / config.resolution / max(distance, 1e-9)
        cell_sizes.append(cell_px)
        silhouette = hull_silhouette(
            points, view_intrinsics, pose, frame.intrinsics.height, frame.intrinsics.width, 2.0 * radius / config.resolution
        )
        rows, offsets = outline_offsets(mask, silhouette)
        # Without a face box no outline pixel is called upper head.
        top = frame.face_rect[1] + config.upper_head * (frame.face_rect[3] - frame.face_rect[1]) if frame.face_rect else -np.inf
        above = rows < top
        whole.append(np.abs(offsets).mean())
        if above.any():
            upper.append(np.abs(offsets[above]).mean())
            signed.append(offsets[above].mean())
        area = mask.sum()
        hull_only.append((silhouette & ~mask).sum() / area)
        mask_only.append((mask & ~silhouette).sum() / area)
    return {
        "frames": len(picked),
        "upper_mean_abs_px": float(np.mean(upper)) if upper else float("nan"),
        "upper_p10_px": float(np.percentile(upper, 10)) if upper else float("nan"),
        "upper_p90_px": float(np.percentile(upper, 90)) if upper else float("nan"),
        "upper_mean_signed_px": float(np.mean(signed)) if signed else float("nan"),
        "outline_mean_abs_px": float(np.mean(whole)),
        "consensus_only_area": float(np.mean(hull_only)),
        "mask_only_area": float(np.mean(mask_only)),
        "cell_px": float(np.mean(cell_sizes)),
    }
