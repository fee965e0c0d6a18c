"""Head pose from MediaPipe's facial transformation matrix, as an OpenGL camera in a head-fixed world.

MediaPipe fits its canonical face model (centimetres; x towards the subject's left, y up, z out of
the face) to the landmarks and returns the rigid matrix taking canonical points to an OpenGL camera
(x right, y up, looking down −z). That camera has a fixed 63° vertical field of view and its principal
point at the image centre; the true focal length cannot be told apart from depth with landmarks alone,
so every workspace keeps this convention: fx = fy = (H / 2) / tan(31.5°) ≈ 0.816·H, cx = W / 2,
cy = H / 2.

The world frame is the canonical face frame in metres with its origin moved to HEAD_CENTRE_CM. The
canonical origin lies 7.6 cm behind the nose tip, a little below eye level. Rays through head-mask
pixels (head, hair, upper neck) of the shared test videos pass at most 0.168 m (a hair bun on top) and
0.148 m from it; 1.5 cm up and 1 cm back they pass at most 0.162 m and 0.149 m, and the back of the
head (about 21 cm behind the nose tip) stays about 12.5 cm away, inside the workspace's 0.16 m radius.
"""

import numpy as np

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

VERTICAL_FOV_DEG = 63.0
"""Field of view MediaPipe's geometry pipeline assumes for the image it is given."""
CM_TO_M = 0.01
CANONICAL_NOSE_TIP_CM = np.array([0.0, -0.463, 7.587])
"""Nose tip (face_mesh_landmarks.NOSE_TIP) of MediaPipe's canonical face model, read from face_landmarker.task."""
HEAD_CENTRE_CM = np.array([0.0, 1.5, -1.0])
"""World origin in canonical-face coordinates (centimetres); the module header says how it was chosen."""


def mediapipe_intrinsics(width: int, height: int) -> PinholeIntrinsics:
    """The camera MediaPipe's facial transformation matrix is consistent with, for an image of this size."""
    focal = 0.5 * height / np.tan(np.radians(VERTICAL_FOV_DEG / 2))
    return PinholeIntrinsics(width=width, height=height, fx=focal, fy=focal, cx=width / 2, cy=height / 2)


def camera_to_world(face_to_camera: np.ndarray) -> np.ndarray:
    """Camera-to-world [4, 4] in metres, world = canonical face frame with its origin at the head centre.

    face_to_camera: [4, 4] MediaPipe facial transformation matrix (centimetres).
    """
    rotation = face_to_camera[:3, :3]
    translation = face_to_camera[:3, 3]
    matrix = np.eye(4)
    matrix[:3, :3] = rotation.T
    matrix[:3, 3] = (-rotation.T @ translation - HEAD_CENTRE_CM) * CM_TO_M
    return matrix


def canonical_to_world(points_cm: np.ndarray) -> np.ndarray:
    """Canonical-face points [N, 3] (centimetres) in world coordinates [N, 3] (metres)."""
    return (points_cm - HEAD_CENTRE_CM) * CM_TO_M


def project(points_world: np.ndarray, camera_to_world_matrix: np.ndarray, intrinsics: PinholeIntrinsics) -> np.ndarray:
    """Pixel coordinates [N, 2] of world points [N, 3] seen by an OpenGL camera [4, 4]."""
    rotation, centre = camera_to_world_matrix[:3, :3], camera_to_world_matrix[:3, 3]
    local = (points_world - centre) @ rotation  # [N, 3] camera coordinates
    depth = -local[:, 2]
    u = intrinsics.cx + intrinsics.fx * local[:, 0] / depth
    v = intrinsics.cy - intrinsics.fy * local[:, 1] / depth
    return np.stack([u, v], axis=-1)


def pixel_rays(pixels: np.ndarray, camera_to_world_matrix: np.ndarray, intrinsics: PinholeIntrinsics) -> np.ndarray:
    """Unit world directions [N, 3] of the rays through pixel centres [N, 2] of an OpenGL camera [4, 4]."""
    local = np.stack(
        [
            (pixels[:, 0] - intrinsics.cx) / intrinsics.fx,
            -(pixels[:, 1] - intrinsics.cy) / intrinsics.fy,
            -np.ones(len(pixels)),
        ],
        axis=-1,
    )  # [N, 3]
    directions = local @ camera_to_world_matrix[:3, :3].T
    return directions / np.linalg.norm(directions, axis=-1, keepdims=True)
