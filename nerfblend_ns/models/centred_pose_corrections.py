"""Per-frame pose corrections held to zero mean over the training frames.

nerfstudio's camera optimiser learns one correction per training frame. A correction shared by every
frame moves all the training cameras together, and the field follows them into a shifted frame: the
test frames, rendered at their tracked poses, then miss the head (on the address clip, −3.4 dB full-frame
and −3.6 dB on the training frames themselves, scored at their tracked poses). Only the part of each
correction that differs from the others mends a single frame's tracking, so the mean is taken out.
"""

from dataclasses import dataclass, field
from typing import Type

import torch
from jaxtyping import Float, Int
from nerfstudio.cameras.camera_optimizers import CameraOptimizer, CameraOptimizerConfig
from nerfstudio.cameras.lie_groups import exp_map_SE3, exp_map_SO3xR3
from torch import Tensor


@dataclass
class CentredCameraOptimizerConfig(CameraOptimizerConfig):
    """nerfstudio's camera optimiser, its corrections optionally held to zero mean over the training frames."""

    _target: Type = field(default_factory=lambda: CentredCameraOptimizer)
    zero_mean: bool = True
    """Take the mean correction out of every frame's, so the corrections cannot move all the training cameras
    (and the learned head with them) away from the tracked poses that test and driven frames use."""


class CentredCameraOptimizer(CameraOptimizer):
    """Corrections exp(a_i − mean_j a_j) of the parameters a [N, 6] of the N training frames."""

    config: CentredCameraOptimizerConfig

    def forward(self, indices: Int[Tensor, "n"]) -> Float[Tensor, "n 3 4"]:
        if self.config.mode == "off" or not self.config.zero_mean:
            return super().forward(indices)
        if self.non_trainable_camera_indices is not None:
            raise ValueError("zero-mean pose corrections need every camera trainable: set zero_mean False")
        adjustment = self.pose_adjustment - self.pose_adjustment.mean(dim=0)  # [N, 6]
        exp_map = exp_map_SO3xR3 if self.config.mode == "SO3xR3" else exp_map_SE3
        return exp_map(adjustment[indices])
