"""The workspace's transforms.json and landmarks.npz (docs/workspace-format.md) from a tracked clip, raw values kept alongside."""

from dataclasses import dataclass
from typing import Any, Dict, List

import numpy as np

from nerfblend_ns.dataparsers.landmark_file import FrameLandmarks
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.expressions.expression_coefficients import ExpressionTable
from nerfblend_ns.tracking.face.face_regions import face_rect, is_nonempty, mouth_rect
from nerfblend_ns.tracking.poses.head_pose import HEAD_CENTRE_CM, VERTICAL_FOV_DEG
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult

CAMERA_CONVENTION = (
    f"pinhole camera of MediaPipe's face geometry: vertical field of view {VERTICAL_FOV_DEG:g} degrees, "
    "fx = fy = (h / 2) / tan(fov / 2), principal point at the image centre; transform_matrix is camera-to-world "
    "with OpenGL axes (x right, y up, looking down -z)"
)
WORLD_FRAME = (
    "head-fixed, metres: MediaPipe's canonical face axes (x towards the subject's left, y up, z out of the face) "
    f"with the origin at canonical point {HEAD_CENTRE_CM.tolist()} cm, near the head centre"
)


@dataclass(frozen=True)
class TrackedClip:
    """The tracked frames of a clip, in video order."""

    records: List[FrameTrackingResult]
    camera_to_world_raw: np.ndarray
    """[N, 4, 4] poses as tracked."""
    camera_to_world: np.ndarray
    """[N, 4, 4] smoothed poses."""
    expressions_raw: ExpressionTable
    expressions: ExpressionTable
    """Smoothed coefficients, same names as expressions_raw."""


def _rounded(values: np.ndarray, decimals: int) -> List:
    return np.round(values, decimals).tolist()


def frame_entries(clip: TrackedClip, resolution: int, fps: float) -> List[Dict[str, Any]]:
    entries = []
    for position, record in enumerate(clip.records):
        points = record.landmarks[:, :2]  # [478, 2]
        entry = {
            "file_path": record.image_file,
            "mask_path": record.mask_file,
            "transform_matrix": _rounded(clip.camera_to_world[position], 7),
            "transform_matrix_raw": _rounded(clip.camera_to_world_raw[position], 7),
            "expression": _rounded(clip.expressions.values[position], 5),
            "expression_raw": _rounded(clip.expressions_raw.values[position], 5),
            "video_frame": record.index,
            "time_s": round(record.index / fps, 4),
        }
        for key, rect in (("mouth_rect", mouth_rect(points, resolution)), ("face_rect", face_rect(points, resolution))):
            if is_nonempty(rect):  # a mouth at the image border can clip to nothing; the key is optional
                entry[key] = [round(value, 2) for value in rect]
        entries.append(entry)
    return entries


def transforms_document(
    clip: TrackedClip, intrinsics: PinholeIntrinsics, fps: float, extra: Dict[str, Any]
) -> Dict[str, Any]:
    """The content of transforms.json; extra holds descriptive top-level keys (source video, crop, smoothing)."""
    return {
        **intrinsics.to_json(),
        "camera_convention": CAMERA_CONVENTION,
        "world_frame": WORLD_FRAME,
        "expression_names": list(clip.expressions.names),
        "expression_source": "MediaPipe Face Landmarker blendshape scores (without _neutral)",
        **extra,
        "frames": frame_entries(clip, intrinsics.width, fps),
    }


def clip_landmarks(clip: TrackedClip) -> FrameLandmarks:
    """The 478 tracked landmarks of every frame, in the order of transforms.json's frames."""
    return FrameLandmarks(kind="mediapipe-478", points=np.stack([record.landmarks for record in clip.records]))
