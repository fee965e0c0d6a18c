"""How well a clip's tracking explains its landmarks: the stable landmarks by each pose source (with their
jitter), and the mouth and brows by the expression coefficients.

Each set of poses is scored with the rigid template that fits it best (least squares), so MediaPipe's poses
are not charged for its generic face model: the numbers compare poses, not templates.
"""

from typing import Any, Dict, List

import numpy as np

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.expressions.expression_fidelity import FACE_PARTS, expression_fidelity, part_in_head_frame
from nerfblend_ns.tracking.poses.pose_fit import best_template, reprojection_rms_px
from nerfblend_ns.tracking.poses.smoothing import SmoothingConfig, smooth_poses
from nerfblend_ns.tracking.reporting.tracking_stats import pose_jitter
from nerfblend_ns.tracking.workspace.workspace_writer import TrackedClip


def pose_sources(clip: TrackedClip, runs: List[np.ndarray], smoothing: SmoothingConfig, rate_hz: float):
    """The poses [N, 4, 4] to compare: MediaPipe's raw and time-smoothed ones, and the workspace's."""
    smoothed = clip.camera_to_world_raw.copy()
    for run in runs:
        smoothed[run] = smooth_poses(clip.camera_to_world_raw[run], smoothing, rate_hz)
    return {"mediapipe": clip.camera_to_world_raw, "mediapipe_smoothed": smoothed, "workspace": clip.camera_to_world}


def pose_fit_report(
    clip: TrackedClip, runs: List[np.ndarray], intrinsics: PinholeIntrinsics, smoothing: SmoothingConfig, rate_hz: float
) -> Dict[str, Any]:
    """Stable landmarks' reprojection RMS (pixels) and frame-to-frame jitter of each pose source."""
    landmarks = np.stack([record.landmarks for record in clip.records]).astype(np.float64)  # [N, 478, 3]
    scores = {}
    for name, poses in pose_sources(clip, runs, smoothing, rate_hz).items():
        template = best_template(landmarks, poses, intrinsics)
        scores[name] = {
            "stable_landmark_rms_px": reprojection_rms_px(landmarks, poses, template, intrinsics),
            **pose_jitter(poses, runs),
        }
    return {"pose_quality": scores}


def expression_report(clip: TrackedClip, intrinsics: PinholeIntrinsics) -> Dict[str, Any]:
    """How much of each face part's motion (head frame, workspace poses, relative to the eye corners) the
    workspace's coefficients explain."""
    landmarks = np.stack([record.landmarks for record in clip.records]).astype(np.float64)
    report = {}
    for part in FACE_PARTS:
        points = part_in_head_frame(landmarks, part, clip.camera_to_world, intrinsics)
        report[part] = fidelity = expression_fidelity(clip.expressions.values, points)
        for frame in fidelity.get("least_explained_frames", []):  # positions become the frames' files
            frame["file_path"] = clip.records[frame.pop("frame")].image_file
    return {"expression_fidelity": report}
