"""Whether the expression coefficients explain the face: the landmarks of the mouth and of the brows, fitted
linearly from the coefficients, and the unnamed components of what they leave unexplained.

The NeRF sees a frame's expression only through its coefficients: shapes the coefficients do not tell apart
are blurred together. A face part's landmarks are placed in the head frame with the workspace's poses and
taken relative to the eye corners, which move with the skull: a frame's pose error then shifts the part and
its anchor alike, and what remains is the part's own motion (docs/tracking.md measures how much of the
head-frame motion was the poses'). A linear map from the coefficients (and a constant) to those
positions (millimetres) is fitted on the first frames and scored on the last ones, which the dataparser holds
out for testing. The principal components of the residual motion on the fitted frames are candidate extra
coefficients: a frame's value of one is its residual projected on it.
"""

from dataclasses import dataclass
from typing import Any, Dict, Tuple

import numpy as np

from nerfblend_ns.face_mesh_landmarks import BROW_LANDMARKS, EYE_CORNERS, INNER_LIP_LANDMARKS, OUTER_LIP_LANDMARKS
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

FACE_PARTS: Dict[str, Tuple[int, ...]] = {
    "mouth": OUTER_LIP_LANDMARKS + INNER_LIP_LANDMARKS,
    "brows": BROW_LANDMARKS,
}
"""The face parts whose motion is measured against the coefficients, and their landmarks."""
HELD_OUT_FRACTION = 0.2
"""The last fifth of the frames scores the fit (the dataparser's test frames are the last ones too)."""
LEAST_EXPLAINED_FRAMES = 5
"""Frames the report names whose part the coefficients explain least."""
RIDGE = 1e-3
"""Small ridge on the linear map, for coefficients that barely move over a clip."""


@dataclass(frozen=True)
class ResidualComponents:
    """Principal directions of a face part's motion that the coefficients leave unexplained."""

    mean: np.ndarray
    """[D] mean residual (mm) of the fitted frames."""
    directions: np.ndarray
    """[C, D] unit directions, largest variance first."""
    scales: np.ndarray
    """[C] standard deviation (mm) along each direction on the fitted frames: a coefficient is residual / scale."""


def _in_head_frame(
    points: np.ndarray,  # [N, M, 3] pixels; z: MediaPipe's relative depth, scaled like x
    camera_to_world: np.ndarray,  # [N, 4, 4]
    intrinsics: PinholeIntrinsics,
) -> np.ndarray:
    """Landmarks [N, M, 3] in the head frame, millimetres, at the depth MediaPipe gives them."""
    origin_depth = -np.linalg.inv(camera_to_world)[:, 2, 3]  # [N]
    depth = origin_depth[:, None] * (1.0 + points[..., 2] / intrinsics.fx)
    camera = np.stack(
        [
            (points[..., 0] - intrinsics.cx) / intrinsics.fx * depth,
            -(points[..., 1] - intrinsics.cy) / intrinsics.fy * depth,
            -depth,
        ],
        axis=-1,
    )
    world = np.einsum("nij,nkj->nki", camera_to_world[:, :3, :3], camera) + camera_to_world[:, None, :3, 3]
    return world * 1000.0


def part_in_head_frame(
    landmarks: np.ndarray,  # [N, 478, 3] pixels; z: MediaPipe's relative depth, scaled like x
    part: str,
    camera_to_world: np.ndarray,  # [N, 4, 4]
    intrinsics: PinholeIntrinsics,
) -> np.ndarray:
    """A face part's landmarks [N, M, 3] in head-frame axes (mm), relative to the mean of the eye corners."""
    points = _in_head_frame(landmarks[:, list(FACE_PARTS[part])], camera_to_world, intrinsics)
    anchor = _in_head_frame(landmarks[:, list(EYE_CORNERS)], camera_to_world, intrinsics).mean(axis=1, keepdims=True)
    return points - anchor


def _design(coefficients: np.ndarray) -> np.ndarray:
    return np.concatenate([np.ones((len(coefficients), 1)), coefficients], axis=1)


