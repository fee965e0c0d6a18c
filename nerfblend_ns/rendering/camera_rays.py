"""A pinhole camera's rays, made on the model's device in tile order.

nerfstudio's `Cameras.generate_rays` handles every camera model and builds its index tensors on the
host, where it waits for the GPU; an undistorted pinhole camera (what the tracker writes) needs a few
element-wise operators per ray, all queued without a wait. The rays come along a Z-order curve of the
pixel grid, so that consecutive rays are compact tiles of pixels: what the fused renderer's programs
want, with no sort per frame.
"""

from typing import Tuple

import torch
from jaxtyping import Float, Int
from nerfstudio.cameras.cameras import Cameras, CameraType
from torch import Tensor

from nerfblend_ns.spatial_order import LATTICE_BITS, interleaved_bits


def single_pinhole_size(camera: Cameras) -> Tuple[int, int]:
    """(height, width) of a single undistorted perspective camera; (0, 0) for any other camera (several
    cameras, another model, distortion), which nerfstudio's ray generation handles."""
    if camera.shape not in ((), (1,)) or camera.distortion_params is not None:
        return 0, 0
    # One read of the three values: each read from a GPU tensor waits for the queued work.
    kind, height, width = torch.cat(
        [camera.camera_type.reshape(-1), camera.height.reshape(-1), camera.width.reshape(-1)]
    ).tolist()
    return (height, width) if kind == CameraType.PERSPECTIVE.value else (0, 0)


def tile_order(height: int, width: int, device: torch.device) -> Int[Tensor, "n"]:
    """Pixel indices (row · width + column) along a Z-order curve of the pixel grid. Beyond 1024 pixels a
    side, cells of 2^s × 2^s pixels share a code and keep raster order within."""
    shift = max(0, max(height, width).bit_length() - LATTICE_BITS)
    rows = torch.arange(height, device=device).repeat_interleave(width)
    columns = torch.arange(width, device=device).repeat(height)
    codes = interleaved_bits(torch.stack((columns >> shift, rows >> shift), dim=1))
    return torch.argsort(codes, stable=True)


def pixel_centres(pixels: Int[Tensor, "r"], width: int) -> Float[Tensor, "r 2"]:
    """(x, y) image coordinates of the centres of `pixels` (row · width + column)."""
    return torch.stack(((pixels % width).float(), (pixels // width).float()), dim=1) + 0.5


def pinhole_parameters(camera: Cameras) -> Tuple[Float[Tensor, "4"], Float[Tensor, "3 4"]]:
    """(fx, fy, cx, cy) and the camera-to-world matrix of a single pinhole camera, in float32."""
    intrinsics = torch.cat((camera.fx, camera.fy, camera.cx, camera.cy), dim=-1).reshape(4).float()
    return intrinsics, camera.camera_to_worlds.reshape(3, 4).float()


def pinhole_rays(
    intrinsics: Float[Tensor, "4"], camera_to_world: Float[Tensor, "3 4"], centres: Float[Tensor, "r 2"]
) -> Tuple[Float[Tensor, "r 3"], Float[Tensor, "r 3"]]:
    """World-space origins and unit directions through the image points `centres` of a pinhole camera
    (`pinhole_parameters`), as `Cameras.generate_rays` makes them (camera looking down -z, y up). Few
    operators, each queued without a wait."""
    # (x - cx) / fx, (y - cy) / fy: the camera's x and, y pointing down, minus its y.
    image_plane = (centres - intrinsics[2:]) / intrinsics[:2]  # [R, 2]
    rotation = camera_to_world[:, :3]
    # Rows: world vectors of the camera's x, -y and -z (the viewing direction) axes.
    axes = torch.stack((rotation[:, 0], -rotation[:, 1], -rotation[:, 2]))  # [3, 3]
    directions = torch.nn.functional.normalize(torch.nn.functional.pad(image_plane, (0, 1), value=1.0) @ axes, dim=1)
    return camera_to_world[:, 3].expand_as(directions), directions
