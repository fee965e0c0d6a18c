"""Tracking one video frame: crop, landmarks and pose, head mask, and the frame's workspace files."""

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import List, Literal

import cv2
import numpy as np

from nerfblend_ns.tracking.face.face_tracker import FaceObservation, FaceTracker
from nerfblend_ns.tracking.masks.head_mask import HeadMaskConfig, head_mask
from nerfblend_ns.tracking.masks.selfie_segmenter import SelfieSegmenter
from nerfblend_ns.tracking.poses.head_pose import camera_to_world, mediapipe_intrinsics
from nerfblend_ns.tracking.video.head_crop import SquareCrop
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult, TrackCache

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


@dataclass(frozen=True)
class CroppedFrame:
    """A video frame cut to the clip's crop at the workspace's resolution."""

    bgr: np.ndarray  # [R, R, 3] uint8, as written to the workspace
    rgb: np.ndarray  # [R, R, 3] uint8, as MediaPipe reads it


class FrameTracker:
    """Turns cropped frames into frame records, workspace files and cached records, in video order.

    A frame's person segmentation runs on a worker thread beside its face tracking, and its head mask,
    files and cached record are made on a second worker while the next frame is tracked: MediaPipe,
    OpenCV and the file writes hold no interpreter lock while they work, so a run keeps two cores busy.
    The face tracker is called on the submitting thread alone, in frame order, as its video mode needs;
    every result is what the same steps one after another give, and a record is cached only once its
    files are written.
    """

    def __init__(
        self, segmenter: SelfieSegmenter, crop: SquareCrop, settings: FrameSettings, output_dir: Path, cache: TrackCache
    ):
        self._segmenter, self._crop, self._settings = segmenter, crop, settings
        self._output_dir, self._cache = output_dir, cache
        for folder in ("images", "masks"):
            (output_dir / folder).mkdir(parents=True, exist_ok=True)
        self._segmentation = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segmentation")
        self._finishing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frame-files")

    def crop(self, frame: np.ndarray) -> CroppedFrame:
        """A decoded BGR frame [H, W, 3] uint8 cut to the crop; safe to call on any thread."""
        bgr = self._crop.cut(frame, self._settings.resolution)
        return CroppedFrame(bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def submit(
        self, tracker: FaceTracker, index: int, frame: CroppedFrame, timestamp_ms: int
    ) -> "Future[FrameTrackingResult]":
        """The record of video frame `index`, done once its files are written and it is cached."""
        resolution = self._settings.resolution
        confidence = self._segmentation.submit(self._segmenter.person_confidence, frame.rgb)
        face = tracker.track(frame.rgb, timestamp_ms)
        failure = "no face detected" if face is None else None
        if face is not None:
            outside = np.mean(np.any((face.landmarks[:, :2] < 0) | (face.landmarks[:, :2] >= resolution), axis=1))
            if outside > MAX_OUTSIDE_FRACTION:
                failure = f"face leaves the crop ({outside:.0%} of landmarks outside)"
        if failure is not None:
            return self._finishing.submit(self._cached, FrameTrackingResult(index=index, failure=failure))
        return self._finishing.submit(self._finish, index, frame.bgr, face, confidence)

    def _cached(self, record: FrameTrackingResult) -> FrameTrackingResult:
        self._cache.save(record)
        return record

    def _finish(
        self, index: int, bgr: np.ndarray, face: FaceObservation, confidence: "Future[np.ndarray]"
    ) -> FrameTrackingResult:
        settings = self._settings
        mask = head_mask(
            confidence.result(),
            face.landmarks[:, :2],
            camera_to_world(face.face_to_camera),
            mediapipe_intrinsics(settings.resolution, settings.resolution),
            settings.mask,
        )
        if not mask.any():
            return self._cached(FrameTrackingResult(index=index, failure="empty head mask"))
        image_file, mask_file = image_file_name(index, settings.image_format), mask_file_name(index)
        quality = [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality] if settings.image_format == "jpg" else []
        _write(self._output_dir / image_file, bgr, quality)
        write_mask(self._output_dir / mask_file, mask)
        return self._cached(
            FrameTrackingResult(
                index=index,
                landmarks=face.landmarks,
                blendshapes=face.blendshapes,
                face_to_camera=face.face_to_camera,
                mask_coverage=float(mask.mean()),
                image_file=image_file,
                mask_file=mask_file,
            )
        )

    def close(self) -> None:
        """Waits for the frames submitted so far; their files are complete when it returns."""
        self._segmentation.shutdown(wait=True)
        self._finishing.shutdown(wait=True)

    def __enter__(self) -> "FrameTracker":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
