"""Head pose conventions: MediaPipe's face-to-camera matrix as an OpenGL camera in a head-fixed world."""

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from talking_clip import first_frames, models_or_skip

from nerfblend_ns.face_mesh_landmarks import NOSE_TIP
from nerfblend_ns.tracking.poses.head_pose import (
    CANONICAL_NOSE_TIP_CM,
    HEAD_CENTRE_CM,
    camera_to_world,
    canonical_to_world,
    mediapipe_intrinsics,
    project,
)


def _face_to_camera(rotation: np.ndarray, translation_cm) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = rotation, translation_cm
    return matrix


def test_intrinsics_follow_the_63_degree_convention():
    intrinsics = mediapipe_intrinsics(512, 512)
    assert intrinsics.fy == pytest.approx(0.8158 * 512, rel=1e-3)
    assert intrinsics.fx == intrinsics.fy
    assert (intrinsics.cx, intrinsics.cy) == (256.0, 256.0)


def test_known_matrix_gives_the_inverse_in_metres_about_the_head_centre():
    rotation = Rotation.from_euler("y", 30, degrees=True).as_matrix()
    face_to_camera = _face_to_camera(rotation, [1.0, 2.0, -30.0])
    pose = camera_to_world(face_to_camera)
    np.testing.assert_allclose(pose[:3, :3], rotation.T, atol=1e-12)
    np.testing.assert_allclose(pose[:3, 3], (-rotation.T @ [1.0, 2.0, -30.0] - HEAD_CENTRE_CM) / 100, atol=1e-12)
    np.testing.assert_allclose(pose[3], [0, 0, 0, 1])
    # The defining property: a canonical point seen in the camera maps back to its world position.
    points_cm = np.random.default_rng(0).uniform(-8, 8, (5, 3))  # [5, 3]
    in_camera_m = (points_cm @ rotation.T + [1.0, 2.0, -30.0]) / 100
    in_world = in_camera_m @ pose[:3, :3].T + pose[:3, 3]
    np.testing.assert_allclose(in_world, canonical_to_world(points_cm), atol=1e-12)


def test_frontal_face_puts_an_opengl_camera_in_front_of_the_face():
    pose = camera_to_world(_face_to_camera(np.eye(3), [0.0, 0.0, -30.0]))
    assert pose[2, 3] > 0.25  # camera on the +z side, the side the face looks towards
    np.testing.assert_allclose(-pose[:3, 2], [0, 0, -1])  # and it looks down its −z axis, at the face
    intrinsics = mediapipe_intrinsics(256, 256)
    nose = project(canonical_to_world(CANONICAL_NOSE_TIP_CM[None]), pose, intrinsics)[0]
    assert nose[0] == pytest.approx(128.0)
    assert nose[1] > 128.0  # the nose tip is below the canonical origin's height: lower in the image (y down)


def test_projection_matches_the_opengl_pinhole_formula():
    rotation = Rotation.from_euler("xyz", [10, -20, 5], degrees=True).as_matrix()
    face_to_camera = _face_to_camera(rotation, [2.0, -1.0, -40.0])
    intrinsics = mediapipe_intrinsics(300, 300)
    points_cm = np.random.default_rng(1).uniform(-6, 6, (6, 3))
    camera = points_cm @ rotation.T + [2.0, -1.0, -40.0]  # [6, 3] cm, OpenGL camera axes
    expected = np.stack(
        [150 + intrinsics.fx * camera[:, 0] / -camera[:, 2], 150 - intrinsics.fy * camera[:, 1] / -camera[:, 2]], -1
    )
    pixels = project(canonical_to_world(points_cm), camera_to_world(face_to_camera), intrinsics)
    np.testing.assert_allclose(pixels, expected, atol=1e-9)


def test_canonical_nose_projects_onto_the_nose_landmark_of_a_real_frame():
    pytest.importorskip("mediapipe")
    from nerfblend_ns.tracking.face.face_tracker import FaceTracker
    from nerfblend_ns.tracking.mediapipe_tasks.model_files import FACE_LANDMARKER

    model = models_or_skip(FACE_LANDMARKER)[FACE_LANDMARKER.file_name]
    (frame,) = first_frames(1)
    with FaceTracker(model, video=False) as tracker:
        face = tracker.track(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    assert face is not None
    height = frame.shape[0]
    intrinsics = mediapipe_intrinsics(frame.shape[1], height)
    nose = project(canonical_to_world(CANONICAL_NOSE_TIP_CM[None]), camera_to_world(face.face_to_camera), intrinsics)[0]
    distance = np.linalg.norm(nose - face.landmarks[NOSE_TIP, :2])
    assert distance < 0.04 * height, f"nose projected {distance:.1f} px from its landmark"
