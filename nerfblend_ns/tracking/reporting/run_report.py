"""The numbers a run reports: frames tracked and failed, speed, pose jitter, coefficients, mask coverage."""

from dataclasses import asdict
from typing import Any, Dict, List

import numpy as np

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.expressions.expression_coefficients import coefficient_ranges
from nerfblend_ns.tracking.poses.smoothing import SmoothingConfig
from nerfblend_ns.tracking.reporting.tracking_stats import coverage_summary, pose_jitter
from nerfblend_ns.tracking.video.head_crop import SquareCrop
from nerfblend_ns.tracking.video.video_frames import VideoInfo
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult, VideoFingerprint
from nerfblend_ns.tracking.workspace.workspace_writer import TrackedClip


def tracking_report(
    info: VideoInfo,
    fingerprint: VideoFingerprint,
    records: List[FrameTrackingResult],
    newly_tracked: int,
    seconds: float,
    crop: SquareCrop,
    intrinsics: PinholeIntrinsics,
    smoothing: SmoothingConfig,
) -> Dict[str, Any]:
    """What happened to the selected frames (records, in video order) and how fast the new ones were tracked."""
    tracked = sum(record.tracked for record in records)
    failed = [{"video_frame": record.index, "reason": record.failure} for record in records if not record.tracked]
    return {
        "video": {
            **asdict(fingerprint),
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "fps_known": info.fps_known,
            "frame_count": info.frame_count,
        },
        "selected_frames": len(records),
        "tracked_frames": tracked,
        "tracked_fraction": tracked / len(records),
        "failed_count": len(failed),
        "failed_frames": failed,
        "newly_tracked_frames": newly_tracked,
        "reused_cached_frames": len(records) - newly_tracked,
        "tracking_seconds": seconds,
        "frames_per_second": newly_tracked / seconds if newly_tracked and seconds > 0 else None,
        "crop": crop.to_json(),
        "intrinsics": intrinsics.to_json(),
        "smoothing": asdict(smoothing),
    }


def clip_report(clip: TrackedClip, runs: List[np.ndarray], static_names: List[str], dropped: bool) -> Dict[str, Any]:
    """Pose jitter within runs of consecutive frames, coefficient ranges and mask coverage of a tracked clip."""
    ranges = np.round(coefficient_ranges(clip.expressions_raw), 4).tolist()
    return {
        "pose_jitter": {
            "raw": pose_jitter(clip.camera_to_world_raw, runs),
            "smoothed": pose_jitter(clip.camera_to_world, runs),
        },
        "static_expression_names": static_names,
        "dropped_expression_names": static_names if dropped else [],
        "expression_ranges": dict(zip(clip.expressions_raw.names, ranges, strict=True)),
        "mask_coverage": coverage_summary(np.array([record.mask_coverage for record in clip.records])),
    }
