"""The occupancy grid: the expression-aware update (paper §3.3, Fig. 13) against the neutral-only one, the
per-expression grids of rendering and their cache, and marching through a grid given."""

import pytest
import torch
from torch.testing import assert_close

from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, NerfBlendField
from nerfblend_ns.rendering.occupancy_grid import OccupancyGrid, OccupancyGridConfig, expression_grid, occupancy_density_fn

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
FLAT_AABB = AABB.flatten()
STEP = 0.01


def _field_where_basis_one_opens_a_region() -> NerfBlendField:
    """σ = softplus(100·relu(Σ level-0 features) − 5): the neutral table is empty, basis 1 fills x > 0.5."""
    field = NerfBlendField(
        AABB, CoefficientSegments.linear(2),
        grid=BlendedHashGridConfig(num_levels=2, log2_hashmap_size=12, base_resolution=8, max_resolution=16),
        decoder=DecoderConfig(hidden_dim=8, num_layers=2, geometry_features=3, color_hidden_dim=8),
    )
    with torch.no_grad():
        field.encoding.tables.zero_()
        layout = field.encoding.layout
        resolution = layout.resolutions[0]
        grid = torch.stack(torch.meshgrid(*[torch.arange(resolution + 1)] * 3, indexing="ij"), -1).reshape(-1, 3)
        inside = grid[:, 0] / resolution > 0.75 + 1e-6  # unit-cube x > 0.75 ⇔ world x > 0.5
        entries = grid[:, 0] + (resolution + 1) * (grid[:, 1] + (resolution + 1) * grid[:, 2])
        field.encoding.tables[1, layout.offsets[0] + entries[inside], :] = 1.0
        first, last = field.density_mlp.layers[0], field.density_mlp.layers[-1]
        for layer in (first, last):
            layer.weight.zero_()
            layer.bias.zero_()
        first.weight[0, : field.encoding.features_per_level] = 1.0
        last.weight[0, 0] = 100.0
        last.bias[0] = -5.0
    return field


def _occupied_cells(expression_aware: bool) -> torch.Tensor:
    field = _field_where_basis_one_opens_a_region()
    config = OccupancyGridConfig(
        resolution=16, update_interval=1, expression_aware=expression_aware, chunk=4096, training_step_size=STEP
    )
    grid = OccupancyGrid(AABB, config).train()
    largest_coefficients = torch.tensor([1.0, 0.3])  # ŵ: the largest training value of each coefficient
    grid.update(0, field, largest_coefficients)
    return grid.binaries[0]  # [16, 16, 16] indexed x, y, z


def test_expression_aware_grid_marks_the_region_only_an_extreme_expression_fills():
    binary = _occupied_cells(expression_aware=True)
    assert binary[13:].all()  # cells with x > 0.625 lie fully in the region
    assert not binary[:11].any()  # cells with x < 0.375 are empty at every expression


def test_neutral_only_grid_misses_it():
    assert not _occupied_cells(expression_aware=False).any()


@pytest.mark.parametrize("segments", [1, 3])
def test_max_over_bases_reuses_per_basis_lookups_exactly(segments):
    """The max over the neutral head and each coefficient alone at its knots and at ŵ_i (the paper's ŵ_i·e_i
    alone with one segment), each rendered through its own blended table."""
    minimum, scales = torch.tensor([0.0, -0.5, 0.1]), torch.tensor([0.7, 1.2, 0.4])
    field = NerfBlendField(
        AABB, CoefficientSegments(minimum, scales, segments),
        grid=BlendedHashGridConfig(num_levels=3, log2_hashmap_size=10, base_resolution=4, max_resolution=32, init_scale=0.5),
        decoder=DecoderConfig(hidden_dim=16, num_layers=3, geometry_features=4, color_hidden_dim=8),
    )
    points = torch.rand(64, 3) * 2 - 1
    fractions = torch.arange(1, segments + 1) / segments  # the knots, then the maximum
    values = minimum[:, None] + (scales - minimum)[:, None] * fractions  # [3, S]
    alone = [torch.zeros(3)] + [torch.eye(3)[i] * values[i, s] for i in range(3) for s in range(segments)]
    tables = field.blend(torch.stack(alone))
    one_by_one = torch.stack(
        [field.density(points, tables, torch.full((64,), k, dtype=torch.long)) for k in range(len(alone))]
    )
    assert torch.allclose(field.expression_aware_density(points, scales), one_by_one.amax(0), atol=1e-5)


def test_occupancy_density_comes_back_in_input_order():
    torch.manual_seed(0)
    aabb = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    field = NerfBlendField(
        aabb, CoefficientSegments.linear(3),
        grid=BlendedHashGridConfig(num_levels=3, log2_hashmap_size=10, base_resolution=4, max_resolution=32, init_scale=0.5),
        decoder=DecoderConfig(hidden_dim=16, num_layers=3, geometry_features=4, color_hidden_dim=8),
    )
    points = torch.rand(500, 3) * 2 - 1
    scales = torch.tensor([0.7, 1.2, 0.4])
    chunked = occupancy_density_fn(field, scales, step_size=0.01, expression_aware=True, chunk=4 * 37)
    with torch.no_grad():
        assert_close(chunked(points), field.expression_aware_density(points, scales) * 0.01)


