"""Coefficient segments: each coefficient's training range cut into S equal pieces, each driving a basis table.

The paper blends h = h0 + Σ_i w_i h_i, linear in every coefficient, so a point whose appearance changes and
changes back as one coefficient grows (skin, then a raised brow passing over it, then skin again) must get
that from the decoder alone. With S segments the coefficient w_i is split into S weights that sum to it, the
s-th growing only while w_i crosses its segment:

    w_i = Σ_s piece_s(w_i),  piece_s(w) = clamp(w, lower_s, upper_s) − offset_s

(lower_0 = −∞ and offset_0 = 0; upper_{S−1} = +∞; between, the knots of the range), and each piece has its own
table, so the blend is piecewise linear in w_i with a bend at each knot. S = 1 gives back w_i itself: the
paper's blend, table for table.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor, nn


class CoefficientSegments(nn.Module):
    """The weights of the S·K basis tables for K coefficients (knots saved with the model).

    Args:
        minimum, maximum: [K] the training range of each coefficient; its knots cut it into equal pieces.
        segments: S ≥ 1 pieces per coefficient.
    """

    def __init__(self, minimum: Float[Tensor, "k"], maximum: Float[Tensor, "k"], segments: int) -> None:
        super().__init__()
        if segments < 1:
            raise ValueError(f"coefficient segments must be at least 1, got {segments}")
        if minimum.shape != maximum.shape or minimum.dim() != 1:
            raise ValueError(f"need [K] minimum and maximum, got {tuple(minimum.shape)} and {tuple(maximum.shape)}")
        fractions = torch.arange(1, segments, dtype=torch.float32) / segments  # [S-1]
        knots = minimum.float()[:, None] + (maximum - minimum).float()[:, None] * fractions  # [K, S-1]
        self.segments = segments
        self.register_buffer("knots", knots)
        self._register_load_state_dict_pre_hook(self._knots_of_unsegmented_checkpoints)

    @classmethod
    def linear(cls, num_coefficients: int) -> "CoefficientSegments":
        """The paper's blend of K coefficients: one table each, the weights the coefficients themselves."""
        zeros = torch.zeros(num_coefficients)
        return cls(zeros, zeros, segments=1)

    def _knots_of_unsegmented_checkpoints(self, state_dict, prefix, *args) -> None:
        # Checkpoints from before segments existed are one-segment fields: their knots are empty.
        if prefix + "knots" not in state_dict and self.segments == 1:
            state_dict[prefix + "knots"] = self.knots.clone()

    @property
    def num_coefficients(self) -> int:
        return self.knots.shape[0]

    @property
    def num_weights(self) -> int:
        """Basis tables the field holds besides the neutral one: K·S."""
        return self.num_coefficients * self.segments

    def forward(self, coefficients: Float[Tensor, "*n k"]) -> Float[Tensor, "*n ks"]:
        """The basis tables' weights, coefficient-major (coefficient i's S pieces at i·S .. i·S + S − 1)."""
        if self.segments == 1:
            return coefficients
        knots = self.knots.to(coefficients.dtype)  # [K, S-1]
        infinite = torch.full_like(knots[:, :1], float("inf"))  # [K, 1]
        lower = torch.cat((-infinite, knots), dim=1)  # [K, S]
        upper = torch.cat((knots, infinite), dim=1)  # [K, S]
        offset = torch.cat((torch.zeros_like(infinite), knots), dim=1)  # [K, S]
        pieces = torch.minimum(torch.maximum(coefficients[..., None], lower), upper) - offset  # [*n, K, S]
        return pieces.flatten(-2)

    def probe_pieces(self, largest: Float[Tensor, "k"]) -> Float[Tensor, "k s s"]:
        """[K, S, S] the pieces of coefficient i alone at each of its knots and at `largest[i]` (its training
        maximum): entry [i, s, t] is the weight of i's t-th table in its s-th expression. These are the
        expressions an occupancy grid covers; one segment gives the paper's ŵ_i."""
        values = torch.cat((self.knots.to(largest), largest[:, None]), dim=1)  # [K, S]
        # Row s sets every coefficient to its s-th value; coefficients do not mix, so one pass serves all K.
        pieces = self(values.t())  # [S, K·S]
        return pieces.view(self.segments, self.num_coefficients, self.segments).transpose(0, 1)
