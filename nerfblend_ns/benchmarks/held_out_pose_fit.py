"""Test-time pose fit: a test frame's camera refined against that frame while the model stays frozen.

Tracking error in a test frame's pose costs PSNR that says nothing about the avatar. Scores with the
fitted poses are a separate number from scores with the tracked poses and are never averaged with
them (docs/evaluation.md).
"""

import contextlib
from dataclasses import dataclass
from typing import Iterator

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.cameras.lie_groups import exp_map_SO3xR3
from nerfstudio.cameras.rays import RayBundle
from torch import Tensor

from nerfblend_ns.expression_space import COEFFICIENTS_KEY
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white
from nerfblend_ns.models.nerfblend_model import NerfBlendModel
from nerfblend_ns.rendering.camera_rays import pinhole_parameters, pinhole_rays, pixel_centres, single_pinhole_size


@dataclass
class HeldOutPoseFitConfig:
    """How a test frame's pose is fitted."""

    steps: int = 200
    """Adam steps on the frame's pose correction."""
    rays_per_step: int = 4096
    """Random pixels of the frame rendered per step."""
    learning_rate: float = 1e-3
    """Adam's rate: radians for the rotation, scene-box diagonals for the translation."""
    seed: int = 0
    """Seed of the pixel draws."""


def corrected_pose(camera_to_world: Float[Tensor, "3 4"], correction: Float[Tensor, "6"], scale: float) -> Float[Tensor, "3 4"]:
    """`camera_to_world` under an SO3xR3 correction applied in world axes, as nerfstudio's camera optimiser
    applies its own (rotation about the camera centre, then a shift), the shift in units of `scale`."""
    adjustment = exp_map_SO3xR3(torch.cat((correction[:3] * scale, correction[3:]))[None])[0]  # [3, 4]
    return torch.cat((adjustment[:, :3] @ camera_to_world[:, :3], camera_to_world[:, 3:] + adjustment[:, 3:]), dim=1)


@contextlib.contextmanager
def _frozen_with_position_gradients(model: NerfBlendModel) -> Iterator[None]:
    """The model in training mode (its differentiable path, whose lookups pass gradients to sample positions)
    with no parameter taking gradients."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    was_training = model.training
    try:
        for parameter in parameters:
            parameter.requires_grad_(False)
        model.train()
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)
        model.train(was_training)


def fit_test_pose(
    model: NerfBlendModel,
    camera: Cameras,
    image: Float[Tensor, "h w 3"],
    head_mask: Float[Tensor, "h w 1"],
    config: HeldOutPoseFitConfig,
) -> Cameras:
    """`camera` (one pinhole camera with `metadata[COEFFICIENTS_KEY]`) with its pose fitted to `image` on white
    (the protocol's ground truth) by the frozen `model`; intrinsics and coefficients unchanged."""
    height, width = single_pinhole_size(camera)
    if height * width == 0:
        raise ValueError("a pose fit needs a single undistorted pinhole camera")
    if image.shape[:2] != (height, width) or head_mask.shape[:2] != (height, width):
        raise ValueError(f"image {tuple(image.shape)} and mask {tuple(head_mask.shape)} do not match the {width}×{height} camera")
    if camera.metadata is None or COEFFICIENTS_KEY not in camera.metadata:
        raise ValueError(f"a pose fit needs the test frame's coefficients in camera.metadata['{COEFFICIENTS_KEY}']")
    device = model.device
    intrinsics, camera_to_world = (value.to(device) for value in pinhole_parameters(camera))
    target = ground_truth_on_white(image.to(device)[..., :3].float(), head_mask.to(device).float()).reshape(-1, 3)
    coefficients = camera.metadata[COEFFICIENTS_KEY].reshape(1, -1).to(device).float()  # [1, K]
    scale = float((model.scene_box.aabb[1] - model.scene_box.aabb[0]).norm())
    correction = torch.zeros(6, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([correction], lr=config.learning_rate)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    with _frozen_with_position_gradients(model):
        for _ in range(config.steps):
            pixels = torch.randint(0, height * width, (config.rays_per_step,), device=device, generator=generator)
            pose = corrected_pose(camera_to_world, correction, scale)
            origins, directions = pinhole_rays(intrinsics, pose, pixel_centres(pixels, width))
            bundle = RayBundle(
                origins=origins, directions=directions,
                pixel_area=torch.ones_like(directions[:, :1]),
                metadata={COEFFICIENTS_KEY: coefficients.expand(pixels.shape[0], -1)},
            )
            loss = torch.nn.functional.l1_loss(model.get_outputs(bundle)["rgb"], target[pixels])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    fitted = corrected_pose(camera_to_world, correction.detach(), scale).to(camera.camera_to_worlds)
    return Cameras(
        camera_to_worlds=fitted.view(camera.camera_to_worlds.shape), fx=camera.fx, fy=camera.fy, cx=camera.cx,
        cy=camera.cy, width=camera.width, height=camera.height, distortion_params=camera.distortion_params,
        camera_type=camera.camera_type, times=camera.times, metadata=camera.metadata,
    )
