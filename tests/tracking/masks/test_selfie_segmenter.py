"""The person segmenter's confidence stays the caller's: later calls do not change an earlier result."""

import cv2
import numpy as np
import pytest

pytest.importorskip("mediapipe")

from talking_clip import first_frames, models_or_skip  # noqa: E402

from nerfblend_ns.tracking.masks.selfie_segmenter import SelfieSegmenter  # noqa: E402
from nerfblend_ns.tracking.mediapipe_tasks.model_files import SELFIE_SEGMENTER  # noqa: E402


def test_a_result_is_not_overwritten_by_the_next_calls():
    model = models_or_skip(SELFIE_SEGMENTER)[SELFIE_SEGMENTER.file_name]
    frame = cv2.cvtColor(first_frames(1)[0], cv2.COLOR_BGR2RGB)
    segmenter = SelfieSegmenter(model)
    try:
        first = segmenter.person_confidence(frame)
        kept = first.copy()
        # MediaPipe hands out a view of a buffer it may refill; the tracker makes a frame's mask from its
        # confidence while the next frame is segmented.
        segmenter.person_confidence(np.full_like(frame, 128))
        segmenter.person_confidence(frame[::-1].copy())
        assert first.shape == frame.shape[:2] and first.dtype == np.float32
        np.testing.assert_array_equal(first, kept)
    finally:
        segmenter.close()
