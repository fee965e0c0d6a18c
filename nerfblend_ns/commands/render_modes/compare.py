"""`nerfblend-render compare`: ground truth beside prediction for every test frame."""

from dataclasses import dataclass

import numpy as np

from nerfblend_ns.avatar.frame_rendering import ground_truth_rgb, render_rgb, scaled
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.commands.render_modes.options import VideoOptions


@dataclass
class Compare(VideoOptions):
    """Ground truth (the head on white, as the metrics see it) | prediction (on white), for the test split."""

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        dataset = avatar.pipeline.datamanager.eval_dataset
        cameras = scaled(dataset.cameras, self.downscale)

        def frame(index: int) -> np.ndarray:
            prediction = render_rgb(avatar.model, cameras[index], extrapolate=self.extrapolate)
            return np.concatenate([ground_truth_rgb(dataset, index, *prediction.shape[:2]), prediction], axis=1)

        self.write(avatar, "compare", (frame(i) for i in range(len(dataset))), len(dataset))
