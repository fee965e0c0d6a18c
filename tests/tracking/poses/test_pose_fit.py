"""Joint fit of a rigid landmark template and all head poses, on synthetic landmarks with known poses."""

import numpy as np
from scipy.spatial.transform import Rotation

from nerfblend_ns.tracking.poses.head_pose import mediapipe_intrinsics
from nerfblend_ns.tracking.poses.pose_fit import (
    STABLE_LANDMARKS,
    PoseFitConfig,
    best_template,
    fit_poses,
    reprojection_rms_px,
)

FRAMES = 240
RESOLUTION = 512
INTRINSICS = mediapipe_intrinsics(RESOLUTION, RESOLUTION)


def _head_points(rng: np.random.Generator) -> np.ndarray:
    """[K, 3] points on the front half of a head-sized ellipsoid (metres), like forehead, eyes and temples."""
    azimuth = rng.uniform(-1.4, 1.4, len(STABLE_LANDMARKS))
    height = rng.uniform(-0.03, 0.08, len(STABLE_LANDMARKS))
    return np.stack([0.075 * np.sin(azimuth), height, 0.09 * np.cos(azimuth) - 0.01], axis=-1)


def _synthetic_clip(seed: int, jump_at: int = FRAMES):
    """Landmarks [F, 478, 3], true cameras [F, 4, 4] and per-frame (MediaPipe-like) noisy cameras [F, 4, 4].

    From frame jump_at on, the head sits 6 cm further right: a cut in the video.
    """
    rng = np.random.default_rng(seed)
    template = _head_points(rng)
    time = np.arange(FRAMES) / 25.0
    angles = np.stack(
        [np.radians(limit) * np.sin(2 * np.pi * hz * time + phase) for limit, hz, phase in ((20, 0.3, 0), (10, 0.5, 1), (5, 0.4, 2))],
        axis=-1,
    )
    rotation = Rotation.from_euler("yxz", angles).as_matrix()  # [F, 3, 3] head to camera
    translation = np.stack(
        [0.02 * np.sin(2 * np.pi * 0.2 * time), 0.01 * np.sin(2 * np.pi * 0.3 * time), -0.5 + 0.03 * np.sin(0.6 * time)],
        axis=-1,
    )
    translation[jump_at:, 0] += 0.06
    camera = np.einsum("nij,kj->nki", rotation, template) + translation[:, None]  # [F, K, 3]
    depth = -camera[..., 2]
    pixels = np.stack(
        [INTRINSICS.cx + INTRINSICS.fx * camera[..., 0] / depth, INTRINSICS.cy - INTRINSICS.fy * camera[..., 1] / depth],
        axis=-1,
    )
    pixels += rng.normal(0.0, 0.7, pixels.shape)
    outliers = rng.random(pixels.shape[:2]) < 0.03
    pixels[outliers] += rng.normal(0.0, 8.0, (outliers.sum(), 2))  # a landmark now and then far off
    landmarks = np.zeros((FRAMES, 478, 3))
    landmarks[:, list(STABLE_LANDMARKS), :2] = pixels
    landmarks[:, list(STABLE_LANDMARKS), 2] = (depth / -translation[:, None, 2] - 1.0) * INTRINSICS.fx
    landmarks[:, list(STABLE_LANDMARKS), 2] += rng.normal(0.0, 3.0, depth.shape)
    world_to_camera = np.tile(np.eye(4), (FRAMES, 1, 1))
    world_to_camera[:, :3, :3], world_to_camera[:, :3, 3] = rotation, translation
    noisy = world_to_camera.copy()
    noisy[:, :3, :3] = Rotation.from_rotvec(rng.normal(0.0, np.radians(0.5), (FRAMES, 3))).as_matrix() @ rotation
    noisy[:, :3, 3] += rng.normal(0.0, 0.003, (FRAMES, 3))
    return landmarks, np.linalg.inv(world_to_camera), np.linalg.inv(noisy)


def _rotation_error_deg(estimated: np.ndarray, truth: np.ndarray) -> float:
    """RMS angle (degrees) between cameras [F, 4, 4] after the one world rotation that best aligns them.

    The fit's world is the template's, which may differ from the true head frame by a fixed rotation.
    """
    u, _, vt = np.linalg.svd(np.einsum("nij,nkj->ik", estimated[:, :3, :3], truth[:, :3, :3]))
    aligned = (u @ vt) @ truth[:, :3, :3]
    relative = np.einsum("nji,njk->nik", estimated[:, :3, :3], aligned)
    cosine = np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)
    return float(np.degrees(np.sqrt(np.mean(np.arccos(cosine) ** 2))))


