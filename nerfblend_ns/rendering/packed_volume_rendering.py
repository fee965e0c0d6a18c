"""Volume rendering of packed samples: samples of all rays in one flat list, sorted by ray.

`ray_indices` [S] says which ray each sample belongs to, in ascending order (nerfacc's packing).
"""

from dataclasses import dataclass
from typing import Dict

import nerfacc
import torch
from jaxtyping import Float, Int
from torch import Tensor


def _exclusive_optical_depth(sigma_dt: Float[Tensor, "s"], ray_indices: Int[Tensor, "s"], n_rays: int) -> Float[Tensor, "s"]:
    """Σ σ·Δt over the earlier samples of the same ray, via one global prefix sum.

    The prefix sum runs in float64: over a million samples a float32 sum loses the per-ray
    differences that the subtraction recovers.
    """
    inclusive = torch.cumsum(sigma_dt.double(), dim=0)  # [S]
    exclusive = inclusive - sigma_dt.double()
    counts = torch.bincount(ray_indices, minlength=n_rays)  # [R]
    first_of_ray = torch.cumsum(counts, dim=0) - counts  # [R]
    return (exclusive - exclusive[first_of_ray[ray_indices]]).to(sigma_dt.dtype)


def transmittance_before(
    t_starts: Float[Tensor, "s"], t_ends: Float[Tensor, "s"], sigmas: Float[Tensor, "s"], ray_indices: Int[Tensor, "s"], n_rays: int
) -> Float[Tensor, "s"]:
    """Transmittance of each sample's ray up to the sample, exp(−Σ σ·Δt over the ray's earlier samples)."""
    return torch.exp(-_exclusive_optical_depth(sigmas * (t_ends - t_starts), ray_indices, n_rays))


def render_weights_reference(
    t_starts: Float[Tensor, "s"], t_ends: Float[Tensor, "s"], sigmas: Float[Tensor, "s"], ray_indices: Int[Tensor, "s"], n_rays: int
) -> tuple[Float[Tensor, "s"], Float[Tensor, "s"], Float[Tensor, "s"]]:
    """(weights, transmittance before the sample, alpha) of each sample; w = T·α, α = 1 − exp(−σΔt)."""
    transmittance = transmittance_before(t_starts, t_ends, sigmas, ray_indices, n_rays)
    alphas = 1.0 - torch.exp(-sigmas * (t_ends - t_starts))
    return transmittance * alphas, transmittance, alphas


def render_weights(
    t_starts: Float[Tensor, "s"], t_ends: Float[Tensor, "s"], sigmas: Float[Tensor, "s"], ray_indices: Int[Tensor, "s"], n_rays: int
) -> Float[Tensor, "s"]:
    if sigmas.is_cuda:
        weights, _, _ = nerfacc.render_weight_from_density(t_starts, t_ends, sigmas, ray_indices=ray_indices, n_rays=n_rays)
        return weights
    return render_weights_reference(t_starts, t_ends, sigmas, ray_indices, n_rays)[0]


def visible_samples_reference(
    t_starts: Float[Tensor, "s"],
    t_ends: Float[Tensor, "s"],
    sigmas: Float[Tensor, "s"],
    ray_indices: Int[Tensor, "s"],
    n_rays: int,
    alpha_threshold: float,
    early_stop_eps: float,
) -> Tensor:
    """[S] bool: samples that are not nearly transparent and not hidden behind an opaque part of the ray."""
    _, transmittance, alphas = render_weights_reference(t_starts, t_ends, sigmas, ray_indices, n_rays)
    return (alphas >= alpha_threshold) & (transmittance >= early_stop_eps)


def accumulate(
    values: Float[Tensor, "s c"], weights: Float[Tensor, "s"], ray_indices: Int[Tensor, "s"], n_rays: int
) -> Float[Tensor, "r c"]:
    """Σ over each ray's samples of weight·value."""
    out = torch.zeros(n_rays, values.shape[-1], dtype=values.dtype, device=values.device)
    return out.index_add(0, ray_indices, weights[:, None] * values)


@dataclass
class RenderedRays:
    """Per-ray results of volume rendering."""

    premultiplied: Float[Tensor, "r 3"]
    """Σ w·rgb, colour not yet composited on a background."""
    opacity: Float[Tensor, "r 1"]
    """Σ w."""
    depth: Float[Tensor, "r 1"]
    """Expected distance Σ w·t / Σ w (0 where the ray hit nothing)."""
    evaluated: Int[Tensor, "r"]
    """Candidates at which the field was evaluated."""

    def outputs(self) -> Dict[str, Tensor]:
        """The model's outputs of these rays, [R, C] each, the colour composited on white."""
        return {
            "rgb": composite(self.premultiplied, self.opacity, torch.ones_like(self.premultiplied)),
            "rgb_premultiplied": self.premultiplied,
            "accumulation": self.opacity,
            "depth": self.depth,
            "num_samples_per_ray": self.evaluated[:, None].float(),
        }


def composite(premultiplied: Float[Tensor, "r 3"], opacity: Float[Tensor, "r 1"], background: Float[Tensor, "r 3"]) -> Float[Tensor, "r 3"]:
    """Premultiplied colour over `background`."""
    return premultiplied + background * (1.0 - opacity)


def sample_positions(
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    t_starts: Float[Tensor, "s"],
    t_ends: Float[Tensor, "s"],
    ray_indices: Int[Tensor, "s"],
) -> Float[Tensor, "s 3"]:
    """Midpoints of packed samples."""
    return origins[ray_indices] + directions[ray_indices] * ((t_starts + t_ends) / 2)[:, None]


def render_packed(
    t_starts: Float[Tensor, "s"],
    t_ends: Float[Tensor, "s"],
    rgb: Float[Tensor, "s 3"],
    sigmas: Float[Tensor, "s"],
    ray_indices: Int[Tensor, "s"],
    n_rays: int,
) -> RenderedRays:
    """Colour, opacity and depth of every ray from all of its samples (differentiable)."""
    weights = render_weights(t_starts, t_ends, sigmas, ray_indices, n_rays)
    opacity = accumulate(torch.ones_like(weights)[:, None], weights, ray_indices, n_rays)
    depth = accumulate(((t_starts + t_ends) / 2)[:, None], weights, ray_indices, n_rays) / opacity.clamp(min=1e-6)
    evaluated = torch.bincount(ray_indices, minlength=n_rays)
    return RenderedRays(accumulate(rgb, weights, ray_indices, n_rays), opacity, depth, evaluated)
