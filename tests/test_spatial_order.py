import torch

from nerfblend_ns.spatial_order import _spread_bits, morton_order


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
