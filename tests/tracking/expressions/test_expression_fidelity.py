"""Face parts' motion explained by the coefficients, and the residual components, on synthetic landmarks with known motion."""

import numpy as np
from face_landmark_scene import INTRINSICS, cameras_to_world, landmark_pixels

from nerfblend_ns.face_mesh_landmarks import EYE_CORNERS, NUM_LANDMARKS
from nerfblend_ns.tracking.clip_assembly import with_residual_coefficients
from nerfblend_ns.tracking.expressions.expression_coefficients import ExpressionTable
from nerfblend_ns.tracking.expressions.expression_fidelity import (
    FACE_PARTS,
    component_values,
    expression_fidelity,
    linear_map,
    part_in_head_frame,
    residual_components,
)
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult
from nerfblend_ns.tracking.workspace.workspace_writer import TrackedClip

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


def test_residual_coefficients_of_each_part_carry_its_hidden_motion_not_the_pose_error():
    rng = np.random.default_rng(2)
    coefficients = rng.uniform(0.0, 1.0, (FRAMES, COEFFICIENTS))
    rest = rng.uniform(-0.08, 0.08, (NUM_LANDMARKS, 3))
    shapes = np.zeros((COEFFICIENTS, NUM_LANDMARKS, 3))
    shapes[:, list(MOUTH)] = rng.normal(0.0, 0.002, (COEFFICIENTS, len(MOUTH), 3))
    design = np.concatenate([np.ones((FRAMES, 1)), coefficients], axis=1)
    hidden = {}
    for part in FACE_PARTS:  # motions the coefficients cannot explain: orthogonal to them over the clip
        draw = rng.normal(0.0, 1.0, FRAMES)
        hidden[part] = draw - design @ np.linalg.lstsq(design, draw, rcond=None)[0]
    head = rest + np.einsum("fk,kmd->fmd", coefficients, shapes)
    head[:, list(MOUTH), 0] += 0.001 * hidden["mouth"][:, None]  # a lip motion the coefficients miss
    head[:, list(FACE_PARTS["brows"]), 1] += 0.001 * hidden["brows"][:, None]  # a brow raise they miss
    truth = cameras_to_world(np.zeros((FRAMES, 2)))
    tracked = cameras_to_world(rng.normal(0.0, 0.003, (FRAMES, 2)))  # sideways pose errors larger than either
    records = [FrameTrackingResult(index=index, landmarks=points) for index, points in enumerate(landmark_pixels(head, truth))]
    table = ExpressionTable(names=[f"c{index}" for index in range(COEFFICIENTS)], values=coefficients)
    clip = TrackedClip(records, tracked, tracked, table, table)
    assert with_residual_coefficients(clip, INTRINSICS, {"mouth": 0, "brows": 0}) is clip
    extended = with_residual_coefficients(clip, INTRINSICS, {"mouth": 1, "brows": 1})
    assert extended.expressions.names == table.names + ["mouthResidual1", "browResidual1"]
    assert extended.expressions_raw.names == extended.expressions.names
    for column, part in ((COEFFICIENTS, "mouth"), (COEFFICIENTS + 1, "brows")):
        values = extended.expressions.values[:, column]
        assert abs(np.corrcoef(values, hidden[part])[0, 1]) > 0.99, part
    np.testing.assert_array_equal(extended.expressions.values[:, :COEFFICIENTS], coefficients)
