"""Cameras to look at the head with: the most frontal view of a set, and orbits around the head.

The head sits at the world origin (the workspace format's head frame), so views turn about it.
"""

import math

import torch
from nerfstudio.cameras.cameras import Cameras


def frontal_index(cameras: Cameras) -> int:
    """Index of the camera closest to the cameras' mean viewing direction onto the head.

    A tracked video mostly faces the camera, so the mean direction is the frontal one whatever the
    dataset's axis conventions.
    """
    positions = cameras.camera_to_worlds[..., :3, 3].reshape(-1, 3)  # [N, 3]
    directions = torch.nn.functional.normalize(positions, dim=-1)
    mean = torch.nn.functional.normalize(directions.mean(dim=0), dim=0)
    return int((directions @ mean).argmax())


def _rotation(axis: torch.Tensor, angle: float) -> torch.Tensor:
    """[3, 3] rotation by `angle` radians about the unit vector `axis` [3] (Rodrigues)."""
    x, y, z = axis.tolist()
    cross = torch.tensor([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]], dtype=axis.dtype)
    return torch.eye(3, dtype=axis.dtype) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross


def orbit(camera: Cameras, yaw_degrees: float, num_frames: int) -> Cameras:
    """[num_frames] copies of one camera swung about the head's vertical axis, looping back to the start.

    The yaw follows a sine from 0 out to +yaw, back through 0 to −yaw and home, so the video loops.
    The vertical axis is the camera's own up direction through the head centre (the world origin).
    """
    camera_to_world = camera.camera_to_worlds.reshape(3, 4)
    up = torch.nn.functional.normalize(camera_to_world[:, 1], dim=0)
    angles = [math.radians(yaw_degrees) * math.sin(2 * math.pi * i / num_frames) for i in range(num_frames)]
    poses = torch.stack([_rotation(up, angle) @ camera_to_world for angle in angles])  # [F, 3, 4]

    def repeat(values: torch.Tensor) -> torch.Tensor:
        return values.reshape(1, -1).expand(num_frames, -1).clone()

    return Cameras(
        camera_to_worlds=poses, fx=repeat(camera.fx), fy=repeat(camera.fy), cx=repeat(camera.cx), cy=repeat(camera.cy),
        width=repeat(camera.width), height=repeat(camera.height), camera_type=repeat(camera.camera_type),
        distortion_params=None if camera.distortion_params is None else repeat(camera.distortion_params),
    )
