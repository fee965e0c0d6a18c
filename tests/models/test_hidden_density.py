"""The hidden-density term: points of the occupied cells, the step opacity, that it thins space no training
ray reaches, and where its gradient goes."""

import pytest
import torch
from toy_disc_scene import disc_model, disc_rays, train_disc

from nerfblend_ns.models.hidden_density import occupied_cell_points, step_opacity_penalty

AABB = torch.tensor([-1.0, -2.0, 0.0, 1.0, 2.0, 4.0])


def test_points_fall_in_occupied_cells_only_and_reach_every_one():
    occupied = torch.zeros(4, 4, 4, dtype=torch.bool)
    occupied[0, 1, 2] = occupied[3, 3, 0] = occupied[2, 0, 3] = True
    points = occupied_cell_points(occupied, AABB, 3000, torch.Generator().manual_seed(0))
    cells = ((points - AABB[:3]) / (AABB[3:] - AABB[:3]) * 4).floor().long()  # [N, 3]
    assert occupied[cells[:, 0], cells[:, 1], cells[:, 2]].all()
    counts = torch.stack([(cells == cell).all(1).sum() for cell in occupied.nonzero()])
    assert counts.sum() == 3000 and counts.min() > 900  # uniform over the three cells: 1000 each
    within = (points - AABB[:3]) / (AABB[3:] - AABB[:3]) * 4 - cells  # position inside the cell, uniform
    assert 0.45 < within.mean() < 0.55 and within.min() >= 0 and within.max() < 1


def test_an_empty_grid_gives_no_points_and_no_penalty():
    points = occupied_cell_points(torch.zeros(2, 2, 2, dtype=torch.bool), AABB, 100)
    assert points.shape == (0, 3)
    assert step_opacity_penalty(torch.zeros(0), 0.1).item() == 0.0


def test_the_penalty_is_the_mean_opacity_over_one_step():
    density = torch.tensor([0.0, 10.0, 1000.0])
    expected = (0.0 + (1 - torch.exp(torch.tensor(-1.0))) + 1.0) / 3
    assert step_opacity_penalty(density, 0.1).item() == pytest.approx(expected.item(), rel=1e-6)


def _hidden_opacity(model) -> float:
    """Mean step opacity, frame 0's expression, over points behind the disc: |x|, |y| < 0.3, -0.9 < z < -0.4."""
    points = torch.rand(4096, 3, generator=torch.Generator().manual_seed(1)) * torch.tensor([0.6, 0.6, 0.5])
    points -= torch.tensor([0.3, 0.3, 0.9])
    grid = model.occupancy_grid
    with torch.no_grad():
        tables = model.field.blend(torch.zeros(1, 1))
        density = model.field.density(points, tables, torch.zeros(len(points), dtype=torch.long)).squeeze(-1)
    return step_opacity_penalty(density, grid.training_step_size).item()


def test_the_term_thins_the_space_behind_what_the_rays_see():
    # The disc's rays come from +z only: behind its surface no ray reaches, and only the term acts there. The
    # field starts dense everywhere (density bias 3), so that the space behind starts full. In this toy (a
    # 2^10-entry table per level, every cell shared by the front and the back) the term also costs the fit:
    # L1 0.051 -> 0.054 / 0.083 / 0.165 at weights 0.01 / 0.03 / 0.1 for a hidden opacity 0.088 -> 0.085 /
    # 0.065 / 0.055; whether it pays on a head is the fidelity benchmark's question (docs/quality.md).
    results = {}
    for weight in (0.0, 0.1):
        torch.manual_seed(0)
        model = disc_model(hidden_density_weight=weight, hidden_density_points=2048)
        with torch.no_grad():
            model.field.density_mlp.layers[-1].bias[0] = 3.0
        losses = train_disc(model, 150, torch.Generator().manual_seed(0))
        assert ("hidden_density" in losses) == (weight > 0)
        model.eval()
        with torch.no_grad():
            outputs = model(disc_rays(torch.Generator().manual_seed(2), 0, 64)[0])
        assert "hidden_density" not in outputs  # training only
        results[weight] = _hidden_opacity(model)
    assert results[0.1] < 0.7 * results[0.0], results


def test_the_terms_gradient_reaches_the_tables_and_the_density_decoder():
    torch.manual_seed(0)
    model = disc_model(hidden_density_weight=0.5, hidden_density_points=512)
    model.occupancy_grid.binaries[:] = True
    model.train()
    bundle, batch = disc_rays(torch.Generator().manual_seed(0), 1, 64)
    outputs = model(bundle)
    loss = model.get_loss_dict(outputs, batch)["hidden_density"]
    assert loss.item() == pytest.approx(0.5 * outputs["hidden_density"].item())
    loss.backward()
    assert model.field.encoding.tables.grad.abs().sum() > 0
    assert model.field.density_mlp.layers[-1].weight.grad.abs().sum() > 0
