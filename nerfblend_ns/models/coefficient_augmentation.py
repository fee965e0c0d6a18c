"""Noise and dropout on training frames' coefficients, so that the bases are trained on combinations
near, not only at, the tracked ones.

A test frame's coefficients come from the same tracker with its own jitter, and a driving video's from
another clip altogether; a model that saw each training frame at exactly one coefficient vector can
fall apart a little way from it (eyelids shut where they should be half open).
"""

from typing import Optional

import torch
from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.expression_space import ExpressionSpace


def augment_coefficients(
    coefficients: Float[Tensor, "b k"],
    space: ExpressionSpace,
    noise: float,
    dropout: float,
    generator: Optional[torch.Generator] = None,
) -> Float[Tensor, "b k"]:
    """Each frame's coefficients with Gaussian noise of standard deviation `noise` × the dimension's training
    range added, then each coefficient set to 0 (neutral) with probability `dropout`, then clamped to the
    training range of `space`."""
    if noise < 0 or not 0.0 <= dropout <= 1.0:
        raise ValueError(f"noise must be ≥ 0 and dropout in [0, 1], got {noise} and {dropout}")
    scale = (space.maximum - space.minimum) * noise  # [K]
    noisy = coefficients + torch.randn(coefficients.shape, generator=generator, device=coefficients.device) * scale
    kept = torch.rand(coefficients.shape, generator=generator, device=coefficients.device) >= dropout
    return space.clamp(noisy * kept)
