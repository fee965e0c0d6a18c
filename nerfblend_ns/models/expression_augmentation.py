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


def augment_expressions(
    expressions: Float[Tensor, "b k"],
    expr_min: Float[Tensor, "k"],
    expr_max: Float[Tensor, "k"],
    noise: float,
    dropout: float,
    generator: Optional[torch.Generator] = None,
) -> Float[Tensor, "b k"]:
    """Each frame's coefficients with Gaussian noise of standard deviation `noise` × the dimension's training
    range added, then each coefficient set to 0 (neutral) with probability `dropout`, then clamped to the
    training range."""
    if noise < 0 or not 0.0 <= dropout <= 1.0:
        raise ValueError(f"noise must be ≥ 0 and dropout in [0, 1], got {noise} and {dropout}")
    scale = (expr_max - expr_min) * noise  # [K]
    noisy = expressions + torch.randn(expressions.shape, generator=generator, device=expressions.device) * scale
    kept = torch.rand(expressions.shape, generator=generator, device=expressions.device) >= dropout
    return torch.minimum(torch.maximum(noisy * kept, expr_min), expr_max)
