"""Mouth and face boxes from the landmarks, defined as the dataparser defines them for the release layout."""

from typing import List

import numpy as np

from nerfblend_ns.face_mesh_landmarks import MOUTH_MARGIN, OUTER_LIP_LANDMARKS


def _clipped_box(points: np.ndarray, margin: float, size: int) -> List[float]:
    """[x0, y0, x1, y1] of points [N, 2] grown by margin × its size on each side, inside a square image."""
    low, high = points.min(axis=0), points.max(axis=0)
    grow = (high - low) * margin
    low, high = np.clip(low - grow, 0, size), np.clip(high + grow, 0, size)
    return [float(low[0]), float(low[1]), float(high[0]), float(high[1])]


def mouth_rect(landmarks: np.ndarray, size: int) -> List[float]:
    """Mouth box of landmark pixels [478, 2] in a size × size image."""
    return _clipped_box(landmarks[list(OUTER_LIP_LANDMARKS)], MOUTH_MARGIN, size)


def face_rect(landmarks: np.ndarray, size: int) -> List[float]:
    """Box of all landmarks [478, 2] in a size × size image."""
    return _clipped_box(landmarks, 0.0, size)


def is_nonempty(rect: List[float]) -> bool:
    return rect[2] > rect[0] and rect[3] > rect[1]
