"""The three training stages of the paper (§3.4) and the losses each one uses."""

from dataclasses import dataclass
from typing import Callable, Dict, Optional

import torch
from jaxtyping import Float
from torch import Tensor

Perceptual = Callable[[Tensor, Tensor], Tensor]
"""LPIPS on [B, 3, H, W] images in [0, 1] -> [B] or scalar."""


@dataclass
class LossScheduleConfig:
    """When each loss is on, and its weight."""

    mask_stage_end: int = 4000
    """Steps of the first stage: colour L1 and mask L1 shape the density quickly."""
    patch_stage_start: int = 20000
    """First step of the third stage: random rays plus 32×32 patches with L1 and LPIPS."""
    mask_weight: float = 1.0
    """Weight of the mask L1 on accumulated opacity in the first stage."""
    patch_l1_weight: float = 0.1
    """Weight of the colour L1 on patch rays in the third stage."""
    patch_lpips_weight: float = 0.1
    """Weight of LPIPS(VGG) on patches in the third stage."""

    def stage(self, step: int) -> int:
        if step < self.mask_stage_end:
            return 1
        return 2 if step < self.patch_stage_start else 3


def staged_losses(
    schedule: LossScheduleConfig,
    step: int,
    prediction: Float[Tensor, "r 3"],
    target: Float[Tensor, "r 3"],
    opacity: Float[Tensor, "r 1"],
    head_mask: Float[Tensor, "r 1"],
    num_patches: int,
    patch_size: int,
    perceptual: Optional[Perceptual],
) -> Dict[str, Tensor]:
    """Loss terms of `step`. Patch rays are the last num_patches·patch_size² rays, row-major per patch."""
    stage = schedule.stage(step)
    patch_rays = num_patches * patch_size * patch_size if stage == 3 else 0
    rays = prediction.shape[0] - patch_rays
    losses = {"rgb_l1": torch.nn.functional.l1_loss(prediction[:rays], target[:rays])}
    if stage == 1:
        losses["mask_l1"] = schedule.mask_weight * torch.nn.functional.l1_loss(opacity, head_mask)
    if patch_rays:
        losses["patch_l1"] = schedule.patch_l1_weight * torch.nn.functional.l1_loss(prediction[rays:], target[rays:])
        if perceptual is not None:
            shape = (num_patches, patch_size, patch_size, 3)
            as_images = lambda x: x[rays:].reshape(shape).permute(0, 3, 1, 2)  # noqa: E731  [P, 3, S, S]
            losses["patch_lpips"] = schedule.patch_lpips_weight * perceptual(as_images(prediction), as_images(target)).mean()
    return losses
