import pytest
import torch
from nerfacc import OccGridEstimator

from nerfblend_ns.rendering.occupancy_ray_marching import march_rays, march_rays_reference, occupied

AABB = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])


def _grid_with_block() -> torch.Tensor:
    binary = torch.zeros(8, 8, 8, dtype=torch.bool)
    binary[4:6, 4:6, :] = True  # x, y in [0, 0.5), all z
    return binary


def test_samples_lie_in_occupied_cells_inside_the_box_in_order():
    binary = _grid_with_block()
    origins = torch.tensor([[0.25, 0.25, 3.0], [-0.5, -0.5, 3.0], [0.3, 0.1, 3.0]])
    directions = torch.tensor([[0.0, 0.0, -1.0]] * 3)
    ray_indices, t_starts, t_ends = march_rays_reference(binary, AABB, origins, directions, 0.1, 0.0, 100.0, False)
    assert set(ray_indices.tolist()) == {0, 2}
    assert torch.all(ray_indices[1:] >= ray_indices[:-1])
    midpoints = origins[ray_indices] + directions[ray_indices] * ((t_starts + t_ends) / 2)[:, None]
    assert torch.all(occupied(binary, AABB, midpoints))
    ray0 = ray_indices == 0
    assert t_starts[ray0].min().item() == pytest.approx(2.0) and t_ends[ray0].max().item() <= 4.0 + 1e-6
    assert ray0.sum().item() == 20  # the 2-unit chord through the box, in steps of 0.1


def test_near_plane_and_alpha_threshold_prune():
    binary = torch.ones(4, 4, 4, dtype=torch.bool)
    origins = torch.tensor([[0.0, 0.0, 0.5]])
    directions = torch.tensor([[0.0, 0.0, -1.0]])
    all_samples = march_rays_reference(binary, AABB, origins, directions, 0.1, 0.0, 10.0, False)[0]
    assert len(all_samples) == 15  # from z = 0.5 down to −1
    near = march_rays_reference(binary, AABB, origins, directions, 0.1, 0.5, 10.0, False)[0]
    assert len(near) == 10
    dense_half = lambda t0, t1, rays: torch.where((t0 + t1) / 2 > 1.0, 100.0, 0.0)  # noqa: E731
    pruned = march_rays_reference(binary, AABB, origins, directions, 0.1, 0.0, 10.0, False, dense_half, 0.01)
    assert len(pruned[0]) == 1  # the first dense sample is opaque: everything behind it is hidden


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_nerfacc_sampling_matches_the_reference_on_a_fixed_grid():
    estimator = OccGridEstimator(roi_aabb=AABB, resolution=8, levels=1).cuda()
    estimator.binaries[0] = _grid_with_block().cuda()
    generator = torch.Generator().manual_seed(0)
    origins = torch.cat([torch.rand(256, 2, generator=generator) * 1.6 - 0.8, torch.full((256, 1), 3.0)], dim=1)
    directions = torch.tensor([[0.0, 0.0, -1.0]]).expand(256, 3).contiguous()
    expected = march_rays_reference(estimator.binaries[0].cpu(), AABB, origins, directions, 0.01, 0.0, 100.0, False)
    actual = march_rays(estimator.binaries, estimator.aabbs, origins.cuda(), directions.cuda(), 0.01, 0.0, 100.0, False)
    expected_counts = torch.bincount(expected[0], minlength=256)
    actual_counts = torch.bincount(actual[0].cpu(), minlength=256)
    assert torch.equal(expected_counts > 0, actual_counts > 0)
    assert torch.all((expected_counts - actual_counts).abs() <= 1)
