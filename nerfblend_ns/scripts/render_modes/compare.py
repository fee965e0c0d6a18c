"""`nerfblend-render compare`: ground truth beside prediction for every test frame."""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from nerfblend_ns.benchmarks.frame_grid import evenly_spaced, frame_grid, write_rgb_png
from nerfblend_ns.avatar.frame_rendering import render_rgb, scaled
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white
from nerfblend_ns.scripts.render_modes.options import CONSOLE, VideoOptions


def _resized(ground_truth: np.ndarray, like: np.ndarray) -> np.ndarray:
    """The ground truth at the prediction `like`'s size."""
    height, width = like.shape[:2]
    if ground_truth.shape[:2] == (height, width):
        return ground_truth
    return np.asarray(Image.fromarray(ground_truth).resize((width, height), Image.BOX))


@dataclass
class Compare(VideoOptions):
    """Ground truth (the head on white, as the metrics see it) | prediction (on white), for the test split."""

    frames: int = 0
    """Test frames to render, evenly spaced from the first to the last (0: every one)."""
    picture: Optional[Path] = None
    """Also write the frames as one PNG: a row per frame, columns ground truth | prediction."""

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        dataset = avatar.pipeline.datamanager.eval_dataset
        cameras = scaled(dataset.cameras, self.downscale)
        picked = evenly_spaced(len(dataset), self.frames) if self.frames > 0 else list(range(len(dataset)))
        ground_truths, predictions = [], []

        def frame(index: int) -> np.ndarray:
            item = dataset[index]
            ground_truth = ground_truth_on_white(item["image"][..., :3].float(), item["head_mask"].float())
            predictions.append(render_rgb(avatar.model, cameras[index], extrapolate=self.extrapolate))
            ground_truths.append(_resized((ground_truth.clamp(0, 1) * 255 + 0.5).byte().numpy(), predictions[-1]))
            return np.concatenate([ground_truths[-1], predictions[-1]], axis=1)

        self.write(avatar, "compare", (frame(i) for i in picked), len(picked))
        if self.picture is not None:
            self.picture.parent.mkdir(parents=True, exist_ok=True)
            write_rgb_png(self.picture, frame_grid(ground_truths, {"prediction": predictions}))
            CONSOLE.print(f"compare: wrote the picture {self.picture}", soft_wrap=True)
