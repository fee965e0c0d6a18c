"""A picture of the same frames side by side: rows are frames, columns ground truth then each method."""

from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np

HEADER_HEIGHT = 28
"""Pixels of the strip above the columns that names them."""


def _header(label: str, width: int) -> np.ndarray:
    strip = np.full((HEADER_HEIGHT, width, 3), 255, np.uint8)
    cv2.putText(strip, label, (4, HEADER_HEIGHT - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def frame_grid(ground_truths: List[np.ndarray], columns: Dict[str, List[np.ndarray]]) -> np.ndarray:
    """[HEADER_HEIGHT + F·H, (1 + M)·W, 3] uint8 from F ground truths and M methods' F predictions, [H, W, 3] each."""
    named = {"ground truth": ground_truths, **columns}
    for label, frames in named.items():
        if len(frames) != len(ground_truths):
            raise ValueError(f"{label} has {len(frames)} frames, the ground truth {len(ground_truths)}")
    blocks = [np.concatenate([_header(label, frames[0].shape[1]), *frames], axis=0) for label, frames in named.items()]
    return np.concatenate(blocks, axis=1)


def write_rgb_png(path: Path, image: np.ndarray) -> None:
    """Writes an [H, W, 3] uint8 RGB picture."""
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