def linear_map(coefficients: np.ndarray, points: np.ndarray) -> np.ndarray:
    """[K + 1, D] ridge least-squares map from [1, coefficients] [N, K] to a part's landmarks [N, M, 3] (D = M·3)."""
    targets = points.reshape(len(points), -1)
    design = _design(coefficients)
    penalty = RIDGE * len(design) * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    return np.linalg.solve(design.T @ design + penalty, design.T @ targets)


def unexplained_motion(coefficients: np.ndarray, points: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """[N, M·3] each frame's part landmarks [N, M, 3] minus what its coefficients [N, K] predict, by the linear map
    fitted on the frames where fitted [N] is true."""
    return points.reshape(len(points), -1) - _design(coefficients) @ linear_map(coefficients[fitted], points[fitted])


def per_frame_rms(residuals: np.ndarray) -> np.ndarray:
    """[N] RMS 3-D distance (mm) over the landmarks of each frame's residuals [N, M·3]."""
    return np.sqrt(np.mean(np.sum(residuals.reshape(len(residuals), -1, 3) ** 2, axis=-1), axis=-1))


def _rms_per_landmark(residuals: np.ndarray) -> float:
    """RMS 3-D distance (mm) of residuals [N, M·3]."""
    return float(np.sqrt(np.mean(per_frame_rms(residuals) ** 2)))


def residual_components(coefficients: np.ndarray, points: np.ndarray, count: int) -> ResidualComponents:
    """The count principal components of a part's motion [N, M, 3] that coefficients [N, K] leave unexplained."""
    residuals = unexplained_motion(coefficients, points, np.ones(len(points), dtype=bool))
    mean = residuals.mean(axis=0)
    _, singular, vt = np.linalg.svd(residuals - mean, full_matrices=False)
    return ResidualComponents(mean, vt[:count], singular[:count] / np.sqrt(len(residuals)))


def component_values(
    coefficients: np.ndarray, points: np.ndarray, components: ResidualComponents, fitted_map: np.ndarray
) -> np.ndarray:
    """Values [N, C] of the extra coefficients of frames: their residual along each component, in its scales."""
    residuals = points.reshape(len(points), -1) - _design(coefficients) @ fitted_map - components.mean
    return residuals @ components.directions.T / components.scales


def expression_fidelity(coefficients: np.ndarray, points: np.ndarray, max_components: int = 8) -> Dict[str, Any]:
    """RMS (mm) of a part's motion [N, M, 3] left unexplained, on fitted and held-out frames, by nothing (the
    motion itself), by the coefficients [N, K], and by the coefficients plus 1..max_components residual components;
    and the frames (positions) the coefficients explain least."""
    count = len(coefficients)
    fitted = np.arange(count) < int(round(count * (1.0 - HELD_OUT_FRACTION)))
    if fitted.sum() <= coefficients.shape[1] + 1 or (~fitted).sum() == 0:
        return {"frames": count, "note": "too few frames to fit the coefficients' map"}
    targets = points.reshape(count, -1)
    residuals = unexplained_motion(coefficients, points, fitted)
    report = {
        "landmarks": points.shape[1],
        "fitted_frames": int(fitted.sum()),
        "held_out_frames": int((~fitted).sum()),
        "motion_rms_mm": {
            "fitted": _rms_per_landmark(targets[fitted] - targets[fitted].mean(axis=0)),
            "held_out": _rms_per_landmark(targets[~fitted] - targets[fitted].mean(axis=0)),
        },
        "coefficients_residual_rms_mm": {
            "fitted": _rms_per_landmark(residuals[fitted]),
            "held_out": _rms_per_landmark(residuals[~fitted]),
        },
    }
    components = residual_components(coefficients[fitted], points[fitted], max_components)
    with_components = {}
    for used in range(1, len(components.scales) + 1):
        directions = components.directions[:used]
        left = residuals - components.mean
        left = left - (left @ directions.T) @ directions
        with_components[str(used)] = {
            "fitted": _rms_per_landmark(left[fitted]),
            "held_out": _rms_per_landmark(left[~fitted]),
        }
    report["with_residual_components_rms_mm"] = with_components
    per_frame = per_frame_rms(residuals)
    report["least_explained_frames"] = [
        {"frame": int(frame), "unexplained_mm": float(per_frame[frame])}
        for frame in np.argsort(-per_frame, kind="stable")[:LEAST_EXPLAINED_FRAMES]
    ]
    return report
