import torch
import torch.nn.functional as F

from nerfblend_ns.rendering.ray_order import coherent_order


def _pinhole_directions(size: int) -> torch.Tensor:
    """Raster-order directions of a 60° pinhole camera looking down -z, rotated off the axes."""
    pixels = (torch.arange(size) + 0.5) / size * 2 - 1
    v, u = torch.meshgrid(pixels, pixels, indexing="ij")
    directions = torch.stack((u * 0.577, -v * 0.577, -torch.ones_like(u)), dim=-1).view(-1, 3)
    rotation = torch.linalg.qr(torch.tensor([[0.9, 0.3, 0.1], [-0.2, 0.8, 0.4], [0.1, -0.5, 0.9]]))[0]
    return F.normalize(directions @ rotation.T, dim=-1)


def _block_spread(order: torch.Tensor, size: int, block: int = 32) -> float:
    """Mean distance in pixels of a ray from the centre of its block of consecutive rays."""
    pixels = torch.stack((order // size, order % size), dim=-1).float().view(-1, block, 2)
    return float((pixels - pixels.mean(dim=1, keepdim=True)).norm(dim=-1).mean())


def test_blocks_of_the_order_are_compact_tiles():
    size = 64
    order = coherent_order(_pinhole_directions(size), torch.zeros(size * size, dtype=torch.long))
    assert torch.equal(order.sort().values, torch.arange(size * size))
    tile = torch.arange(size * size).view(size // 4, 4, size // 8, 8).transpose(1, 2).flatten()
    assert round(_block_spread(torch.arange(size * size), size), 2) == 8.0  # raster: 1 × 32 strips
    assert round(_block_spread(tile, size), 2) == 2.35  # 4 × 8 tiles
    assert _block_spread(order, size) <= 2.4  # cells line up with the rows, whatever the camera's roll


def test_rays_are_grouped_by_table_and_nan_directions_are_kept():
    directions = _pinhole_directions(16)
    directions[3] = float("nan")
    table_index = torch.randint(0, 3, (directions.shape[0],), generator=torch.Generator().manual_seed(0))
    order = coherent_order(directions, table_index)
    assert torch.equal(order.sort().values, torch.arange(directions.shape[0]))
    assert bool((table_index[order].diff() >= 0).all())


def test_no_rays_one_ray_and_equal_rays():
    assert coherent_order(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).shape == (0,)
    assert torch.equal(coherent_order(torch.tensor([[0.0, 0.0, 1.0]]), torch.zeros(1, dtype=torch.long)), torch.tensor([0]))
    same = torch.tensor([[0.6, 0.0, 0.8]]).expand(5, 3)
    assert torch.equal(coherent_order(same, torch.zeros(5, dtype=torch.long)).sort().values, torch.arange(5))
