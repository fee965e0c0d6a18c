"""The NeRFBlendShape field: blended hash-grid features decoded by small MLPs into density and colour.

The field takes the per-frame blended tables as an explicit argument instead of reading them from
nerfstudio's `RaySamples`: the tables are a per-batch input (one per frame), which the per-sample
tensors of `RaySamples` cannot carry.
"""

from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from nerfblend_ns.encodings import BlendedHashEncoding
from nerfblend_ns.encodings.lookup_implementation import LookupImplementation
from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig, decoder_mlps, view_dependent_colour


@dataclass
class BlendedHashGridConfig:
    """Size of each expression basis' multi-resolution hash grid (paper Tab. 1)."""

    num_levels: int = 16
    """Number of resolution levels."""
    features_per_level: int = 4
    """Features stored per table entry."""
    log2_hashmap_size: int = 14
    """log2 of the entries per level; coarse levels that fit are stored densely."""
    base_resolution: int = 16
    """Grid resolution of the coarsest level."""
    max_resolution: int = 1024
    """Grid resolution of the finest level."""
    init_scale: float = 1e-4
    """Tables start uniform in [-init_scale, init_scale]."""
    implementation: LookupImplementation = "auto"
    """Lookup: fused Triton kernels (auto: on CUDA when triton is installed) or the torch reference."""


def blended_hash_encoding(grid: BlendedHashGridConfig, num_bases: int) -> BlendedHashEncoding:
    """The encoding `grid` describes, with `num_bases` tables of that size."""
    return BlendedHashEncoding(
        num_bases=num_bases,
        num_levels=grid.num_levels,
        features_per_level=grid.features_per_level,
        log2_hashmap_size=grid.log2_hashmap_size,
        base_resolution=grid.base_resolution,
        max_resolution=grid.max_resolution,
        init_scale=grid.init_scale,
        implementation=grid.implementation,
    )


class NerfBlendField(nn.Module):
    """Density and colour of a head at a given expression.

    Args:
        aabb: [2, 3] box mapped to the unit cube of the hash grids.
        segments: the K coefficients' S segments; the field holds K·S + 1 tables (K + 1 for the paper's S = 1).
    """

    def __init__(
        self, aabb: Float[Tensor, "2 3"], segments: CoefficientSegments, grid: BlendedHashGridConfig, decoder: DecoderConfig
    ):
        super().__init__()
        self.register_buffer("aabb", aabb.float().clone())
        self.segments = segments
        self.encoding = blended_hash_encoding(grid, num_bases=segments.num_weights + 1)
        self.sh_levels = decoder.sh_levels
        self.geometry_features = decoder.geometry_features
        self.density_mlp, self.color_mlp = decoder_mlps(self.encoding.output_dim, decoder)

    def blend(self, coefficients: Float[Tensor, "b k"]) -> Float[Tensor, "b p f"]:
        """One blended table per row of coefficients."""
        return self.encoding.blend(self.segments(coefficients))

    def unit_positions(self, positions: Float[Tensor, "n 3"]) -> Float[Tensor, "n 3"]:
        return (positions - self.aabb[0]) / (self.aabb[1] - self.aabb[0])

    def decode_density(self, features: Float[Tensor, "*n d"]) -> tuple[Float[Tensor, "*n 1"], Float[Tensor, "*n g"]]:
        out = self.density_mlp(features).float()
        return nn.functional.softplus(out[..., :1]), out[..., 1:]

    def density(
        self, positions: Float[Tensor, "n 3"], tables: Float[Tensor, "b p f"], table_index: Int[Tensor, "n"]
    ) -> Float[Tensor, "n 1"]:
        features = self.encoding.lookup(tables, self.unit_positions(positions), table_index)
        return self.decode_density(features)[0]

    def forward(
        self,
        positions: Float[Tensor, "n 3"],
        directions: Float[Tensor, "n 3"],
        tables: Float[Tensor, "b p f"],
        table_index: Int[Tensor, "n"],
    ) -> tuple[Float[Tensor, "n 3"], Float[Tensor, "n 1"]]:
        features = self.encoding.lookup(tables, self.unit_positions(positions), table_index)
        density, geometry = self.decode_density(features)
        return view_dependent_colour(self.color_mlp, self.sh_levels, directions, geometry), density

    @property
    def occupancy_expressions(self) -> int:
        """Expressions `expression_aware_density` evaluates per point: the neutral one and one per basis table."""
        return self.encoding.num_bases

    def expression_aware_density(
        self, positions: Float[Tensor, "n 3"], largest_coefficients: Float[Tensor, "k"]
    ) -> Float[Tensor, "n 1"]:
        """Max density over the neutral head and each coefficient alone at its largest value (h0 + ŵ_i·h_i, paper
        §3.3) and, with segments, at each of its knots.

        The lookup is linear in the table, so each expression's features are f_0 + Σ_t p_t·f_t over the
        coefficient's own tables t: one lookup per table serves every evaluation.
        """
        per_basis = self.encoding.basis_features(self.unit_positions(positions))  # [K·S+1, N, D]
        neutral = per_basis[:1]
        pieces = self.segments.probe_pieces(largest_coefficients).to(per_basis)  # [K, S, S]
        own_tables = per_basis[1:].view(*pieces.shape[::2], *per_basis.shape[1:])  # [K, S, N, D]
        at_probes = neutral + torch.einsum("kst,ktnd->ksnd", pieces, own_tables).flatten(0, 1)  # [K·S, N, D]
        density, _ = self.decode_density(torch.cat([neutral, at_probes], dim=0))  # [K·S+1, N, 1]
        return density.amax(dim=0)

    def neutral_density(self, positions: Float[Tensor, "n 3"]) -> Float[Tensor, "n 1"]:
        """Density of the neutral head h0 alone (the ablation of paper Fig. 13)."""
        table_index = torch.zeros(positions.shape[0], dtype=torch.long, device=positions.device)
        return self.density(positions, self.encoding.tables[:1], table_index)
