"""`nerfblend-render summary`: a trained avatar at a glance, in one picture and one short clip."""

import math
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.avatar.frame_rendering import ground_truth_rgb, render_rgb, scaled
from nerfblend_ns.avatar.loading import LoadedAvatar, load_avatar
from nerfblend_ns.avatar.views import frontal_index
from nerfblend_ns.benchmarks.error_picture import error_rows
from nerfblend_ns.benchmarks.frame_grid import write_rgb_png
from nerfblend_ns.expression_space import COEFFICIENTS_KEY
from nerfblend_ns.benchmarks.held_out_renders import evenly_spaced
from nerfblend_ns.metrics.head_metrics import psnr
from nerfblend_ns.commands.render_modes.options import CONSOLE, VideoOptions
from nerfblend_ns.commands.setting_checks import within

MAX_WIDTH = 4096


def blend_between(coefficients: Float[Tensor, "t k"], steps: int) -> Float[Tensor, "n k"]:
    """[(T − 1)·steps + 1, K]: each row of `coefficients`, then `steps` − 1 linear blends towards the next."""
    weights = torch.arange(steps, dtype=coefficients.dtype) / steps  # [S]
    start, end = coefficients[:-1, None], coefficients[1:, None]  # [T − 1, 1, K]
    blended = (start + weights[None, :, None] * (end - start)).reshape(-1, coefficients.shape[1])
    return torch.cat([blended, coefficients[-1:]])


def enlarged(image: np.ndarray, min_width: int) -> np.ndarray:
    """[H·n, W·n, 3]: each pixel repeated n times along both axes, the least n that makes it `min_width` wide."""
    factor = max(1, math.ceil(min_width / image.shape[1]))
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def psnr_8bit(prediction: np.ndarray, ground_truth: np.ndarray) -> float:
    """PSNR of two [H, W, 3] uint8 images, by the evaluation protocol's definition."""
    return psnr(torch.from_numpy(prediction).float() / 255.0, torch.from_numpy(ground_truth).float() / 255.0)


@dataclass
class Summary(VideoOptions):
    """A picture of test frames (ground truth | prediction | error, PSNR on each; <output>.png) and a clip of the
    avatar driven by the test frames' coefficients from the most frontal test camera (<output>.mp4)."""

    fps: float = 10.0
    """Frames per second of the video."""
    picture_frames: int = 3
    """Test frames in the picture, spread evenly over the test split."""
    blend_steps: int = 4
    """Clip frames from one test frame's coefficients to the next's (a linear blend), so that a short test
    split plays for a few seconds."""
    min_width: int = 384
    """Picture and clip are enlarged (pixels repeated) to at least this width, so small renders and labels read."""

    def check_settings(self) -> None:
        super().check_settings()
        within("--picture-frames", self.picture_frames, 1, math.inf)
        within("--blend-steps", self.blend_steps, 1, math.inf)
        within("--min-width", self.min_width, 1, MAX_WIDTH)

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        self._write_picture(avatar)
        self._write_clip(avatar)

    def _enlarged(self, image: np.ndarray) -> np.ndarray:
        return enlarged(image, self.min_width)

    def _write_picture(self, avatar: LoadedAvatar) -> None:
        dataset = avatar.pipeline.datamanager.eval_dataset
        cameras = scaled(dataset.cameras, self.downscale)
        indices = evenly_spaced(len(dataset), self.picture_frames)
        predictions = [render_rgb(avatar.model, cameras[i], extrapolate=self.extrapolate) for i in indices]
        truths = [ground_truth_rgb(dataset, i, *prediction.shape[:2]) for i, prediction in zip(indices, predictions)]
        labels = [f"test frame {i}: PSNR {psnr_8bit(p, t):.2f}" for i, p, t in zip(indices, predictions, truths)]
        picture = self.output(avatar, "summary").with_suffix(".png")
        picture.parent.mkdir(parents=True, exist_ok=True)
        rows = error_rows([self._enlarged(t) for t in truths], [self._enlarged(p) for p in predictions], labels)
        write_rgb_png(picture, rows)
        CONSOLE.print(
            f"summary: ground truth | prediction | error of test frames {indices} in {picture}", soft_wrap=True
        )

    def _write_clip(self, avatar: LoadedAvatar) -> None:
        test_cameras = avatar.pipeline.datamanager.eval_dataset.cameras
        coefficients = blend_between(test_cameras.metadata[COEFFICIENTS_KEY].float(), self.blend_steps)  # [N, K]
        camera = scaled(test_cameras, self.downscale)[frontal_index(test_cameras)]
        clip = (self._enlarged(render_rgb(avatar.model, camera, c, self.extrapolate)) for c in coefficients)
        self.write(avatar, "summary", clip, coefficients.shape[0])
