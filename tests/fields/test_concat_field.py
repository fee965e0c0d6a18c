"""The "concatenate" baseline field: shapes, expression dependence and its expression-aware occupancy density."""

import pytest
import torch

from nerfblend_ns.fields.concat_field import ConcatField, ExpressionCodeConfig
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.rendering.occupancy_grid import occupancy_density_fn

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
K = 3


@pytest.fixture
def field() -> ConcatField:
    torch.manual_seed(0)
    return ConcatField(
        AABB, num_coefficients=K,
        grid=BlendedHashGridConfig(num_levels=3, log2_hashmap_size=10, base_resolution=4, max_resolution=32, init_scale=0.5),
        decoder=DecoderConfig(hidden_dim=32, num_layers=7, geometry_features=5, color_num_layers=1),
        expression_code=ExpressionCodeConfig(hidden_dim=16, code_dim=8),
    )


def test_shapes_and_ranges(field):
    codes = field.blend(torch.rand(2, K))
    assert codes.shape == (2, 8)
    points, frames = torch.rand(50, 3) * 2 - 1, torch.randint(0, 2, (50,))
    rgb, density = field(points, torch.randn(50, 3), codes, frames)
    assert rgb.shape == (50, 3) and density.shape == (50, 1)
    assert ((rgb >= 0) & (rgb <= 1)).all() and (density >= 0).all()
    assert torch.equal(field.density(points, codes, frames), density)


def test_one_table_sized_like_one_basis_and_the_decoder_depths(field):
    assert field.encoding.tables.shape[0] == 1
    assert [p.shape for p in field.encoding.parameters()] == [field.encoding.tables.shape]
    linear = lambda mlp: [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]  # noqa: E731
    assert len(linear(field.density_mlp)) == 7 and len(linear(field.color_mlp)) == 1
    assert len(linear(field.expression_mlp)) == 2
    assert linear(field.density_mlp)[0].in_features == field.encoding.output_dim + 8


def test_different_expressions_give_different_outputs(field):
    points = torch.rand(64, 3) * 2 - 1
    codes = field.blend(torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.5, 0.2]]))
    directions = torch.randn(64, 3)
    rgb_a, density_a = field(points, directions, codes, torch.zeros(64, dtype=torch.long))
    rgb_b, density_b = field(points, directions, codes, torch.ones(64, dtype=torch.long))
    assert not torch.allclose(density_a, density_b) and not torch.allclose(rgb_a, rgb_b)


def test_occupancy_max_over_the_k_plus_1_expressions_matches_evaluating_each(field):
    points = torch.rand(64, 3) * 2 - 1
    scales = torch.tensor([0.7, 1.2, 0.4])
    expressions = torch.cat([torch.zeros(1, K), torch.diag(scales)])  # 0, then ŵ_i e_i
    codes = field.blend(expressions)
    one_by_one = torch.stack([field.density(points, codes, torch.full((64,), k, dtype=torch.long)) for k in range(K + 1)])
    assert torch.allclose(field.expression_aware_density(points, scales), one_by_one.amax(0), atol=1e-6)
    assert torch.allclose(field.neutral_density(points), one_by_one[0], atol=1e-6)
    chunked = occupancy_density_fn(field, scales, step_size=0.01, expression_aware=True, chunk=40)
    assert torch.allclose(chunked(points), one_by_one.amax(0) * 0.01, atol=1e-7)


def test_gradients_reach_the_table_and_the_expression_mlp(field):
    codes = field.blend(torch.rand(2, K))
    rgb, density = field(torch.rand(32, 3) * 2 - 1, torch.randn(32, 3), codes, torch.randint(0, 2, (32,)))
    (rgb.sum() + density.sum()).backward()
    assert field.encoding.tables.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in field.expression_mlp.parameters())
