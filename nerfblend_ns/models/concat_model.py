"""The "concatenate" baseline of paper §4.3: nerfblend's model with ConcatField as its radiance field.

Sampler, occupancy grid, losses, data and schedule are nerfblend's, so a comparison isolates the
field: linear blending of basis tables against an expression code fed to a deeper MLP.
"""

from dataclasses import dataclass, field
from typing import Type

from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.expression_space import ExpressionSpace
from nerfblend_ns.fields.concat_field import ConcatField, ExpressionCodeConfig
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModel, NerfBlendModelConfig


@dataclass
class NerfBlendConcatModelConfig(NerfBlendModelConfig):
    """One hash table (sized by `grid`, as one nerfblend basis) and the expression code concatenated to it."""

    _target: Type = field(default_factory=lambda: NerfBlendConcatModel)
    decoder: DecoderConfig = field(
        default_factory=lambda: DecoderConfig(hidden_dim=128, num_layers=7, color_num_layers=1)
    )
    """Density MLP of 7 linear layers × 128 and a single linear colour layer (paper §4.3)."""
    expression_code: ExpressionCodeConfig = field(default_factory=ExpressionCodeConfig)
    """The MLP mapping coefficients to the code that is concatenated with the hash features."""


class NerfBlendConcatModel(NerfBlendModel):
    """nerfblend with the expression concatenated to the features instead of blending tables."""

    config: NerfBlendConcatModelConfig

    def build_field(self, aabb: Float[Tensor, "2 3"], expression_space: ExpressionSpace) -> ConcatField:
        if self.config.coefficient_segments != 1:
            raise ValueError("--pipeline.model.coefficient-segments: the concatenate baseline has no basis tables to segment")
        return ConcatField(
            aabb, expression_space.num_coefficients, self.config.grid, self.config.decoder, self.config.expression_code
        )
