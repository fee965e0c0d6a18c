"""Face parts' motion explained by the coefficients, and the residual components, on synthetic landmarks with known motion."""

import numpy as np
from face_landmark_scene import INTRINSICS, cameras_to_world, landmark_pixels

from nerfblend_ns.face_mesh_landmarks import EYE_CORNERS, NUM_LANDMARKS
from nerfblend_ns.tracking.expressions.expression_fidelity import (
    FACE_PARTS,
    component_values,
    expression_fidelity,
    linear_map,
    part_in_head_frame,
    residual_components,
)

FRAMES, COEFFICIENTS = 400, 6
MOUTH = FACE_PARTS["mouth"]


def _lips(hidden_strength: float, seed: int = 0):
    """Coefficients [F, K] and lips [F, M, 3] (mm): linear in the coefficients plus one hidden factor and noise."""
    rng = np.random.default_rng(seed)
    coefficients = rng.uniform(0.0, 1.0, (FRAMES, COEFFICIENTS))
    rest = rng.normal(0.0, 20.0, (len(MOUTH), 3))
    shapes = rng.normal(0.0, 2.0, (COEFFICIENTS, len(MOUTH), 3))
    hidden_shape = rng.normal(0.0, 1.0, (len(MOUTH), 3))
    hidden = rng.normal(0.0, 1.0, FRAMES)
    lips = rest + np.einsum("fk,kmd->fmd", coefficients, shapes) + hidden_strength * hidden[:, None, None] * hidden_shape
    return coefficients, lips + rng.normal(0.0, 0.05, lips.shape), hidden


def test_coefficients_that_explain_the_lips_leave_only_the_noise():
    coefficients, lips, _ = _lips(hidden_strength=0.0)
    report = expression_fidelity(coefficients, lips)
    assert report["held_out_frames"] == 80 and report["fitted_frames"] == 320 and report["landmarks"] == len(MOUTH)
    assert report["motion_rms_mm"]["held_out"] > 2.0
    noise_rms = 0.05 * np.sqrt(3)
    assert report["coefficients_residual_rms_mm"]["held_out"] < 1.3 * noise_rms


def test_one_residual_component_captures_a_hidden_factor():
    coefficients, lips, hidden = _lips(hidden_strength=1.0)
    report = expression_fidelity(coefficients, lips)
    left = report["coefficients_residual_rms_mm"]["held_out"]
    with_one = report["with_residual_components_rms_mm"]["1"]["held_out"]
    assert left > 1.0 and with_one < 0.15 < 0.2 * left
    components = residual_components(coefficients, lips, 1)
    values = component_values(coefficients, lips, components, linear_map(coefficients, lips))[:, 0]
    assert abs(np.corrcoef(values, hidden)[0, 1]) > 0.99  # the extra coefficient is the hidden factor
    assert abs(values.mean()) < 1e-6 and abs(values.std() - 1.0) < 1e-6  # centred, in standard deviations


def test_too_few_frames_give_a_note_not_numbers():
    coefficients, lips, _ = _lips(hidden_strength=0.0)
    assert "note" in expression_fidelity(coefficients[:5], lips[:5])


def test_a_parts_positions_are_relative_to_the_eye_corners_and_free_of_a_sideways_pose_error():
    rng = np.random.default_rng(1)
    head = np.tile(rng.uniform(-0.08, 0.08, (1, NUM_LANDMARKS, 3)), (3, 1, 1))  # [3, 478, 3] m
    truth = cameras_to_world(np.zeros((3, 2)))
    landmarks = landmark_pixels(head, truth)
    tracked = cameras_to_world(np.array([[0.0, 0.0], [0.004, -0.002], [-0.003, 0.005]]))  # errors of a few mm
    expected = (head[:, list(MOUTH)] - head[:, list(EYE_CORNERS)].mean(axis=1, keepdims=True)) * 1000.0
    np.testing.assert_allclose(part_in_head_frame(landmarks, "mouth", truth, INTRINSICS), expected, atol=1e-6)
    np.testing.assert_allclose(part_in_head_frame(landmarks, "mouth", tracked, INTRINSICS), expected, atol=1e-6)
