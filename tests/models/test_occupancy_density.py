"""The expression-aware occupancy update (paper §3.3, Fig. 13) against the neutral-only one."""

import torch
from nerfacc import OccGridEstimator

from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, DecoderConfig, NerfBlendField
from nerfblend_ns.models.occupancy_density import occupancy_density_fn

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
STEP = 0.01


def _field_where_basis_one_opens_a_region() -> NerfBlendField:
    """σ = softplus(100·relu(Σ level-0 features) − 5): the neutral table is empty, basis 1 fills x > 0.5."""
    field = NerfBlendField(
        AABB, num_expressions=2,
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
    estimator = OccGridEstimator(roi_aabb=AABB.flatten(), resolution=16, levels=1)
    basis_scales = torch.tensor([1.0, 0.3])  # ŵ: the largest training value of each coefficient
    density = occupancy_density_fn(field, basis_scales, STEP, expression_aware, chunk=4096)
    estimator.train()
    estimator.update_every_n_steps(step=0, occ_eval_fn=density, occ_thre=0.01, warmup_steps=256, n=1)
    return estimator.binaries[0]  # [16, 16, 16] indexed x, y, z


def test_expression_aware_grid_marks_the_region_only_an_extreme_expression_fills():
    binary = _occupied_cells(expression_aware=True)
    assert binary[13:].all()  # cells with x > 0.625 lie fully in the region
    assert not binary[:11].any()  # cells with x < 0.375 are empty at every expression


def test_neutral_only_grid_misses_it():
    assert not _occupied_cells(expression_aware=False).any()


def test_max_over_bases_reuses_per_basis_lookups_exactly():
    field = NerfBlendField(
        AABB, num_expressions=3,
        grid=BlendedHashGridConfig(num_levels=3, log2_hashmap_size=10, base_resolution=4, max_resolution=32, init_scale=0.5),
        decoder=DecoderConfig(hidden_dim=16, num_layers=3, geometry_features=4, color_hidden_dim=8),
    )
    points = torch.rand(64, 3) * 2 - 1
    scales = torch.tensor([0.7, 1.2, 0.4])
    expressions = torch.cat([torch.zeros(1, 3), torch.diag(scales)])  # neutral, then ŵ_i e_i
    tables = field.blend(expressions)
    one_by_one = torch.stack(
        [field.density(points, tables, torch.full((64,), k, dtype=torch.long)) for k in range(4)]
    )
    assert torch.allclose(field.expression_aware_density(points, scales), one_by_one.amax(0), atol=1e-5)
