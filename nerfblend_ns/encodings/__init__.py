"""Multi-resolution hash-grid encodings whose tables blend per-frame expression bases."""

from nerfblend_ns.encodings.blended_hash_encoding import BlendedHashEncoding
from nerfblend_ns.encodings.hash_grid_layout import HashGridLayout, corner_indices_and_weights, make_layout

__all__ = ["BlendedHashEncoding", "HashGridLayout", "corner_indices_and_weights", "make_layout"]
