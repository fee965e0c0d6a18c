import pytest
import torch

from nerfblend_ns.rendering.front_to_back import render_front_to_back
from nerfblend_ns.rendering.packed_volume_rendering import accumulate, render_weights_reference, visible_samples_reference

ALPHA_THRESHOLD = 0.01
EARLY_STOP_EPS = 1e-4


def _candidates(counts: list[int], seed: int):
    generator = torch.Generator().manual_seed(seed)
    ray_indices = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    t_starts = torch.cat([0.5 + torch.arange(n, dtype=torch.float32) * 0.02 for n in counts])
    t_ends = t_starts + 0.02
    # Empty space, then a shell that turns opaque at a depth that differs per ray, with faint samples in between.
    onset = torch.rand(len(counts), generator=generator) * 0.4 + 0.6
    density = torch.where(t_starts > onset[ray_indices], 80.0 * torch.rand(len(t_starts), generator=generator), 0.1)
    rgb = torch.rand(len(t_starts), 3, generator=generator)
    return ray_indices, t_starts, t_ends, density, rgb


def _marched_then_rendered(ray_indices, t_starts, t_ends, density, rgb, n_rays):
    """The other path: evaluate every candidate, drop invisible ones, render the survivors."""
    visible = visible_samples_reference(t_starts, t_ends, density, ray_indices, n_rays, ALPHA_THRESHOLD, EARLY_STOP_EPS)
    rays = ray_indices[visible]
    weights = render_weights_reference(t_starts[visible], t_ends[visible], density[visible], rays, n_rays)[0]
    mid = ((t_starts + t_ends) / 2)[visible, None]
    opacity = accumulate(torch.ones_like(weights)[:, None], weights, rays, n_rays)
    return accumulate(rgb[visible], weights, rays, n_rays), opacity, accumulate(mid, weights, rays, n_rays) / opacity.clamp(min=1e-6)


@pytest.mark.parametrize("windows", [(1,), (3, 5), (16, 32, 64), (10_000,)])
def test_matches_evaluating_every_candidate(windows):
    counts = [0, 40, 1, 75, 12, 0, 60]
    ray_indices, t_starts, t_ends, density, rgb = _candidates(counts, seed=0)
    seen = []

    def field_fn(ids):
        seen.append(ids)
        return rgb[ids], density[ids]

    rendered = render_front_to_back(
        ray_indices, t_starts, t_ends, len(counts), field_fn, ALPHA_THRESHOLD, EARLY_STOP_EPS, windows
    )
    premultiplied, opacity, depth = _marched_then_rendered(ray_indices, t_starts, t_ends, density, rgb, len(counts))
    assert torch.allclose(rendered.premultiplied, premultiplied, atol=2 * EARLY_STOP_EPS)
    assert torch.allclose(rendered.opacity, opacity, atol=2 * EARLY_STOP_EPS)
    assert torch.allclose(rendered.depth, depth, atol=1e-3)
    assert opacity[[1, 3, 6]].min() > 0.99 and rendered.opacity[[0, 5]].abs().max() == 0
    # No candidate is evaluated twice, and the counts add up.
    all_ids = torch.cat(seen)
    assert all_ids.unique().numel() == all_ids.numel() == int(rendered.evaluated.sum())


def test_rays_retire_once_opaque():
    counts = [200, 200]
    ray_indices = torch.repeat_interleave(torch.arange(2), torch.tensor(counts))
    t_starts = torch.cat([torch.arange(n, dtype=torch.float32) * 0.01 for n in counts])
    density = torch.full_like(t_starts, 2000.0)  # α ≈ 1 at the first sample
    rgb = torch.ones(len(t_starts), 3)
    rendered = render_front_to_back(
        ray_indices, t_starts, t_starts + 0.01, 2, lambda ids: (rgb[ids], density[ids]),
        ALPHA_THRESHOLD, EARLY_STOP_EPS, windows=(8, 32),
    )
    assert rendered.evaluated.tolist() == [8, 8]
    assert torch.allclose(rendered.opacity, torch.ones(2, 1))


def test_transparent_samples_neither_colour_nor_attenuate():
    ray_indices = torch.zeros(3, dtype=torch.long)
    t_starts = torch.tensor([0.0, 1.0, 2.0])
    density = torch.tensor([0.005, 0.005, 1e4])  # α of the first two under the threshold
    rgb = torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0, 0, 1.0]])
    rendered = render_front_to_back(
        ray_indices, t_starts, t_starts + 1, 1, lambda ids: (rgb[ids], density[ids]), ALPHA_THRESHOLD, EARLY_STOP_EPS
    )
    assert torch.allclose(rendered.premultiplied, torch.tensor([[0.0, 0.0, 1.0]]), atol=1e-6)
