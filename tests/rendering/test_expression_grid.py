import torch

from nerfblend_ns.rendering.expression_grid import expression_grid

AABB = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])


def _ball(radius: float):
    return lambda x: torch.where(x.norm(dim=-1, keepdim=True) < radius, 100.0, 0.0)


def test_keeps_the_cells_the_expression_fills_and_one_cell_around():
    binary = torch.ones(16, 16, 16, dtype=torch.bool)
    grid = expression_grid(binary, AABB, _ball(0.3), step_size=0.01, threshold=0.01)
    centres = AABB[:3] + (torch.stack(torch.meshgrid(*[torch.arange(16)] * 3, indexing="ij"), -1) + 0.5) * 0.125
    distance = centres.norm(dim=-1)
    assert grid[distance < 0.3].all()
    # Cells more than a cell's diagonal outside the ball are dropped; the ring within it is kept.
    assert not grid[distance > 0.3 + 0.125 * 3**0.5 + 1e-6].any()
    assert grid[(distance > 0.3) & (distance < 0.3 + 0.125)].all()


def test_never_adds_cells_the_training_grid_left_out_and_uses_its_threshold():
    binary = torch.zeros(8, 8, 8, dtype=torch.bool)
    binary[2:6, 2:6, 2:6] = True
    binary[3, 3, 3] = False
    grid = expression_grid(binary, AABB, _ball(0.6), step_size=0.01, threshold=0.01)
    assert not (grid & ~binary).any() and grid[4, 4, 4]
    assert not expression_grid(binary, AABB, _ball(0.6), step_size=0.01, threshold=2.0).any()
