"""One square crop around the head for a whole clip, so the camera intrinsics stay fixed.

The crop is planned from face boxes found on a sample of frames: its centre is the median face centre
and its side a multiple of the median face size, clamped to the frame. A face too small for the Face
Landmarker's own detector on the full frame is searched for in overlapping windows.
"""

from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, Optional, Tuple

import cv2
import numpy as np

FaceFinder = Callable[[np.ndarray], Optional[np.ndarray]]
"""Landmark pixels [478, 2] of the face in an RGB image [H, W, 3], or None."""

WINDOW_FRACTIONS = (0.5, 0.25)
"""Side of the search windows as a fraction of the frame's shorter side, tried largest first."""


@dataclass(frozen=True)
class SquareCrop:
    """A square of the source frame, in source pixels."""

    x0: int
    y0: int
    side: int

    def cut(self, frame: np.ndarray, resolution: int) -> np.ndarray:
        """The crop of a frame [H, W, C] resized to [resolution, resolution, C]."""
        patch = frame[self.y0 : self.y0 + self.side, self.x0 : self.x0 + self.side]
        interpolation = cv2.INTER_AREA if self.side > resolution else cv2.INTER_LINEAR
        return cv2.resize(patch, (resolution, resolution), interpolation=interpolation)

    def to_json(self) -> Dict[str, int]:
        return {"x0": self.x0, "y0": self.y0, "side": self.side}


def face_box(landmarks: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] of landmark pixels [N, 2]."""
    return np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)])


def plan_crop(face_boxes: np.ndarray, width: int, height: int, scale: float) -> SquareCrop:
    """Square crop [side = scale × median face size] around the median face centre of boxes [M, 4]."""
    centres = (face_boxes[:, :2] + face_boxes[:, 2:]) / 2  # [M, 2]
    sizes = (face_boxes[:, 2:] - face_boxes[:, :2]).max(axis=1)  # [M]
    centre = np.median(centres, axis=0)
    side = int(round(min(scale * float(np.median(sizes)), width, height)))
    x0 = int(round(np.clip(centre[0] - side / 2, 0, width - side)))
    y0 = int(round(np.clip(centre[1] - side / 2, 0, height - side)))
    return SquareCrop(x0=x0, y0=y0, side=side)


def _windows(width: int, height: int) -> Iterator[Tuple[int, int, int]]:
    for fraction in WINDOW_FRACTIONS:
        side = int(min(width, height) * fraction)
        stride = side // 2
        for y0 in range(0, height - side + 1, stride):
            for x0 in range(0, width - side + 1, stride):
                yield x0, y0, side


def find_face_box(rgb: np.ndarray, find_face: FaceFinder) -> Optional[np.ndarray]:
    """Face box [4] in an RGB frame [H, W, 3]: on the full frame, else in the first window holding a face."""
    landmarks = find_face(rgb)
    if landmarks is not None:
        return face_box(landmarks)
    height, width = rgb.shape[:2]
    for x0, y0, side in _windows(width, height):
        landmarks = find_face(np.ascontiguousarray(rgb[y0 : y0 + side, x0 : x0 + side]))
        if landmarks is not None:
            return face_box(landmarks) + np.array([x0, y0, x0, y0])
    return None


def plan_clip_crop(
    frames: Iterable[np.ndarray], find_face: FaceFinder, width: int, height: int, scale: float
) -> Tuple[Optional[SquareCrop], int]:
    """(crop planned from the faces found in RGB frames [H, W, 3], or None without any; number of faces found)."""
    boxes = [box for box in (find_face_box(rgb, find_face) for rgb in frames) if box is not None]
    if not boxes:
        return None, 0
    return plan_crop(np.stack(boxes), width, height, scale), len(boxes)