def test_joint_fit_recovers_poses_better_than_per_frame_poses():
    landmarks, truth, per_frame = _synthetic_clip(seed=1)
    fit = fit_poses(landmarks, per_frame, INTRINSICS, [np.arange(FRAMES)], PoseFitConfig())
    per_frame_error = _rotation_error_deg(per_frame, truth)
    fit_error = _rotation_error_deg(fit.camera_to_world, truth)
    assert 0.75 < per_frame_error < 0.95  # 0.5° per axis of per-frame noise
    assert fit_error < 0.7 * per_frame_error
    unsmoothed = fit_poses(landmarks, per_frame, INTRINSICS, [np.arange(FRAMES)], PoseFitConfig(smoothness=0.0))
    assert fit_error < _rotation_error_deg(unsmoothed.camera_to_world, truth)  # the smoothness term helps too
    # Head centre positions (the world origin in each camera) within a few millimetres.
    centres = np.linalg.inv(fit.camera_to_world)[:, :3, 3] - np.linalg.inv(truth)[:, :3, 3]
    assert np.sqrt(np.mean(np.sum(centres**2, axis=1))) < 0.004


def test_fitted_poses_reproject_the_stable_landmarks_better():
    landmarks, truth, per_frame = _synthetic_clip(seed=2)
    fit = fit_poses(landmarks, per_frame, INTRINSICS, [np.arange(FRAMES)], PoseFitConfig())
    fitted_rms = reprojection_rms_px(landmarks, fit.camera_to_world, fit.template, INTRINSICS)
    per_frame_rms = reprojection_rms_px(landmarks, per_frame, best_template(landmarks, per_frame, INTRINSICS), INTRINSICS)
    true_rms = reprojection_rms_px(landmarks, truth, best_template(landmarks, truth, INTRINSICS), INTRINSICS)
    assert fitted_rms < 0.6 * per_frame_rms
    assert fitted_rms < 1.1 * true_rms  # as close to the landmarks as the true poses are


def test_smoothness_does_not_cross_gaps_between_runs():
    landmarks, truth, per_frame = _synthetic_clip(seed=3, jump_at=120)
    split = fit_poses(landmarks, per_frame, INTRINSICS, [np.arange(120), np.arange(120, FRAMES)], PoseFitConfig())
    joined = fit_poses(landmarks, per_frame, INTRINSICS, [np.arange(FRAMES)], PoseFitConfig())
    near_cut = slice(115, 125)

    def centre_error_mm(fit) -> float:
        error = np.linalg.inv(fit.camera_to_world[near_cut])[:, :3, 3] - np.linalg.inv(truth[near_cut])[:, :3, 3]
        return float(np.sqrt(np.mean(np.sum(error**2, axis=1))) * 1000)

    assert centre_error_mm(split) < 4.0
    assert centre_error_mm(joined) > 2.0 * centre_error_mm(split)  # smoothing across the cut would blur it


def test_smoothness_is_stated_in_seconds_for_sparsely_tracked_frames():
    """Every 5th frame of the clip: the penalty scaled to the 0.2 s spacing follows the head; the same penalty per
    tracked frame (as if they were 1/25 s apart) stiffens the fit and lags the motion."""
    landmarks, truth, per_frame = _synthetic_clip(seed=4)
    every_fifth = slice(None, None, 5)
    landmarks, truth, per_frame = landmarks[every_fifth], truth[every_fifth], per_frame[every_fifth]
    runs = [np.arange(len(landmarks))]
    in_seconds = fit_poses(landmarks, per_frame, INTRINSICS, runs, PoseFitConfig(), step_s=0.2)
    per_frame_step = fit_poses(landmarks, per_frame, INTRINSICS, runs, PoseFitConfig(), step_s=1.0 / 25.0)
    seconds_error = _rotation_error_deg(in_seconds.camera_to_world, truth)
    assert seconds_error < 0.2 * _rotation_error_deg(per_frame_step.camera_to_world, truth)
    assert seconds_error < _rotation_error_deg(per_frame, truth)
