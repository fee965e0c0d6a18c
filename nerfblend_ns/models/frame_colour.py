"""A colour transform per training frame: exposure and white balance that drift over a real clip.

Camera exposure, white balance and the light on the face change over a video. A model with one colour per
point bakes the average into the head and spends its capacity on the rest as view- or expression-dependent
colour. Here each training frame f has an affine colour transform c ↦ A_f c + b_f (A_f starts at the
identity, b_f at 0) applied to the head's colour of that frame's training rays only. Every other render
(test frames, the viewer, driven frames) uses the identity: the head's own colour, which the penalty on
the transforms' distance from the identity keeps at the clip's typical colour
(docs/evaluation.md says what test frames use).
"""

from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn


@dataclass
class FrameColourConfig:
    """Per-frame colour transforms of the training frames."""

    enabled: bool = False
    """Learn an affine colour transform (3×3 matrix and offset) per training frame, applied to its training rays."""
    identity_weight: float = 1e-2
    """Weight of the frames' mean squared distance of their transform from the identity, added to every step's loss."""


class FrameColour(nn.Module):
    """The transforms of `num_frames` training frames, stored as their difference from the identity."""

    def __init__(self, num_frames: int):
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"need at least one training frame, got {num_frames}")
        self.offsets = nn.Parameter(torch.zeros(num_frames, 3, 4))  # [F, 3, 4]: A − I beside b

    def forward(
        self,
        premultiplied: Float[Tensor, "r 3"],
        opacity: Float[Tensor, "r 1"],
        frame_indices: Int[Tensor, "r"],
    ) -> Float[Tensor, "r 3"]:
        """Each ray's premultiplied colour Σw·c turned into Σw·(A c + b) = A Σw·c + b Σw of its frame."""
        offsets = self.offsets[frame_indices]  # [R, 3, 4]
        matrix, bias = offsets[..., :3], offsets[..., 3]
        return premultiplied + torch.einsum("rij,rj->ri", matrix, premultiplied) + bias * opacity

    def identity_penalty(self) -> Float[Tensor, ""]:
        """Mean over the frames of |A − I|² + |b|²."""
        return self.offsets.square().sum(dim=(1, 2)).mean()
