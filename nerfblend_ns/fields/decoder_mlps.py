"""The two MLPs every field of the project decodes with: features → density + geometry, then colour."""

from dataclasses import dataclass
from typing import Tuple

import torch
from nerfstudio.field_components.mlp import MLP
from nerfstudio.utils.math import components_from_spherical_harmonics
from torch import Tensor, nn

from nerfblend_ns.fields.mlp_backend import mlp_implementation


@dataclass
class DecoderConfig:
    """The MLPs that turn features into density and colour."""

    hidden_dim: int = 64
    """Width of the density MLP."""
    num_layers: int = 4
    """Linear layers of the density MLP."""
    geometry_features: int = 64
    """Features passed from the density MLP to the colour MLP."""
    color_hidden_dim: int = 64
    """Width of the colour MLP."""
    color_num_layers: int = 2
    """Linear layers of the colour MLP."""
    sh_levels: int = 4
    """Spherical-harmonics levels of the view-direction encoding (levels² components)."""


def decoder_mlps(in_dim: int, decoder: DecoderConfig) -> Tuple[MLP, MLP]:
    """(density MLP: in_dim → 1 + geometry features, colour MLP: SH components + geometry → RGB in [0, 1])."""
    implementation = mlp_implementation()
    density = MLP(
        in_dim=in_dim,
        num_layers=decoder.num_layers,
        layer_width=decoder.hidden_dim,
        out_dim=1 + decoder.geometry_features,
        activation=nn.ReLU(),
        implementation=implementation,
    )
    color = MLP(
        in_dim=decoder.sh_levels**2 + decoder.geometry_features,
        num_layers=decoder.color_num_layers,
        layer_width=decoder.color_hidden_dim,
        out_dim=3,
        activation=nn.ReLU(),
        out_activation=nn.Sigmoid(),
        implementation=implementation,
    )
    return density, color


def view_dependent_colour(color_mlp: MLP, sh_levels: int, directions: Tensor, geometry: Tensor) -> Tensor:
    """RGB [N, 3] from view directions [N, 3] (any length) and geometry features [N, G]."""
    view = components_from_spherical_harmonics(sh_levels, nn.functional.normalize(directions, dim=-1))
    return color_mlp(torch.cat([view, geometry], dim=-1)).float()
