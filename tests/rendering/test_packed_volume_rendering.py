import math

import pytest
import torch

from nerfblend_ns.rendering.packed_volume_rendering import (
    accumulate,
    render_weights,
    render_weights_reference,
    visible_samples_reference,
)


def _packed(generator: torch.Generator, counts: list[int]):
    ray_indices = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    t_starts = torch.cat([torch.arange(n, dtype=torch.float32) * 0.1 for n in counts])
    t_ends = t_starts + 0.1
    sigmas = torch.rand(int(sum(counts)), generator=generator) * 20
    return ray_indices, t_starts, t_ends, sigmas


def _dense_weights(t_starts, t_ends, sigmas, ray_indices, n_rays):
    """Per-ray loop: w_i = exp(−Σ_{j<i} σ_j Δ_j)·(1 − exp(−σ_i Δ_i))."""
    weights = torch.zeros_like(sigmas)
    for ray in range(n_rays):
        index = torch.nonzero(ray_indices == ray).flatten()
        depth = 0.0
        for i in index.tolist():
            tau = sigmas[i].item() * (t_ends[i] - t_starts[i]).item()
            weights[i] = math.exp(-depth) * (1 - math.exp(-tau))
            depth += tau
    return weights


def test_reference_weights_match_the_per_ray_definition_with_empty_rays():
    generator = torch.Generator().manual_seed(0)
    counts = [5, 0, 17, 1, 0, 40]
    ray_indices, t_starts, t_ends, sigmas = _packed(generator, counts)
    weights, transmittance, alphas = render_weights_reference(t_starts, t_ends, sigmas, ray_indices, len(counts))
    assert torch.allclose(weights, _dense_weights(t_starts, t_ends, sigmas, ray_indices, len(counts)), atol=1e-6)
    opacity = accumulate(torch.ones(len(weights), 1), weights, ray_indices, len(counts))
    assert opacity[1].item() == 0 and opacity[4].item() == 0
    assert torch.all(opacity <= 1 + 1e-6)


def test_reference_gradient_matches_autograd_of_the_definition():
    generator = torch.Generator().manual_seed(1)
    ray_indices, t_starts, t_ends, sigmas = _packed(generator, [3, 4])
    sigmas = sigmas.double().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda s: render_weights_reference(t_starts.double(), t_ends.double(), s, ray_indices, 2)[0], (sigmas,)
    )


def test_visibility_drops_transparent_and_occluded_samples():
    ray_indices = torch.zeros(4, dtype=torch.long)
    t_starts = torch.arange(4, dtype=torch.float32)
    sigmas = torch.tensor([1e-4, 50.0, 1.0, 1.0])
    visible = visible_samples_reference(t_starts, t_starts + 1, sigmas, ray_indices, 1, 0.01, 1e-4)
    assert visible.tolist() == [False, True, False, False]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_nerfacc_kernels_match_the_reference_forward_and_backward():
    generator = torch.Generator().manual_seed(2)
    counts = torch.randint(0, 64, (512,), generator=generator).tolist()
    ray_indices, t_starts, t_ends, sigmas = _packed(generator, counts)
    reference = sigmas.clone().requires_grad_()
    expected = render_weights_reference(t_starts, t_ends, reference, ray_indices, len(counts))[0]
    cuda = sigmas.cuda().requires_grad_()
    actual = render_weights(t_starts.cuda(), t_ends.cuda(), cuda, ray_indices.cuda(), len(counts))
    assert torch.allclose(actual.cpu(), expected, atol=1e-5)
    upstream = torch.rand(len(expected), generator=generator)
    (expected * upstream).sum().backward()
    (actual * upstream.cuda()).sum().backward()
    assert torch.allclose(cuda.grad.cpu(), reference.grad, atol=1e-4)
