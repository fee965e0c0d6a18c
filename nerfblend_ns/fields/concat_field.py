"""The "concatenate" baseline field of paper §4.3 (Fig. 5): one hash table, the expression as an MLP input.

The expression coefficients pass through a small MLP and the resulting code is concatenated with
the position's hash features; a deeper density MLP has to learn how the expression changes the
head. It shares NerfBlendField's interface, so the same model, sampler and occupancy grid drive it:
its per-frame state is the expression code of each frame instead of a blended table.
"""

from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from nerfstudio.field_components.mlp import MLP
from torch import Tensor, nn

from nerfblend_ns.fields.decoder_mlps import DecoderConfig, decoder_mlps, view_dependent_colour
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, blended_hash_encoding


@dataclass
class ExpressionCodeConfig:
    """The 2-layer MLP that maps expression coefficients to the code concatenated with the hash features."""

    hidden_dim: int = 64
    """Width of its hidden layer."""
    code_dim: int = 32
    """Length of the expression code."""


class ConcatField(nn.Module):
    """Density and colour of a head at a given expression, from one hash table and an expression code.

    Args:
        aabb: [2, 3] box mapped to the unit cube of the hash grid.
        num_coefficients: K.
    """

    def __init__(
        self,
        aabb: Float[Tensor, "2 3"],
        num_coefficients: int,
        grid: BlendedHashGridConfig,
        decoder: DecoderConfig,
        expression_code: ExpressionCodeConfig,
    ):
        super().__init__()
        self.register_buffer("aabb", aabb.float().clone())
        self.num_coefficients = num_coefficients
        # A single table, built exactly as one nerfblend basis.
        self.encoding = blended_hash_encoding(grid, num_bases=1)
        # Runs on one row per frame of the batch, where a fused kernel would gain nothing.
        self.expression_mlp = MLP(
            in_dim=num_coefficients,
            num_layers=2,
            layer_width=expression_code.hidden_dim,
            out_dim=expression_code.code_dim,
            activation=nn.ReLU(),
            implementation="torch",
        )
        self.sh_levels = decoder.sh_levels
        self.density_mlp, self.color_mlp = decoder_mlps(self.encoding.output_dim + expression_code.code_dim, decoder)

    def blend(self, coefficients: Float[Tensor, "b k"]) -> Float[Tensor, "b c"]:
        """The expression code of each frame: this field's per-frame state."""
        return self.expression_mlp(coefficients.float()).float()

    def hash_features(self, positions: Float[Tensor, "n 3"]) -> Float[Tensor, "n d"]:
        unit = (positions - self.aabb[0]) / (self.aabb[1] - self.aabb[0])
        return self.encoding.basis_features(unit)[0]

    def decode_density(
        self, features: Float[Tensor, "*n d"], codes: Float[Tensor, "*n c"]
    ) -> tuple[Float[Tensor, "*n 1"], Float[Tensor, "*n g"]]:
        inputs = torch.cat([features, codes], dim=-1)
        # tiny-cuda-nn takes 2-D batches only.
        out = self.density_mlp(inputs.reshape(-1, inputs.shape[-1])).float()
        out = out.view(*inputs.shape[:-1], out.shape[-1])
        return nn.functional.softplus(out[..., :1]), out[..., 1:]

    def density(
        self, positions: Float[Tensor, "n 3"], codes: Float[Tensor, "b c"], table_index: Int[Tensor, "n"]
    ) -> Float[Tensor, "n 1"]:
        return self.decode_density(self.hash_features(positions), codes[table_index])[0]

    def forward(
        self,
        positions: Float[Tensor, "n 3"],
        directions: Float[Tensor, "n 3"],
        codes: Float[Tensor, "b c"],
        table_index: Int[Tensor, "n"],
    ) -> tuple[Float[Tensor, "n 3"], Float[Tensor, "n 1"]]:
        density, geometry = self.decode_density(self.hash_features(positions), codes[table_index])
        return view_dependent_colour(self.color_mlp, self.sh_levels, directions, geometry), density

    @property
    def occupancy_expressions(self) -> int:
        """Expressions `expression_aware_density` evaluates per point: K + 1."""
        return self.num_coefficients + 1

    def expression_aware_density(
        self, positions: Float[Tensor, "n 3"], largest_coefficients: Float[Tensor, "k"]
    ) -> Float[Tensor, "n 1"]:
        """Max density over the K + 1 expressions 0 and ŵ_i·e_i, the analogue of h0 and h0 + ŵ_i·h_i.

        The hash lookup does not depend on the expression, so one lookup serves all K + 1 decodes.
        """
        largest = largest_coefficients
        coefficients = torch.cat([largest.new_zeros(1, largest.numel()), torch.diag(largest)])  # [K+1, K]
        codes = self.blend(coefficients)  # [K+1, C]
        features = self.hash_features(positions)  # [N, D]
        count, num_points = codes.shape[0], features.shape[0]
        density, _ = self.decode_density(
            features.expand(count, num_points, -1), codes[:, None, :].expand(count, num_points, -1)
        )  # [K+1, N, 1]
        return density.amax(dim=0)

    def neutral_density(self, positions: Float[Tensor, "n 3"]) -> Float[Tensor, "n 1"]:
        """Density at the zero expression alone (the ablation of paper Fig. 13)."""
        codes = self.blend(positions.new_zeros(1, self.num_coefficients))
        table_index = torch.zeros(positions.shape[0], dtype=torch.long, device=positions.device)
        return self.density(positions, codes, table_index)
