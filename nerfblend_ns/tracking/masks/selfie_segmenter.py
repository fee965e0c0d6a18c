"""Person segmentation with MediaPipe's selfie segmenter (the binary person/background model)."""

from pathlib import Path

import numpy as np

from nerfblend_ns.tracking.mediapipe_tasks.mediapipe_runtime import as_mediapipe_image, create_quietly, tasks_api


class SelfieSegmenter:
    def __init__(self, model_path: Path):
        _, vision, base_options = tasks_api()
        options = vision.ImageSegmenterOptions(
            base_options=base_options(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE,
            output_confidence_masks=True,
            output_category_mask=False,
        )
        self._segmenter = create_quietly(lambda: vision.ImageSegmenter.create_from_options(options))

    def person_confidence(self, rgb: np.ndarray) -> np.ndarray:
        """Per-pixel person confidence [H, W] float32 in [0, 1] of an RGB frame [H, W, 3] uint8."""
        result = self._segmenter.segment(as_mediapipe_image(rgb))
        # A copy: the view is of a buffer that the segmenter may fill again on its next call, while this
        # frame's mask is still being made from it.
        confidence = np.array(result.confidence_masks[0].numpy_view(), dtype=np.float32, copy=True)
        return confidence.reshape(rgb.shape[:2])

    def close(self) -> None:
        self._segmenter.close()

    def __enter__(self) -> "SelfieSegmenter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
