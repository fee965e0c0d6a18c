import math

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType

from nerfblend_ns.rendering.camera_rays import (
    pinhole_parameters,
    pinhole_rays,
    pixel_centres,
    single_pinhole_size,
    tile_order,
)


def _camera(width: int = 24, height: int = 18, **kwargs) -> Cameras:
    angle = 0.4
    rotation = torch.tensor(
        [[math.cos(angle), 0.0, math.sin(angle)], [0.0, 1.0, 0.0], [-math.sin(angle), 0.0, math.cos(angle)]]
    )
    rotation = rotation @ torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.8, -0.6], [0.0, 0.6, 0.8]])
    camera_to_world = torch.cat([rotation, torch.tensor([[0.3], [-0.2], [2.5]])], dim=1)
    return Cameras(
        camera_to_worlds=camera_to_world[None], fx=30.0, fy=33.0, cx=11.0, cy=10.5, width=width, height=height,
        **kwargs,
    )


def test_rays_are_nerfstudios_rays_of_the_same_pixels():
    camera = _camera()
    bundle = camera.generate_rays(camera_indices=0, keep_shape=True)  # [H, W]
    height, width = single_pinhole_size(camera)
    assert (height, width) == (18, 24)
    pixels = tile_order(height, width, torch.device("cpu"))
    origins, directions = pinhole_rays(*pinhole_parameters(camera), pixel_centres(pixels, width))
    torch.testing.assert_close(directions, bundle.directions.reshape(-1, 3)[pixels], atol=1e-6, rtol=0)
    torch.testing.assert_close(origins, bundle.origins.reshape(-1, 3)[pixels], atol=1e-6, rtol=0)


@pytest.mark.parametrize("height, width", [(64, 64), (48, 80), (1, 5)])
def test_tile_order_is_a_permutation_of_compact_tiles(height, width):
    order = tile_order(height, width, torch.device("cpu"))
    assert torch.equal(order.sort().values, torch.arange(height * width))
    if height % 4 == 0 and width % 4 == 0:
        rows, columns = (order // width).reshape(-1, 16), (order % width).reshape(-1, 16)
        spans = torch.stack([rows.amax(1) - rows.amin(1), columns.amax(1) - columns.amin(1)], dim=1)
        assert (spans == 3).all()  # every 16 consecutive rays are a 4 × 4 tile


def test_tile_order_of_wide_images_tiles_coarser_cells():
    height, width = 8, 2048  # beyond 1024 columns, 2 × 2 cells share a code
    order = tile_order(height, width, torch.device("cpu"))
    assert torch.equal(order.sort().values, torch.arange(height * width))
    rows, columns = (order // width).reshape(-1, 16), (order % width).reshape(-1, 16)
    assert (rows.amax(1) - rows.amin(1)).max() <= 3 and (columns.amax(1) - columns.amin(1)).max() <= 7


def test_other_cameras_are_left_to_nerfstudio():
    assert single_pinhole_size(_camera(camera_type=CameraType.FISHEYE)) == (0, 0)
    assert single_pinhole_size(_camera(distortion_params=torch.zeros(6))) == (0, 0)
    two = Cameras(
        camera_to_worlds=torch.eye(4)[:3].expand(2, 3, 4), fx=30.0, fy=30.0, cx=10.0, cy=10.0, width=20, height=20
    )
    assert single_pinhole_size(two) == (0, 0)
    assert single_pinhole_size(two[0:1]) == (20, 20)