def _ball(radius: float):
    return lambda x: torch.where(x.norm(dim=-1, keepdim=True) < radius, 100.0, 0.0)


def test_keeps_the_cells_the_expression_fills_and_one_cell_around():
    binary = torch.ones(16, 16, 16, dtype=torch.bool)
    grid = expression_grid(binary, FLAT_AABB, _ball(0.3), step_size=0.01, threshold=0.01)
    centres = FLAT_AABB[:3] + (torch.stack(torch.meshgrid(*[torch.arange(16)] * 3, indexing="ij"), -1) + 0.5) * 0.125
    distance = centres.norm(dim=-1)
    assert grid[distance < 0.3].all()
    # Cells more than a cell's diagonal outside the ball are dropped; the ring within it is kept.
    assert not grid[distance > 0.3 + 0.125 * 3**0.5 + 1e-6].any()
    assert grid[(distance > 0.3) & (distance < 0.3 + 0.125)].all()


def test_never_adds_cells_the_training_grid_left_out_and_uses_its_threshold():
    binary = torch.zeros(8, 8, 8, dtype=torch.bool)
    binary[2:6, 2:6, 2:6] = True
    binary[3, 3, 3] = False
    grid = expression_grid(binary, FLAT_AABB, _ball(0.6), step_size=0.01, threshold=0.01)
    assert not (grid & ~binary).any() and grid[4, 4, 4]
    assert not expression_grid(binary, FLAT_AABB, _ball(0.6), step_size=0.01, threshold=2.0).any()

def test_an_expression_gets_its_own_grid_when_rendered_again_until_the_grid_changes():
    grid = OccupancyGrid(AABB, OccupancyGridConfig(resolution=8, training_step_size=0.01))
    grid.binaries[0] = True
    built = []

    def density_fn():
        built.append(1)
        return _ball(0.3)

    coefficients = torch.tensor([[0.5]])
    assert grid.expression_binaries(coefficients, density_fn) is grid.binaries  # a first render: the union
    own = grid.expression_binaries(coefficients, density_fn)
    assert own.sum() < grid.binaries.sum() and own[0, 4, 4, 4]
    assert grid.expression_binaries(coefficients, density_fn) is own and len(built) == 1
    assert grid.expression_binaries(torch.tensor([[0.6]]), density_fn) is grid.binaries  # another expression
    assert grid.expression_binaries(torch.tensor([[0.5], [0.6]]), density_fn) is grid.binaries  # several
    grid.expression_binaries(coefficients, density_fn)
    grid.binaries[0, 0, 0, 0] = False  # changed in place, as a loaded checkpoint does
    assert grid.expression_binaries(coefficients, density_fn) is grid.binaries


def test_marching_reads_the_grid_it_is_given():
    grid = OccupancyGrid(AABB, OccupancyGridConfig(resolution=8, near_plane=0.0))
    grid.binaries[0] = True
    origins = torch.tensor([[0.3, 0.3, 3.0], [-0.3, -0.3, 3.0]])
    directions = torch.tensor([[0.0, 0.0, -1.0]] * 2)
    half = grid.binaries.clone()
    half[0, :4] = False  # x < 0 empty
    assert set(grid.march(origins, directions, 0.1, stratified=False)[0].tolist()) == {0, 1}
    assert set(grid.march(origins, directions, 0.1, stratified=False, binaries=half)[0].tolist()) == {0}
    assert grid.binaries.all()  # the grid itself is left as it was


def test_a_cell_only_one_basis_fills_is_kept_through_that_basis_at_its_largest_coefficient():
    field = _field_where_basis_one_opens_a_region()
    config = OccupancyGridConfig(resolution=16, update_interval=1, chunk=4096, training_step_size=STEP)
    kept = OccupancyGrid(AABB, config).train()
    kept.update(0, field, torch.tensor([1.0, 0.0]))
    assert kept.binaries[0, 15].all()
    # Basis 1 never used in training (largest coefficient 0): only basis 2, which is empty, is added.
    unused = OccupancyGrid(AABB, config).train()
    unused.update(0, field, torch.tensor([0.0, 1.0]))
    assert not unused.binaries.any()


def test_an_update_drops_the_cached_expression_grid():
    field = _field_where_basis_one_opens_a_region()
    config = OccupancyGridConfig(resolution=16, update_interval=1, chunk=4096, training_step_size=STEP)
    grid = OccupancyGrid(AABB, config).train()
    grid.update(0, field, torch.tensor([1.0, 0.3]))
    coefficients, density_fn = torch.tensor([[1.0, 0.0]]), lambda: _ball(0.9)
    grid.expression_binaries(coefficients, density_fn)
    own = grid.expression_binaries(coefficients, density_fn)
    assert own is not grid.binaries and own.any() and own.sum() < grid.binaries.sum()
    assert grid.expression_binaries(coefficients, density_fn) is own
    grid.update(1, field, torch.tensor([1.0, 0.3]))
    assert grid.expression_binaries(coefficients, density_fn) is grid.binaries  # the cache went stale
