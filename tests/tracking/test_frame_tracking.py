"""One frame's tracking, pipelined over worker threads: the same records and files as the steps in turn, and a
record cached only once its files are written."""

from pathlib import Path
from typing import List

import cv2
import numpy as np
import pytest

pytest.importorskip("mediapipe")

from talking_clip import first_frames, models_or_skip  # noqa: E402

from nerfblend_ns.dataparsers.frame_files import read_head_mask  # noqa: E402
from nerfblend_ns.tracking.face.face_tracker import FaceTracker  # noqa: E402
from nerfblend_ns.tracking.frame_tracking import FrameSettings, FrameTracker  # noqa: E402
from nerfblend_ns.tracking.masks.head_mask import HeadMaskConfig, head_mask  # noqa: E402
from nerfblend_ns.tracking.masks.selfie_segmenter import SelfieSegmenter  # noqa: E402
from nerfblend_ns.tracking.mediapipe_tasks.model_files import FACE_LANDMARKER, SELFIE_SEGMENTER  # noqa: E402
from nerfblend_ns.tracking.poses.head_pose import camera_to_world, mediapipe_intrinsics  # noqa: E402
from nerfblend_ns.tracking.video.head_crop import SquareCrop  # noqa: E402
from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult  # noqa: E402

RESOLUTION = 256
GREY_FRAME = 4
"""A frame replaced by uniform grey: no face, so a failure record travels through the pipeline too."""


class _FilesFirstCache:
    """A resume cache that checks a tracked frame's files exist when its record is saved."""

    def __init__(self, output_dir: Path):
        self.output_dir, self.saved = output_dir, []

    def save(self, record: FrameTrackingResult) -> None:
        if record.tracked:
            assert (self.output_dir / record.image_file).is_file() and (self.output_dir / record.mask_file).is_file()
        self.saved.append(record.index)


@pytest.fixture(scope="module")
def models():
    return models_or_skip(FACE_LANDMARKER, SELFIE_SEGMENTER)


def _frames(count: int) -> List[np.ndarray]:
    frames = first_frames(count)
    frames[GREY_FRAME] = np.full_like(frames[GREY_FRAME], 128)
    return frames


def test_pipelined_frames_match_the_steps_in_turn_and_are_cached_after_their_files(models, tmp_path: Path):
    frames = _frames(10)
    height, width = frames[0].shape[:2]
    side = min(height, width)
    crop = SquareCrop(x0=(width - side) // 2, y0=(height - side) // 2, side=side)
    settings = FrameSettings(resolution=RESOLUTION, image_format="png", jpeg_quality=95, mask=HeadMaskConfig())
    cache = _FilesFirstCache(tmp_path)
    segmenter = SelfieSegmenter(models[SELFIE_SEGMENTER.file_name])
    face_tracker = FaceTracker(models[FACE_LANDMARKER.file_name], video=True)
    with FrameTracker(segmenter, crop, settings, tmp_path, cache) as frame_tracker:
        cropped = [frame_tracker.crop(frame) for frame in frames]
        # All submitted before any is collected: the workers run as far ahead as they can.
        futures = [frame_tracker.submit(face_tracker, index, frame, 40 * index) for index, frame in enumerate(cropped)]
        records = [future.result() for future in futures]
    face_tracker.close()
    assert cache.saved == list(range(len(frames)))
    assert records[GREY_FRAME].failure == "no face detected"

    # The same steps one after another, with trackers of their own.
    reference_tracker = FaceTracker(models[FACE_LANDMARKER.file_name], video=True)
    intrinsics = mediapipe_intrinsics(RESOLUTION, RESOLUTION)
    for index, (frame, record) in enumerate(zip(cropped, records)):
        assert np.array_equal(frame.bgr, crop.cut(frames[index], RESOLUTION))
        face = reference_tracker.track(frame.rgb, 40 * index)
        if index == GREY_FRAME:
            assert face is None
            continue
        np.testing.assert_array_equal(record.landmarks, face.landmarks)
        np.testing.assert_array_equal(record.face_to_camera, face.face_to_camera)
        mask = head_mask(
            segmenter.person_confidence(frame.rgb),
            face.landmarks[:, :2],
            camera_to_world(face.face_to_camera),
            intrinsics,
            settings.mask,
        )
        np.testing.assert_array_equal(read_head_mask(tmp_path / record.mask_file, "gray"), mask)
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / record.image_file)), frame.bgr)
    reference_tracker.close()
    segmenter.close()
