"""Hash-grid encoding whose table is a per-frame blend of K+1 basis tables.

Frame coefficients ``w`` (K values) give the table ``h = H_0 + sum_i w_i H_i``. Tables are
blended once per frame, so a sample costs one lookup whatever K is; the lookup is linear in
the table, so the gradient of every basis is ``sum_b w_bk dL/dh_b`` through the blend.
Points outside the unit cube encode to zeros (see ``hash_grid_layout``).

Blends and lookups run in Triton kernels or in the torch reference (``lookup_implementation``);
the kernels give no gradient with respect to positions, which come from ray marching.
"""

from __future__ import annotations

from typing import get_args

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn
from torch.nn import functional as F

from nerfblend_ns.encodings.hash_grid_layout import corner_indices_and_weights, level_table, make_layout
from nerfblend_ns.encodings.lookup_implementation import LookupImplementation, uses_triton


class BlendedHashEncoding(nn.Module):
    def __init__(
        self,
        num_bases: int,
        num_levels: int = 16,
        features_per_level: int = 4,
        log2_hashmap_size: int = 14,
        base_resolution: int = 16,
        max_resolution: int = 1024,
        init_scale: float = 1e-4,
        implementation: LookupImplementation = "auto",
    ) -> None:
        """``num_bases`` counts the neutral table too: K expressions need K + 1."""
        super().__init__()
        if implementation not in get_args(LookupImplementation):
            raise ValueError(f"implementation must be one of {get_args(LookupImplementation)}, not {implementation!r}")
        self.implementation = implementation
        self.layout = make_layout(num_levels, log2_hashmap_size, base_resolution, max_resolution)
        self.num_bases = num_bases
        self.features_per_level = features_per_level
        self.tables = nn.Parameter(
            torch.empty(num_bases, self.layout.num_entries, features_per_level).uniform_(-init_scale, init_scale)
        )  # [K+1, P, F]
        # Not saved: checkpoints stay free of a tensor the layout already determines.
        self.register_buffer("level_table", level_table(self.layout), persistent=False)  # [L, 4] int32

    @property
    def output_dim(self) -> int:
        return self.layout.num_levels * self.features_per_level

    def blend(self, coefficients: Float[Tensor, "b k"]) -> Float[Tensor, "b p f"]:
        """Tables of B frames; basis 0 (neutral) always has weight 1."""
        ones = coefficients.new_ones(coefficients.shape[0], 1)
        with_neutral = torch.cat((ones, coefficients), dim=1).to(self.tables.dtype)  # [B, K+1]
        if uses_triton(self.implementation, self.tables):
            from nerfblend_ns.encodings.triton_blend import blend_tables

            return blend_tables(with_neutral, self.tables)
        blended = with_neutral @ self.tables.flatten(1)  # [B, P*F]
        return blended.view(coefficients.shape[0], *self.tables.shape[1:])

    def lookup(
        self, tables: Float[Tensor, "b p f"], positions: Float[Tensor, "n 3"], table_index: Int[Tensor, "n"]
    ) -> Float[Tensor, "n out"]:
        """Encode each sample in its table `tables[table_index]`."""
        if uses_triton(self.implementation, tables):
            from nerfblend_ns.encodings.triton_blended_hash import fused_lookup

            return fused_lookup(tables, positions, table_index, self.level_table)
        num_rows = tables.shape[0] * tables.shape[1]
        if num_rows > torch.iinfo(torch.int32).max:
            raise ValueError(f"{tables.shape[0]} tables of {tables.shape[1]} rows exceed int32 row indices")
        indices, weights = corner_indices_and_weights(self.layout, positions)  # [N, L, 8] each
        rows = indices + (table_index.int() * tables.shape[1])[:, None, None]  # into the [B*P, F] view
        return _interpolate(tables.reshape(-1, tables.shape[2]), rows, weights).flatten(1)

    def forward(
        self, positions: Float[Tensor, "n 3"], coefficients: Float[Tensor, "b k"], table_index: Int[Tensor, "n"]
    ) -> Float[Tensor, "n out"]:
        return self.lookup(self.blend(coefficients), positions, table_index)

    def basis_features(self, positions: Float[Tensor, "n 3"]) -> Float[Tensor, "bases n out"]:
        """Every basis encoded separately, sharing one index computation. By linearity the
        encoding of any frame is ``f_0 + sum_i w_i f_i`` over these."""
        if uses_triton(self.implementation, self.tables):
            from nerfblend_ns.encodings.triton_blended_hash import fused_lookup_every_table

            return fused_lookup_every_table(self.tables, positions, self.level_table)
        indices, weights = corner_indices_and_weights(self.layout, positions)  # [N, L, 8] each
        # One row per entry holding all bases turns K+1 gathers into a single wider one.
        rows = self.tables.transpose(0, 1).reshape(self.layout.num_entries, -1)  # [P, (K+1)*F]
        features = _interpolate(rows, indices, weights)  # [N, L, (K+1)*F]
        features = features.view(*indices.shape[:2], self.num_bases, self.features_per_level)
        return features.permute(2, 0, 1, 3).flatten(2)


def _interpolate(
    table: Float[Tensor, "rows d"], indices: Int[Tensor, "n levels 8"], weights: Float[Tensor, "n levels 8"]
) -> Float[Tensor, "n levels d"]:
    """Weighted sum of the 8 corner rows. ``embedding_bag`` fuses gather and sum, so the
    [N, L, 8, d] corner values are never materialised, and its backward sorts indices
    instead of contending on atomics (several times faster on GPU than index_select)."""
    features = F.embedding_bag(
        indices.view(-1, 8), table, per_sample_weights=weights.view(-1, 8).to(table.dtype), mode="sum"
    )
    return features.view(*indices.shape[:2], table.shape[1])
