"""Temporal smoothing of per-frame signals and head poses (Savitzky–Golay or One-Euro)."""

from dataclasses import dataclass
from typing import List, Literal

import numpy as np
from scipy.spatial.transform import Rotation

SmoothingMethod = Literal["savgol", "one-euro", "none"]


@dataclass(frozen=True)
class SmoothingConfig:
    """How tracked poses and expression coefficients are smoothed over time (raw values are kept too)."""

    method: SmoothingMethod = "savgol"
    """savgol: centred Savitzky–Golay fit (no lag); one-euro: causal adaptive low-pass; none: raw values."""
    pose_window_s: float = 0.3
    """Savitzky–Golay window for head poses, in seconds (9 frames at 30 fps; fewer tracked frames with --every-nth)."""
    expression_window_s: float = 0.17
    """Savitzky–Golay window for expression coefficients, in seconds (5 frames at 30 fps); short, to keep blinks."""
    polyorder: int = 2
    """Savitzky–Golay polynomial order."""
    min_cutoff_hz: float = 1.5
    """One-Euro cutoff frequency at rest."""
    beta: float = 0.3
    """One-Euro speed coefficient: larger follows fast motion more closely."""


def window_frames(window_s: float, rate_hz: float) -> int:
    """The odd number of tracked frames nearest to window_s seconds at rate_hz (at least 1: no smoothing).

    In seconds, not frames: with every n-th video frame tracked, a window of frames would span n times more
    of the video, and smooth blinks and head turns away."""
    return 2 * max(0, round((window_s * rate_hz - 1) / 2)) + 1


def savitzky_golay(values: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """Centred polynomial fit of values [N, D] over window frames, shrinking the window on short clips."""
    window = min(window, len(values) if len(values) % 2 else len(values) - 1)
    if window <= polyorder:
        return values.copy()
    # In numpy rather than scipy.signal, whose import alone takes 0.4 s of a tracker run of a few seconds. The
    # least-squares polynomial through a window, evaluated at each of its frames: every frame takes the centre
    # row; the first and last half windows take the rows of their positions in the first and last window
    # (scipy's mode="interp").
    half = window // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    vandermonde = offsets[:, None] ** np.arange(polyorder + 1)  # [W, P + 1]
    fitted = vandermonde @ np.linalg.pinv(vandermonde)  # [W, W]: fitted values at each position from the samples
    samples = np.asarray(values, dtype=np.float64).reshape(len(values), -1)  # [N, D]
    smoothed = np.empty_like(samples)
    windows = np.lib.stride_tricks.sliding_window_view(samples, window, axis=0)  # [N - W + 1, D, W]
    smoothed[half : len(samples) - half] = windows @ fitted[half]
    smoothed[:half] = fitted[:half] @ samples[:window]
    smoothed[len(samples) - half :] = fitted[half + 1 :] @ samples[-window:]
    return smoothed.reshape(values.shape).astype(np.result_type(values.dtype, np.float32), copy=False)


def one_euro(
    values: np.ndarray, rate_hz: float, min_cutoff_hz: float, beta: float, derivative_cutoff_hz: float = 1.0
) -> np.ndarray:
    """One-Euro filter of values [N, D] sampled at rate_hz: the cutoff rises with the signal's speed."""

    def smoothing_factor(cutoff_hz: np.ndarray) -> np.ndarray:
        time_constant = 1.0 / (2 * np.pi * cutoff_hz)
        return 1.0 / (1.0 + time_constant * rate_hz)

    filtered = values.astype(np.float64).copy()
    speed = np.zeros(values.shape[1:])
    for index in range(1, len(values)):
        raw_speed = (values[index] - filtered[index - 1]) * rate_hz
        speed += smoothing_factor(np.asarray(derivative_cutoff_hz)) * (raw_speed - speed)
        alpha = smoothing_factor(min_cutoff_hz + beta * np.abs(speed))
        filtered[index] = filtered[index - 1] + alpha * (values[index] - filtered[index - 1])
    return filtered


def smooth_values(values: np.ndarray, config: SmoothingConfig, window_s: float, rate_hz: float) -> np.ndarray:
    """Values [N, D] sampled at rate_hz smoothed over time by the configured method."""
    if config.method == "savgol":
        return savitzky_golay(values, window_frames(window_s, rate_hz), config.polyorder)
    if config.method == "one-euro":
        return one_euro(values, rate_hz, config.min_cutoff_hz, config.beta)
    return values.copy()


def smooth_poses(camera_to_world: np.ndarray, config: SmoothingConfig, rate_hz: float) -> np.ndarray:
    """Camera-to-world poses [N, 4, 4] smoothed over time.

    The head's rotation and its centre's position in the camera are smoothed separately: in that frame a
    turn of the head about its centre moves no translation, so neither leaks jitter into the other.
    """
    world_to_camera = np.linalg.inv(camera_to_world)  # [N, 4, 4]
    quaternions = Rotation.from_matrix(world_to_camera[:, :3, :3]).as_quat()  # [N, 4]
    # q and −q are one rotation: keep consecutive quaternions in one hemisphere before averaging them.
    signs = np.sign(np.sum(quaternions[1:] * quaternions[:-1], axis=1))
    quaternions[1:] *= np.cumprod(np.where(signs == 0, 1.0, signs))[:, None]
    quaternions = smooth_values(quaternions, config, config.pose_window_s, rate_hz)
    translations = smooth_values(world_to_camera[:, :3, 3], config, config.pose_window_s, rate_hz)  # [N, 3]
    smoothed = np.tile(np.eye(4), (len(camera_to_world), 1, 1))
    smoothed[:, :3, :3] = Rotation.from_quat(quaternions).as_matrix()
    smoothed[:, :3, 3] = translations
    return np.linalg.inv(smoothed)


def contiguous_runs(positions: np.ndarray) -> List[np.ndarray]:
    """Index arrays into positions [N] (increasing) of its runs of consecutive values: smoothing stops at gaps."""
    breaks = np.nonzero(np.diff(positions) != 1)[0] + 1
    return np.split(np.arange(len(positions)), breaks)
