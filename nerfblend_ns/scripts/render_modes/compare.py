"""`nerfblend-render compare`: ground truth beside prediction for every test frame."""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from nerfblend_ns.avatar.frame_rendering import render_rgb, scaled
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white
from nerfblend_ns.scripts.render_modes.options import VideoOptions


def _side_by_side(ground_truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """[H, 2W, 3]: the ground truth, resized to the prediction's size, left of it."""
    height, width = prediction.shape[:2]
    if ground_truth.shape[:2] != (height, width):
        ground_truth = np.asarray(Image.fromarray(ground_truth).resize((width, height), Image.BOX))
    return np.concatenate([ground_truth, prediction], axis=1)


@dataclass
class Compare(VideoOptions):
    """Ground truth (the head on white, as the metrics see it) | prediction (on white), for the test split."""

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        dataset = avatar.pipeline.datamanager.eval_dataset
        cameras = scaled(dataset.cameras, self.downscale)

        def frame(index: int) -> np.ndarray:
            item = dataset[index]
            ground_truth = ground_truth_on_white(item["image"][..., :3].float(), item["head_mask"].float())
            prediction = render_rgb(avatar.model, cameras[index], extrapolate=self.extrapolate)
            return _side_by_side((ground_truth.clamp(0, 1) * 255 + 0.5).byte().numpy(), prediction)

        self.write(avatar, "compare", (frame(i) for i in range(len(dataset))), len(dataset))
