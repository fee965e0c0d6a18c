"""The density field of a nerfblend model at one expression, as a function of position."""

import torch
from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.avatar.density_mesh import DensityFn
from nerfblend_ns.models.nerfblend_model import NerfBlendModel


def expression_density(model: NerfBlendModel, coefficients: Float[Tensor, "k"], extrapolate: bool = False) -> DensityFn:
    """points [N, 3] in scene units -> σ [N] at `coefficients` (clamped to the training range unless extrapolating)."""
    coefficients = model.expression_space.as_rendered(coefficients.reshape(1, -1).float().to(model.device), extrapolate)
    with torch.no_grad():
        tables = model.field.blend(coefficients)  # one blended table for every query

    def density(points: Float[Tensor, "n 3"]) -> Float[Tensor, "n"]:
        frame = torch.zeros(points.shape[0], dtype=torch.long, device=points.device)
        return model.field.density(points.to(model.device), tables, frame).reshape(-1)

    return density
