import torch
from torch.testing import assert_close

from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, DecoderConfig, NerfBlendField
from nerfblend_ns.models.occupancy_density import occupancy_density_fn
from nerfblend_ns.models.spatial_order import _spread_bits, morton_order


def test_bits_land_every_third_position():
    values = torch.arange(1024)
    expected = torch.tensor([sum(((v >> bit) & 1) << (3 * bit) for bit in range(10)) for v in range(1024)])
    assert torch.equal(_spread_bits(values), expected)


def test_bits_land_every_second_position_in_two_dimensions():
    values = torch.arange(1024)
    expected = torch.tensor([sum(((v >> bit) & 1) << (2 * bit) for bit in range(10)) for v in range(1024)])
    assert torch.equal(_spread_bits(values, dims=2), expected)


def test_order_is_a_permutation_that_keeps_neighbours_together():
    torch.manual_seed(0)
    points = torch.rand(20000, 3) * 4 - 2
    order = morton_order(points)
    assert torch.equal(order.sort().values, torch.arange(len(points)))
    step = lambda p: (p[1:] - p[:-1]).norm(dim=1).mean()  # noqa: E731
    assert step(points[order]) < step(points) / 10


def test_occupancy_density_comes_back_in_input_order():
    torch.manual_seed(0)
    aabb = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    field = NerfBlendField(
        aabb, num_expressions=3,
        grid=BlendedHashGridConfig(num_levels=3, log2_hashmap_size=10, base_resolution=4, max_resolution=32, init_scale=0.5),
        decoder=DecoderConfig(hidden_dim=16, num_layers=3, geometry_features=4, color_hidden_dim=8),
    )
    points = torch.rand(500, 3) * 2 - 1
    scales = torch.tensor([0.7, 1.2, 0.4])
    chunked = occupancy_density_fn(field, scales, step_size=0.01, expression_aware=True, chunk=4 * 37)
    with torch.no_grad():
        assert_close(chunked(points), field.expression_aware_density(points, scales) * 0.01)
