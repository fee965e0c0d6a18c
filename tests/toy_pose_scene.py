"""A fixed, known field inside the model, and cameras of it with a known pose error: the toy scene on
which pose refinement (while training, and at test time) and the per-frame colour transforms are checked."""

import numpy as np
import torch
from conftest import look_at_camera
from nerfstudio.cameras.lie_groups import exp_map_SO3xR3
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import SceneBox

from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.models.centred_pose_corrections import CentredCameraOptimizerConfig
from nerfblend_ns.models.frame_colour import FrameColourConfig
from nerfblend_ns.models.loss_schedule import LossScheduleConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModel, NerfBlendModelConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGridConfig
from nerfblend_ns.rendering.camera_rays import pinhole_rays, pixel_centres
from nerfblend_ns.rendering.visual_hull import cell_centres

SIZE = 16
INTRINSICS = torch.tensor([24.0, 24.0, SIZE / 2, SIZE / 2])
AABB = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])


class TexturedBall(torch.nn.Module):
    """A fixed field with the model field's interface: a soft ball of radius 0.5, coloured by position."""

    def __init__(self):
        super().__init__()
        self.encoding = torch.nn.Module()
        self.encoding.register_buffer("tables", torch.zeros(1, 1, 1))  # a single table: no basis penalty
        self.encoding.implementation = "torch"

    def blend(self, coefficients):
        return coefficients

    def density(self, positions, tables, frame_index):
        return 40.0 * torch.sigmoid((0.5 - positions.norm(dim=-1, keepdim=True)) * 15.0)  # [N, 1]

    def forward(self, positions, directions, tables, frame_index):
        rgb = 0.5 + 0.5 * torch.sin(6.0 * positions + torch.tensor([0.0, 2.0, 4.0]))  # [N, 3]
        return rgb, self.density(positions, tables, frame_index)


class FixedFieldModel(NerfBlendModel):
    def build_field(self, aabb, expression_space):
        return TexturedBall()


def fixed_field_model(
    num_frames: int, camera_mode: str = "SO3xR3", frame_colour: bool = False, zero_mean: bool = False
) -> FixedFieldModel:
    config = NerfBlendModelConfig(
        _target=FixedFieldModel, grid=BlendedHashGridConfig(implementation="torch"), perceptual_loss="off",
        camera_optimizer=CentredCameraOptimizerConfig(mode=camera_mode, zero_mean=zero_mean), losses=LossScheduleConfig(mask_stage_end=0),
        frame_colour=FrameColourConfig(enabled=frame_colour, identity_weight=0.0),
        basis_l1_weight=0.0, occupancy=OccupancyGridConfig(resolution=8, training_step_size=0.02),
    )
    coefficients = torch.zeros(num_frames, 1)
    metadata = {"expression_names": ["e"], "expr_min": coefficients.min(0).values,
                "expr_max": coefficients.max(0).values, "expressions": coefficients}
    model = config.setup(scene_box=SceneBox(AABB.view(2, 3)), num_train_data=num_frames, metadata=metadata)
    # Only the cells around the ball: a quarter of the samples of a full grid, the same image.
    centres = cell_centres(AABB, config.occupancy.resolution)
    model.occupancy_grid.binaries.copy_((centres.norm(dim=-1) < 0.8)[None])
    return model


KNOWN_ERRORS = torch.tensor([[0.05, -0.03, 0.02, 0.03, -0.04, 0.02], [-0.04, 0.02, 0.03, -0.02, 0.03, 0.04]])
"""SO3xR3 parameters [2, 6] of the tracked poses' errors: about 3° and 0.06 each."""


def true_and_tracked_poses(errors: torch.Tensor = KNOWN_ERRORS) -> tuple[torch.Tensor, torch.Tensor]:
    """[2, 3, 4] camera-to-world poses looking at the ball, and the same off by the SO3xR3 `errors` [2, 6]."""
    truth = torch.tensor(np.stack([look_at_camera(np.array(p))[:3] for p in ([0.0, 0.3, 2.5], [1.2, 0.0, 2.2])]), dtype=torch.float32)
    error = exp_map_SO3xR3(errors)
    tracked = torch.cat((error[:, :, :3] @ truth[:, :, :3], truth[:, :, 3:] + error[:, :, 3:]), dim=2)
    return truth, tracked


def corrected(poses: torch.Tensor, correction: torch.Tensor) -> torch.Tensor:
    """Poses [N, 3, 4] under world-axis corrections [N, 3, 4], as nerfstudio's camera optimiser applies them."""
    return torch.cat((correction[:, :, :3] @ poses[:, :, :3], poses[:, :, 3:] + correction[:, :, 3:]), dim=2)


def pose_bundle(poses: torch.Tensor) -> RayBundle:
    """Every pixel's ray of each [3, 4] camera-to-world pose, with its frame as camera index."""
    centres = pixel_centres(torch.arange(SIZE * SIZE), SIZE)
    parts = [pinhole_rays(INTRINSICS, pose, centres) for pose in poses]
    count = centres.shape[0]
    return RayBundle(
        origins=torch.cat([origins for origins, _ in parts]).contiguous(),
        directions=torch.cat([directions for _, directions in parts]),
        pixel_area=torch.ones(count * len(parts), 1),
        camera_indices=torch.arange(len(parts)).repeat_interleave(count)[:, None],
        metadata={"expr": torch.zeros(count * len(parts), 1)},
    )


def ray_error(poses: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per frame, the mean distance between where each pixel's ray under `poses` and under `truth` reaches
    the depth of the ball's centre: what a pose error does to the image, free of the near-ambiguity
    between a small turn of the camera and a small shift across the view."""
    bundle, true_bundle = pose_bundle(poses), pose_bundle(truth)
    depth = truth[:, :, 3].norm(dim=-1).repeat_interleave(SIZE * SIZE)[:, None]  # [R, 1]
    reached = bundle.origins + depth * bundle.directions
    true_reached = true_bundle.origins + depth * true_bundle.directions
    return (reached - true_reached).norm(dim=-1).view(len(poses), -1).mean(dim=1)


@torch.no_grad()
def true_images(model: NerfBlendModel, truth: torch.Tensor, renders: int = 4) -> torch.Tensor:
    """[N·S², 3] images on white at the true poses, as the training path draws them (a correction of
    zero); the mean of a few renders, as each one samples its rays at random offsets."""
    model.train()
    return torch.stack([model(pose_bundle(truth))["rgb"] for _ in range(renders)]).mean(dim=0)
