"""`nerfblend-render reenact`: drive the avatar with another tracked video (paper Fig. 6)."""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from nerfblend_ns.avatar.driving_sequence import read_driving_sequence
from nerfblend_ns.avatar.frame_rendering import render_rgb, scaled
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.avatar.views import frontal_index
from nerfblend_ns.dataparsers.layouts import LayoutName
from nerfblend_ns.run_config_yaml import training_workspace
from nerfblend_ns.commands.render_modes.options import CONSOLE, VideoOptions
from nerfblend_ns.commands.setting_checks import within


@dataclass(kw_only=True)
class Reenact(VideoOptions):
    """Drive the avatar with the expression coefficients (and optionally head poses) of another tracked video."""

    driving: Path
    """Tracked workspace of the driving video; its named expression coefficients must be the model's (residual
    ones come from the model's own workspace only, and are held neutral otherwise)."""
    use_driving_poses: bool = False
    """Film through the driving video's cameras (its head motion), not the avatar's most frontal test camera."""
    driving_layout: LayoutName = "auto"
    """On-disk layout of the driving workspace."""
    frame_stride: int = 1
    """Use every n-th driving frame."""
    max_frames: Optional[int] = None
    """Stop after this many frames."""

    def check_settings(self) -> None:
        super().check_settings()
        within("--frame-stride", self.frame_stride, 1, math.inf)
        within("--max-frames", self.max_frames, 1, math.inf)

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        sequence = read_driving_sequence(
            self.driving, avatar.model.expression_space.names, self.driving_layout, training_workspace(avatar.config)
        )
        frames = torch.arange(0, sequence.coefficients.shape[0], self.frame_stride)[: self.max_frames]
        if self.use_driving_poses:
            cameras = scaled(sequence.cameras[frames], self.downscale)
        else:
            test_cameras = avatar.pipeline.datamanager.eval_dataset.cameras
            cameras = scaled(test_cameras[torch.full_like(frames, frontal_index(test_cameras))], self.downscale)
        CONSOLE.print(f"reenact: {len(frames)} of the {sequence.coefficients.shape[0]} frames of {self.driving}")
        if sequence.neutral_names:
            CONSOLE.print(
                f"reenact: {', '.join(sequence.neutral_names)} held at 0 (neutral): residual coefficients are directions "
                "of the model's own clip, which the driving workspace is not"
            )
        images = (
            render_rgb(avatar.model, cameras[i], sequence.coefficients[frame], self.extrapolate)
            for i, frame in enumerate(frames.tolist())
        )
        self.write(avatar, "reenact", images, len(frames))
