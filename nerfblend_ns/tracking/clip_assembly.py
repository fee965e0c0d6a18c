"""The tracked frames of a clip as a whole: poses in the head-fixed world, coefficients, smoothing."""

from typing import List, Mapping, Tuple

import numpy as np

from nerfblend_ns.tracking.expressions.expression_coefficients import ExpressionTable, from_blendshapes, static_columns
from nerfblend_ns.tracking.expressions.expression_fidelity import (
    component_values,
    linear_map,
    part_in_head_frame,
    residual_components,
)
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.residual_coefficients import residual_name
from nerfblend_ns.tracking.poses.head_pose import camera_to_world
from nerfblend_ns.tracking.poses.pose_fit import PoseFitConfig, fit_poses
from nerfblend_ns.tracking.poses.smoothing import SmoothingConfig, contiguous_runs, smooth_poses, smooth_values
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult
from nerfblend_ns.tracking.workspace.workspace_writer import TrackedClip


def assemble_clip(
    records: List[FrameTrackingResult],
    positions: np.ndarray,  # [N] place of each record among the selected frames
    blendshape_names: List[str],
    smoothing: SmoothingConfig,
    rate_hz: float,
    static_range: float,
    drop_static: bool,
    pose_fit: PoseFitConfig,
    intrinsics: PinholeIntrinsics,
) -> Tuple[TrackedClip, List[str]]:
    """The tracked clip with fitted (or smoothed) poses and smoothed coefficients, and the static coefficients' names.

    Coefficients moving less than static_range over the clip are static; drop_static leaves them out.
    """
    raw_poses = np.stack([camera_to_world(record.face_to_camera) for record in records])  # [N, 4, 4]
    raw = from_blendshapes(blendshape_names, np.stack([record.blendshapes for record in records]).astype(np.float64))
    static = static_columns(raw, static_range)
    static_names = [raw.names[column] for column in static]
    if drop_static:
        raw = raw.keep([column for column in range(len(raw.names)) if column not in static])
    poses, values = raw_poses.copy(), raw.values.copy()
    runs = contiguous_runs(positions)
    for run in runs:  # failed frames split the clip: nothing is smoothed across them
        poses[run] = smooth_poses(raw_poses[run], smoothing, rate_hz)
        values[run] = smooth_values(raw.values[run], smoothing, smoothing.expression_window_s, rate_hz)
    if pose_fit.enabled:
        landmarks = np.stack([record.landmarks for record in records]).astype(np.float64)
        poses = fit_poses(landmarks, raw_poses, intrinsics, runs, pose_fit, step_s=1.0 / rate_hz).camera_to_world
    smoothed = ExpressionTable(names=raw.names, values=np.clip(values, 0.0, 1.0))
    return TrackedClip(records, raw_poses, poses, raw, smoothed), static_names


def with_residual_coefficients(clip: TrackedClip, intrinsics: PinholeIntrinsics, counts: Mapping[str, int]) -> TrackedClip:
    """The clip with counts[part] extra coefficients appended per face part: each frame's motion of that part left
    unexplained by its named coefficients, along the clip's principal directions of that motion, in standard
    deviations (0 is the clip's average)."""
    landmarks = np.stack([record.landmarks for record in clip.records]).astype(np.float64)
    named = clip.expressions.values
    names, columns = [], []
    for part, count in counts.items():
        if count <= 0:
            continue
        points = part_in_head_frame(landmarks, part, clip.camera_to_world, intrinsics)
        components = residual_components(named, points, count)
        columns.append(component_values(named, points, components, linear_map(named, points)))
        names += [residual_name(part, index + 1) for index in range(columns[-1].shape[1])]
    if not names:
        return clip
    values = np.concatenate(columns, axis=1)

    def extended(table: ExpressionTable) -> ExpressionTable:
        return ExpressionTable(names=table.names + names, values=np.concatenate([table.values, values], axis=1))

    return TrackedClip(
        clip.records, clip.camera_to_world_raw, clip.camera_to_world, extended(clip.expressions_raw), extended(clip.expressions)
    )
