"""Face-mesh landmarks of a known head seen by known cameras, as MediaPipe gives them: the scene on which the
face parts' motion (tracking/expressions/expression_fidelity.py) and the benchmark's per-frame share of it
are checked."""

import numpy as np

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

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
