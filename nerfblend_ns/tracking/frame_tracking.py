"""Tracking one video frame: crop, landmarks and pose, head mask, and the frame's workspace files."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Literal

import cv2
import numpy as np

from nerfblend_ns.tracking.face.face_tracker import FaceTracker
from nerfblend_ns.tracking.masks.head_mask import HeadMaskConfig, head_mask
from nerfblend_ns.tracking.masks.selfie_segmenter import SelfieSegmenter
from nerfblend_ns.tracking.poses.head_pose import camera_to_world, mediapipe_intrinsics
from nerfblend_ns.tracking.video.head_crop import SquareCrop
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult

ImageFormat = Literal["jpg", "png"]
MAX_OUTSIDE_FRACTION = 0.1
"""A face with more of its landmarks outside the crop than this is cut off: its pose and mask are unreliable."""


@dataclass(frozen=True)
class FrameSettings:
    """What shapes a frame's tracked result and files."""

    resolution: int
    image_format: ImageFormat
    jpeg_quality: int
    mask: HeadMaskConfig


def image_file_name(index: int, image_format: ImageFormat) -> str:
    return f"images/{index:06d}.{image_format}"


def mask_file_name(index: int) -> str:
    return f"masks/{index:06d}.png"


def consensus_mask_file_name(index: int) -> str:
    """The frame's mask with the clip's consensus outline; the frame's own mask stays in mask_file_name."""
    return f"consensus_masks/{index:06d}.png"


def write_mask(path: Path, mask: np.ndarray) -> None:
    """A head mask [H, W] bool as a grey PNG (255: head)."""
    _write(path, mask.astype(np.uint8) * 255, [])


def _write(path: Path, pixels: np.ndarray, params: List[int]) -> None:
    if not cv2.imwrite(str(path), pixels, params):
        raise OSError(f"could not write {path}")


class FrameTracker:
    """Turns decoded frames into frame records and workspace files, in video order."""

    def __init__(
        self,
        tracker: FaceTracker,
        segmenter: SelfieSegmenter,
        crop: SquareCrop,
        settings: FrameSettings,
        output_dir: Path,
    ):
        self._tracker, self._segmenter = tracker, segmenter
        self._crop, self._settings, self._output_dir = crop, settings, output_dir
        for folder in ("images", "masks"):
            (output_dir / folder).mkdir(parents=True, exist_ok=True)

    def track(self, index: int, frame: np.ndarray, timestamp_ms: int) -> FrameTrackingResult:
        """Record of video frame `index` (BGR [H, W, 3] uint8); its image and mask are written when it is tracked."""
        settings = self._settings
        bgr = self._crop.cut(frame, settings.resolution)  # [R, R, 3]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        face = self._tracker.track(rgb, timestamp_ms)
        if face is None:
            return FrameTrackingResult(index=index, failure="no face detected")
        points = face.landmarks[:, :2]
        outside = np.mean(np.any((points < 0) | (points >= settings.resolution), axis=1))
        if outside > MAX_OUTSIDE_FRACTION:
            return FrameTrackingResult(index=index, failure=f"face leaves the crop ({outside:.0%} of landmarks outside)")
        mask = head_mask(
            self._segmenter.person_confidence(rgb),
            points,
            camera_to_world(face.face_to_camera),
            mediapipe_intrinsics(settings.resolution, settings.resolution),
            settings.mask,
        )
        if not mask.any():
            return FrameTrackingResult(index=index, failure="empty head mask")
        image_file, mask_file = image_file_name(index, settings.image_format), mask_file_name(index)
        quality = [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality] if settings.image_format == "jpg" else []
        _write(self._output_dir / image_file, bgr, quality)
        write_mask(self._output_dir / mask_file, mask)
        return FrameTrackingResult(
            index=index,
            landmarks=face.landmarks,
            blendshapes=face.blendshapes,
            face_to_camera=face.face_to_camera,
            mask_coverage=float(mask.mean()),
            image_file=image_file,
            mask_file=mask_file,
        )
