"""The test frames' face motion their coefficients leave unexplained: a brow raise no coefficient carries is
found in the frame that has it, not in its lips nor in the frames without it, whatever the pose errors."""

from pathlib import Path

import numpy as np
from face_landmark_scene import INTRINSICS, cameras_to_world, landmark_pixels

from nerfblend_ns.benchmarks.unexplained_motion import unexplained_motion_of_test_frames
from nerfblend_ns.dataparsers.landmark_file import FrameLandmarks
from nerfblend_ns.dataparsers.tracked_sequence import SequenceFrame, TrackedSequence
from nerfblend_ns.face_mesh_landmarks import BROW_LANDMARKS, FACE_OVAL, INNER_LIP_LANDMARKS, NUM_LANDMARKS, OUTER_LIP_LANDMARKS

FRAMES, COEFFICIENTS, TEST = 80, 4, 10
RAISED = 3
"""The test frame whose brows rise 3 mm without any coefficient saying so."""


def _sequence(kind: str = "mediapipe-478") -> TrackedSequence:
    rng = np.random.default_rng(0)
    coefficients = rng.uniform(0.0, 1.0, (FRAMES, COEFFICIENTS))
    shapes = np.zeros((COEFFICIENTS, NUM_LANDMARKS, 3))
    for part in (OUTER_LIP_LANDMARKS + INNER_LIP_LANDMARKS, BROW_LANDMARKS):  # coefficients move both parts
        shapes[:, list(part)] = rng.normal(0.0, 0.002, (COEFFICIENTS, len(part), 3))
    head = rng.uniform(-0.08, 0.08, (NUM_LANDMARKS, 3)) + np.einsum("fk,kmd->fmd", coefficients, shapes)
    head[FRAMES - TEST + RAISED, list(BROW_LANDMARKS), 1] += 0.003
    true_cameras = cameras_to_world(np.zeros((FRAMES, 2)))
    tracked = cameras_to_world(rng.normal(0.0, 0.003, (FRAMES, 2)))  # pose errors as large as the raise
    points = landmark_pixels(head, true_cameras)
    frames = [
        SequenceFrame(Path(f"{index}.jpg"), Path(f"{index}.png"), tracked[index], coefficients[index], INTRINSICS)
        for index in range(FRAMES)
    ]
    landmarks = FrameLandmarks(kind, points if kind == "mediapipe-478" else points[:, list(FACE_OVAL)])
    return TrackedSequence("nerfblend", Path("transforms.json"), [f"c{k}" for k in range(COEFFICIENTS)], frames, 1.0, landmarks=landmarks)


def test_the_raised_brows_are_the_test_frames_unexplained_motion():
    train, test = range(FRAMES - TEST), range(FRAMES - TEST, FRAMES)
    motion = unexplained_motion_of_test_frames(_sequence(), list(train), list(test))
    assert set(motion) == {"mouth", "brows"} and all(len(values) == TEST for values in motion.values())
    brows = motion["brows"]
    assert int(np.argmax(brows)) == RAISED and 2.9 < brows[RAISED] < 3.1  # mm: every brow landmark rose 3 mm
    # What the ridge on the coefficients' map leaves, and no pose error.
    assert np.delete(brows, RAISED).max() < 0.05 and motion["mouth"].max() < 0.05


def test_a_sequence_without_mediapipe_landmarks_gets_no_measure():
    assert unexplained_motion_of_test_frames(_sequence("face-oval"), list(range(70)), list(range(70, 80))) == {}
