"""How far each test frame lies from the training frames, and whether its score follows that distance.

A test frame's coefficients may be a combination no training frame shows, and its head pose a view no
training frame saw. Ranking the per-frame PSNR against each distance tells which of the two the model fails
to generalise over: on the shared real videos it is the coefficients (docs/quality.md, "What the worst
test frames have in common").
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from jaxtyping import Float
from scipy.stats import spearmanr


@dataclass(frozen=True)
class FrameNovelty:
    """Per test frame: its distance to the nearest training frame in coefficients, and in head rotation."""

    coefficient_distance: Float[np.ndarray, "t"]
    """Euclidean distance of its coefficient vector to the nearest training frame's."""
    rotation_distance_deg: Float[np.ndarray, "t"]
    """Angle between its camera's rotation and the nearest training camera's, in degrees (the head-fixed world:
    a camera's rotation is the head's, seen from the camera)."""


def frame_novelty(
    train_coefficients: Float[np.ndarray, "n k"],
    train_rotations: Float[np.ndarray, "n 3 3"],
    test_coefficients: Float[np.ndarray, "t k"],
    test_rotations: Float[np.ndarray, "t 3 3"],
) -> FrameNovelty:
    """Each test frame's distances to the training frames (each distance to its own nearest frame)."""
    coefficients = np.linalg.norm(test_coefficients[:, None, :] - train_coefficients[None, :, :], axis=-1)  # [T, N]
    # trace(R_test R_train^T) = 1 + 2 cos(angle), for every pair.
    traces = np.einsum("tij,nij->tn", test_rotations, train_rotations)  # [T, N]
    angles = np.degrees(np.arccos(np.clip((traces - 1.0) / 2.0, -1.0, 1.0)))
    return FrameNovelty(coefficients.min(axis=1), angles.min(axis=1))


def rank_correlation(scores: Sequence[float], distances: Sequence[float]) -> float:
    """Spearman's rank correlation of per-frame scores with a distance (negative: farther frames score lower);
    NaN for fewer than three frames or a constant input."""
    if len(scores) < 3 or np.ptp(scores) == 0 or np.ptp(distances) == 0:
        return float("nan")
    return float(spearmanr(scores, distances).statistic)
