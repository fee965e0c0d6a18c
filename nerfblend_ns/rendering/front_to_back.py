"""Rendering packed candidate samples front to back in windows, retiring each ray once it is opaque.

Marching with a density callback (nerfacc's `sampling(sigma_fn=...)`) evaluates the field at every
candidate of every ray before it drops the hidden ones; on a trained head most candidates lie
behind the skin. Here the field sees each live ray's next few candidates per round, and a ray
retires after the round in which its transmittance falls under `early_stop_eps`, so the work goes
to the samples near the first surface.

Semantics match marching with `alpha_thre` and `early_stop_eps` and rendering the survivors:
samples with α below the threshold neither colour nor attenuate the ray; a retired ray's remaining
samples carry less than `early_stop_eps` of weight in all.
"""

from typing import Callable, Iterator, Sequence

import torch
from jaxtyping import Float, Int
from torch import Tensor

from nerfblend_ns.rendering.packed_volume_rendering import RenderedRays, accumulate, render_weights_reference

FieldFn = Callable[[Int[Tensor, "n"]], tuple[Float[Tensor, "n 3"], Float[Tensor, "n"]]]
"""Indices [n] into the packed candidates -> (rgb [n, 3], density [n]) at those samples."""

DEFAULT_WINDOWS = (16, 32, 64)
"""Candidates per live ray in the first rounds; the last size repeats. Most rays of a trained head
turn opaque within the first window (the grid keeps only a few cells in front of the skin)."""


def _window_sizes(windows: Sequence[int]) -> Iterator[int]:
    yield from windows
    while True:
        yield windows[-1]


def render_front_to_back(
    ray_indices: Int[Tensor, "s"],
    t_starts: Float[Tensor, "s"],
    t_ends: Float[Tensor, "s"],
    n_rays: int,
    field_fn: FieldFn,
    alpha_threshold: float,
    early_stop_eps: float,
    windows: Sequence[int] = DEFAULT_WINDOWS,
) -> RenderedRays:
    """Volume-renders candidates sorted by ray (nerfacc's packing), evaluating the field in rounds."""
    device = t_starts.device
    counts = torch.bincount(ray_indices, minlength=n_rays)  # [R]
    rank = torch.arange(ray_indices.numel(), device=device) - (torch.cumsum(counts, 0) - counts)[ray_indices]  # [S]
    transmittance = torch.ones(n_rays, device=device)
    premultiplied = torch.zeros(n_rays, 3, device=device)
    opacity = torch.zeros(n_rays, 1, device=device)
    weighted_t = torch.zeros(n_rays, 1, device=device)
    evaluated = torch.zeros(n_rays, dtype=torch.long, device=device)
    alive = counts > 0
    first = 0
    sizes = _window_sizes(windows)
    while bool(alive.any()):
        last = first + next(sizes)
        ids = torch.nonzero((rank >= first) & (rank < last) & alive[ray_indices]).squeeze(-1)  # [n], by ray
        rays = ray_indices[ids]
        rgb, density = field_fn(ids)
        starts, ends = t_starts[ids], t_ends[ids]
        sigma_dt = density.float() * (ends - starts)
        # A transparent sample is dropped as if never marched: no colour, no attenuation.
        kept_density = torch.where(1.0 - torch.exp(-sigma_dt) >= alpha_threshold, density.float(), 0.0)
        local_weights = render_weights_reference(starts, ends, kept_density, rays, n_rays)[0]
        weights = transmittance[rays] * local_weights  # [n]
        premultiplied += accumulate(rgb.float(), weights, rays, n_rays)
        opacity += accumulate(torch.ones_like(weights)[:, None], weights, rays, n_rays)
        weighted_t += accumulate(((starts + ends) / 2)[:, None], weights, rays, n_rays)
        optical_depth = torch.zeros(n_rays, device=device).index_add_(0, rays, kept_density * (ends - starts))
        transmittance = transmittance * torch.exp(-optical_depth)
        evaluated += torch.bincount(rays, minlength=n_rays)
        first = last
        alive = alive & (transmittance >= early_stop_eps) & (counts > first)
    return RenderedRays(premultiplied, opacity, weighted_t / opacity.clamp(min=1e-6), evaluated)
