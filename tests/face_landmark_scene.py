"""Face-mesh landmarks of a known head seen by known cameras, as MediaPipe gives them: the scene on which the
face parts' motion (tracking/expressions/expression_fidelity.py) and the benchmark's per-frame share of it
are checked."""

from typing import Dict, Tuple

import numpy as np

from nerfblend_ns.face_mesh_landmarks import NUM_LANDMARKS
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.expressions.expression_coefficients import ExpressionTable
from nerfblend_ns.tracking.expressions.expression_fidelity import FACE_PARTS
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult
from nerfblend_ns.tracking.workspace.workspace_writer import TrackedClip

INTRINSICS = PinholeIntrinsics(width=512, height=512, fx=900.0, fy=900.0, cx=256.0, cy=256.0)
DISTANCE = 0.5
"""Metres from the camera to the head frame's origin, along the camera's axis."""


def cameras_to_world(shifts: np.ndarray) -> np.ndarray:
    """[N, 4, 4] cameras looking down -z at the head frame's origin from DISTANCE, moved sideways by shifts [N, 2] (m)."""
    poses = np.tile(np.eye(4), (len(shifts), 1, 1))
    poses[:, :2, 3] = shifts
    poses[:, 2, 3] = DISTANCE
    return poses


def landmark_pixels(points: np.ndarray, camera_to_world: np.ndarray) -> np.ndarray:
    """Landmarks [N, P, 3] as MediaPipe gives them (pixels, depth relative to the head's origin scaled like x) of
    head-frame points [N, P, 3] (m) seen by rotation-free cameras [N, 4, 4]."""
    camera = points - camera_to_world[:, None, :3, 3]
    depth = -camera[..., 2]
    return np.stack(
        [
            INTRINSICS.fx * camera[..., 0] / depth + INTRINSICS.cx,
            INTRINSICS.cy - INTRINSICS.fy * camera[..., 1] / depth,
            INTRINSICS.fx * (depth / DISTANCE - 1.0),
        ],
        axis=-1,
    )


def clip_with_hidden_motion(frames: int = 400, coefficients: int = 6, seed: int = 2) -> Tuple[TrackedClip, Dict[str, np.ndarray]]:
    """A tracked clip whose coefficients move the lips, whose lips and brows each also move along one hidden
    factor (1 mm per unit; the lips sideways, the brows up) that no coefficient explains, and whose poses carry
    sideways errors of 3 mm, larger than either; and each part's hidden factor [frames]."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (frames, coefficients))
    mouth, brows = list(FACE_PARTS["mouth"]), list(FACE_PARTS["brows"])
    shapes = np.zeros((coefficients, NUM_LANDMARKS, 3))
    shapes[:, mouth] = rng.normal(0.0, 0.002, (coefficients, len(mouth), 3))
    design = np.concatenate([np.ones((frames, 1)), values], axis=1)
    hidden = {}
    for part in FACE_PARTS:  # orthogonal to the coefficients over the clip: they cannot explain it
        draw = rng.normal(0.0, 1.0, frames)
        hidden[part] = draw - design @ np.linalg.lstsq(design, draw, rcond=None)[0]
    head = rng.uniform(-0.08, 0.08, (NUM_LANDMARKS, 3)) + np.einsum("fk,kmd->fmd", values, shapes)
    head[:, mouth, 0] += 0.001 * hidden["mouth"][:, None]
    head[:, brows, 1] += 0.001 * hidden["brows"][:, None]
    truth = cameras_to_world(np.zeros((frames, 2)))
    tracked = cameras_to_world(rng.normal(0.0, 0.003, (frames, 2)))
    records = [
        FrameTrackingResult(index=index, landmarks=points, image_file=f"images/{index:06d}.jpg")
        for index, points in enumerate(landmark_pixels(head, truth))
    ]
    table = ExpressionTable(names=[f"c{index}" for index in range(coefficients)], values=values)
    return TrackedClip(records, tracked, tracked, table, table), hidden
