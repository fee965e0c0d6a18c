"""Seen cells: a sample marks its cell when its ray still has over half its light, a cell and its neighbours count as
seen, a cell is forgotten after the window, and a point's cell answers whether it is unseen."""

import pytest
import torch

from nerfblend_ns.models.seen_cells import SeenCells
from nerfblend_ns.rendering.packed_volume_rendering import render_weights_reference, transmittance_before

AABB = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])


def _centre(x: int, y: int, z: int) -> torch.Tensor:
    """The centre of cell [x, y, z] of a 4³ grid over AABB."""
    return AABB[:3] + (torch.tensor([x, y, z]) + 0.5) * 0.5


def test_a_sample_marks_its_cell_only_while_its_ray_has_over_half_its_light():
    seen = SeenCells((4, 4, 4), AABB, window=10)
    positions = torch.stack([_centre(0, 0, 0), _centre(1, 2, 3), _centre(3, 3, 3), torch.tensor([5.0, 0.0, 0.0])])
    seen.observe(3, positions, torch.tensor([0.9, 0.51, 0.49, 1.0]))  # the last one lies outside the grid
    assert seen.unseen(3, positions).tolist() == [False, False, True, False]  # outside the grid: never unseen
    assert int((seen.last_seen == 3).sum()) == 2
    # A seen cell's 26 neighbours count as seen too; two cells away does not.
    assert seen.unseen(3, torch.stack([_centre(1, 1, 1), _centre(3, 3, 1), _centre(3, 1, 3)])).tolist() == [False, True, True]


def test_a_cell_is_unseen_again_once_the_window_has_passed_and_new_at_the_start():
    seen = SeenCells((4, 4, 4), AABB, window=10)
    point = _centre(2, 1, 0)[None]
    assert seen.unseen(0, point).item()  # no ray has seen anything yet
    seen.observe(5, point, torch.ones(1))
    assert not seen.unseen(15, point).item()
    assert seen.unseen(16, point).item()
    seen.observe(16, point, torch.ones(1))
    assert not seen.unseen(16, point).item()


def test_a_window_under_one_step_is_refused():
    with pytest.raises(ValueError, match="window of 0 steps"):
        SeenCells((4, 4, 4), AABB, window=0)


def test_transmittance_before_each_sample_is_the_light_its_ray_has_left():
    # Two rays: densities 1, 2, 3 over steps of 0.5, then one sample of density 4.
    t_starts = torch.tensor([0.0, 0.5, 1.0, 0.0])
    t_ends = t_starts + 0.5
    sigmas = torch.tensor([1.0, 2.0, 3.0, 4.0])
    ray_indices = torch.tensor([0, 0, 0, 1])
    expected = torch.exp(-torch.tensor([0.0, 0.5, 1.5, 0.0]))
    actual = transmittance_before(t_starts, t_ends, sigmas, ray_indices, 2)
    assert torch.allclose(actual, expected)
    assert torch.equal(actual, render_weights_reference(t_starts, t_ends, sigmas, ray_indices, 2)[1])
