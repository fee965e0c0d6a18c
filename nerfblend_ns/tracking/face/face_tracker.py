"""Per-frame face tracking with MediaPipe's Face Landmarker: landmarks, blendshape scores, head pose."""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from nerfblend_ns.tracking.mediapipe_tasks.mediapipe_runtime import as_mediapipe_image, create_quietly, tasks_api


@dataclass(frozen=True)
class FaceObservation:
    """What the Face Landmarker sees of the one face in a frame."""

    landmarks: np.ndarray
    """[478, 3] x, y in pixels of the tracked image; z in MediaPipe's depth units scaled by the image width."""
    blendshapes: np.ndarray
    """[52] blendshape scores in [0, 1], in the order of `blendshape_names`."""
    blendshape_names: Tuple[str, ...]
    face_to_camera: np.ndarray
    """[4, 4] rigid transform from the canonical face model (cm) to the OpenGL camera (cm)."""


class FaceTracker:
    """One Face Landmarker; in video mode it follows the face from frame to frame (timestamps must increase)."""

    def __init__(self, model_path: Path, video: bool):
        _, vision, base_options = tasks_api()
        options = vision.FaceLandmarkerOptions(
            base_options=base_options(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=1,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._video = video
        self._landmarker = create_quietly(lambda: vision.FaceLandmarker.create_from_options(options))

    def track(self, rgb: np.ndarray, timestamp_ms: int = 0) -> Optional[FaceObservation]:
        """The face in an RGB frame [H, W, 3] uint8, or None when no face is found."""
        image = as_mediapipe_image(rgb)
        result = (
            self._landmarker.detect_for_video(image, timestamp_ms) if self._video else self._landmarker.detect(image)
        )
        if not result.face_landmarks or not result.face_blendshapes or not result.facial_transformation_matrixes:
            return None
        height, width = rgb.shape[:2]
        points = result.face_landmarks[0]
        landmarks = np.array([(p.x * width, p.y * height, p.z * width) for p in points], dtype=np.float32)
        categories = result.face_blendshapes[0]
        return FaceObservation(
            landmarks=landmarks,
            blendshapes=np.array([category.score for category in categories], dtype=np.float32),
            blendshape_names=tuple(category.category_name for category in categories),
            face_to_camera=np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64),
        )

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
