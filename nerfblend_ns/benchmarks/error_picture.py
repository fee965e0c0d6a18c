"""A picture of chosen frames: rows of ground truth | prediction | error heat map, each labelled with its PSNR."""

from typing import List, Optional

import cv2
import numpy as np

ERROR_SCALE = 0.25
"""Mean absolute colour error (images in [0, 1]) shown at the top of the heat map's colour scale."""


def error_heat_map(ground_truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """[H, W, 3] uint8 RGB inferno map of the per-pixel mean absolute error of two [H, W, 3] uint8 images."""
    error = np.abs(ground_truth.astype(np.float32) - prediction.astype(np.float32)).mean(axis=2) / 255.0  # [H, W]
    level = np.clip(error / ERROR_SCALE * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(level, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    """The image with `text` written at its top, a line per "\n"."""
    labelled = image.copy()
    scale = max(image.shape[1] / 512, 0.3)
    for row, line in enumerate(text.split("\n")):
        baseline = int(20 * scale) * (row + 1) + 2
        for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):  # outlined, readable on any background
            cv2.putText(labelled, line, (4, baseline), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour, thickness, cv2.LINE_AA)
    return labelled


def error_rows(
    ground_truths: List[np.ndarray],
    predictions: List[np.ndarray],
    labels: List[str],
    regions: Optional[List[Optional[np.ndarray]]] = None,
) -> np.ndarray:
    """[F·H, 3·W, 3] uint8: per frame its ground truth, prediction (with its label written on it) and error
    heat map; the outline of a frame's region ([H, W] bool, e.g. its face region) is drawn on the heat map."""
    rows = []
    for position, (truth, prediction, label) in enumerate(zip(ground_truths, predictions, labels)):
        heat = error_heat_map(truth, prediction)
        region = regions[position] if regions is not None else None
        if region is not None:
            contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(heat, contours, -1, (0, 255, 255), 1)
        rows.append(np.concatenate([truth, _label(prediction, label), heat], axis=1))
    return np.concatenate(rows, axis=0)
