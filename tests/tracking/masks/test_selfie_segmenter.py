"""The person segmenter's confidence stays the caller's: later calls do not change an earlier result."""

from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("mediapipe")

from nerfblend_ns.tracking.masks.selfie_segmenter import SelfieSegmenter  # noqa: E402
from nerfblend_ns.tracking.mediapipe_tasks.model_files import SELFIE_SEGMENTER, ModelFileError, resolve_model  # noqa: E402

VIDEO = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "videos" / "talking_512.mp4"


def test_a_result_is_not_overwritten_by_the_next_calls():
    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} not available")
    try:
        model = resolve_model(SELFIE_SEGMENTER, allow_fetch=False)
    except ModelFileError as error:
        pytest.skip(str(error))
    capture = cv2.VideoCapture(str(VIDEO))
    frame = cv2.cvtColor(capture.read()[1], cv2.COLOR_BGR2RGB)
    capture.release()
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
