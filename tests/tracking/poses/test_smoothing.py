"""Temporal smoothing: noise goes down, a step stays where it was, poses stay rigid."""

import numpy as np
import pytest
from scipy.signal import savgol_filter
from scipy.spatial.transform import Rotation

from nerfblend_ns.tracking.poses.smoothing import (
    SmoothingConfig,
    contiguous_runs,
    one_euro,
    savitzky_golay,
    smooth_poses,
    smooth_values,
    window_frames,
)
from nerfblend_ns.tracking.reporting.tracking_stats import rotation_second_differences_deg


def _noisy_sine(num_frames: int = 300, noise: float = 0.05) -> tuple:
    time = np.arange(num_frames) / 30.0
    clean = np.sin(2 * np.pi * 0.5 * time)[:, None]  # [N, 1] slow motion at 0.5 Hz
    return clean, clean + np.random.default_rng(0).normal(0, noise, clean.shape)


@pytest.mark.parametrize(
    "frames, window, polyorder, shape",
    [(300, 9, 2, (3,)), (9, 9, 2, (2,)), (10, 9, 2, ()), (120, 11, 3, (4, 4)), (40, 5, 2, (6,))],
)
def test_savitzky_golay_matches_scipys_interp_mode(frames, window, polyorder, shape):
    values = np.random.default_rng(frames).normal(size=(frames, *shape))
    reference = savgol_filter(values, min(window, frames if frames % 2 else frames - 1), polyorder, axis=0, mode="interp")
    np.testing.assert_allclose(savitzky_golay(values, window, polyorder), reference, rtol=0, atol=1e-12)


def test_savitzky_golay_removes_most_noise_of_a_slow_signal():
    clean, noisy = _noisy_sine()
    smoothed = savitzky_golay(noisy, window=9, polyorder=2)
    error_before = np.sqrt(np.mean((noisy - clean) ** 2))
    error_after = np.sqrt(np.mean((smoothed - clean) ** 2))
    assert error_after < 0.55 * error_before


def test_savitzky_golay_keeps_the_position_of_a_step():
    step = np.r_[np.zeros(50), np.ones(50)][:, None]  # [100, 1] the jump is between frames 49 and 50
    noisy = step + np.random.default_rng(1).normal(0, 0.02, step.shape)
    smoothed = savitzky_golay(noisy, window=9, polyorder=2)[:, 0]
    crossing = np.argmax(smoothed > 0.5)
    assert crossing in (49, 50)
    assert abs(smoothed[:40].mean()) < 0.02 and abs(smoothed[60:].mean() - 1) < 0.02


def test_one_euro_reduces_jitter_at_rest_and_reaches_a_step():
    step = np.r_[np.zeros(60), np.ones(60)][:, None]
    noisy = step + np.random.default_rng(2).normal(0, 0.03, step.shape)
    filtered = one_euro(noisy, rate_hz=30.0, min_cutoff_hz=1.5, beta=0.3)[:, 0]
    assert np.std(filtered[20:60]) < 0.6 * np.std(noisy[20:60, 0])
    assert filtered[59] < 0.2  # causal: nothing moves before the step
    assert abs(filtered[75] - 1.0) < 0.1  # and it has caught up half a second later


def test_short_clips_are_smoothed_with_a_shorter_window_or_left_alone():
    values = np.random.default_rng(3).normal(size=(4, 2))
    assert savitzky_golay(values, window=9, polyorder=2).shape == (4, 2)
    np.testing.assert_array_equal(savitzky_golay(values[:2], window=9, polyorder=2), values[:2])


def test_pose_smoothing_reduces_rotation_jitter_and_stays_rigid():
    rng = np.random.default_rng(4)
    num_frames = 120
    yaw = np.radians(20) * np.sin(np.linspace(0, 2 * np.pi, num_frames))
    truth = Rotation.from_euler("y", yaw[:, None])
    noisy = truth * Rotation.from_rotvec(rng.normal(0, np.radians(0.4), (num_frames, 3)))
    poses = np.tile(np.eye(4), (num_frames, 1, 1))
    poses[:, :3, :3] = noisy.as_matrix()
    poses[:, :3, 3] = noisy.apply([0.0, 0.0, 0.3]) + rng.normal(0, 0.001, (num_frames, 3))
    smoothed = smooth_poses(poses, SmoothingConfig(), rate_hz=30.0)
    before = np.sqrt(np.mean(rotation_second_differences_deg(poses) ** 2))
    after = np.sqrt(np.mean(rotation_second_differences_deg(smoothed) ** 2))
    assert after < 0.4 * before
    rotations = smoothed[:, :3, :3]
    np.testing.assert_allclose(
        np.einsum("nji,njk->nik", rotations, rotations), np.tile(np.eye(3), (num_frames, 1, 1)), atol=1e-9
    )
    np.testing.assert_allclose(smoothed[:, 3], np.tile([0, 0, 0, 1.0], (num_frames, 1)))
    error = (Rotation.from_matrix(rotations) * truth.inv()).magnitude()
    assert np.degrees(np.sqrt(np.mean(error**2))) < 0.6 * np.degrees(
        np.sqrt(np.mean((noisy * truth.inv()).magnitude() ** 2))
    )


def test_contiguous_runs_split_at_gaps():
    runs = contiguous_runs(np.array([0, 1, 2, 5, 6, 9]))
    assert [run.tolist() for run in runs] == [[0, 1, 2], [3, 4], [5]]


def test_windows_are_stated_in_seconds_whatever_the_tracked_rate():
    config = SmoothingConfig()
    assert window_frames(config.pose_window_s, 30.0) == 9
    assert window_frames(config.expression_window_s, 30.0) == 5
    assert window_frames(config.pose_window_s, 15.0) == 5  # every 2nd frame: the same 0.3 s
    assert window_frames(config.pose_window_s, 6.0) == 1  # every 5th: frames 0.17 s apart are left alone
    assert window_frames(0.0, 30.0) == 1


def test_a_blink_tracked_at_every_fifth_frame_survives_expression_smoothing():
    # A 0.2 s blink in a 30 fps video tracked at every 5th frame is one or two samples at 6 Hz: a window of
    # five tracked frames (0.83 s of video) flattened it to half its height.
    blink = np.zeros((40, 1))
    blink[20] = 1.0
    smoothed = smooth_values(blink, SmoothingConfig(), SmoothingConfig().expression_window_s, rate_hz=6.0)
    assert smoothed[20, 0] > 0.99
    at_full_rate = np.zeros((200, 1))
    at_full_rate[100:106] = 1.0  # the same blink tracked at 30 fps: six frames
    smoothed = smooth_values(at_full_rate, SmoothingConfig(), SmoothingConfig().expression_window_s, rate_hz=30.0)
    assert smoothed[102, 0] > 0.9
