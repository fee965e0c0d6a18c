"""The shared talking clip that the tracking tests read, and the MediaPipe model files they need; each
helper skips the calling test where this machine lacks them."""

from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

from nerfblend_ns.tracking.mediapipe_tasks.model_files import ModelFileError, ModelSpec, resolve_model

TALKING_CLIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos" / "talking_512.mp4"


def models_or_skip(*specs: ModelSpec) -> Dict[str, Path]:
    """{file name: path} of each model, after checking the clip is there too; skips the test otherwise."""
    if not TALKING_CLIP.is_file():
        pytest.skip(f"{TALKING_CLIP} not available")
    try:
        return {spec.file_name: resolve_model(spec, allow_fetch=False) for spec in specs}
    except ModelFileError as error:
        pytest.skip(str(error))


def first_frames(count: int) -> List[np.ndarray]:
    """The clip's first `count` frames, BGR as OpenCV decodes them."""
    capture = cv2.VideoCapture(str(TALKING_CLIP))
    frames = [capture.read()[1] for _ in range(count)]
    capture.release()
    return frames
