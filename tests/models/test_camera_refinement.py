"""Camera refinement while training: the per-frame pose correction learned through the model's training
path undoes a known pose error when the field is fixed and known."""

import numpy as np
import pytest
import torch
from conftest import look_at_camera
from nerfstudio.cameras.camera_optimizers import CameraOptimizerConfig
from nerfstudio.cameras.lie_groups import exp_map_SO3xR3
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import SceneBox

from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.models.loss_schedule import LossScheduleConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModel, NerfBlendModelConfig
from nerfblend_ns.rendering.camera_rays import pinhole_rays, pixel_centres
from nerfblend_ns.rendering.visual_hull import cell_centres

SIZE = 16
INTRINSICS = torch.tensor([24.0, 24.0, SIZE / 2, SIZE / 2])


class TexturedBall(torch.nn.Module):
    """A fixed field with the model field's interface: a soft ball of radius 0.5, coloured by position."""

    def __init__(self):
        super().__init__()
        self.encoding = torch.nn.Module()
        self.encoding.register_buffer("tables", torch.zeros(1, 1, 1))  # a single table: no basis penalty

    def blend(self, expressions):
        return expressions

    def density(self, positions, tables, frame_index):
        return 40.0 * torch.sigmoid((0.5 - positions.norm(dim=-1, keepdim=True)) * 15.0)  # [N, 1]

    def forward(self, positions, directions, tables, frame_index):
        rgb = 0.5 + 0.5 * torch.sin(6.0 * positions + torch.tensor([0.0, 2.0, 4.0]))  # [N, 3]
        return rgb, self.density(positions, tables, frame_index)


class FixedFieldModel(NerfBlendModel):
    def build_field(self, aabb, num_expressions):
        return TexturedBall()


def _model(num_frames: int):
    config = NerfBlendModelConfig(
        _target=FixedFieldModel, grid=BlendedHashGridConfig(implementation="torch"), perceptual_loss="off",
        camera_optimizer=CameraOptimizerConfig(mode="SO3xR3"), losses=LossScheduleConfig(mask_stage_end=0),
        basis_l1_weight=0.0,
        render_step_size=0.02, occupancy_resolution=8,
    )
    expressions = torch.zeros(num_frames, 1)
    metadata = {"expression_names": ["e"], "expr_min": expressions.min(0).values,
                "expr_max": expressions.max(0).values, "expressions": expressions}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=num_frames, metadata=metadata)
    # Only the cells around the ball: a quarter of the samples of a full grid, the same image.
    centres = cell_centres(torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]), config.occupancy_resolution)
    model.occupancy_grid.binaries.copy_((centres.norm(dim=-1) < 0.8)[None])
    return model


def _bundle(poses: torch.Tensor) -> RayBundle:
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


def _ray_error(poses: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per frame, the mean distance between where each pixel's ray under `poses` and under `truth` reaches
    the depth of the ball's centre: what a pose error does to the image, free of the near-ambiguity
    between a small turn of the camera and a small shift across the view."""
    bundle, true_bundle = _bundle(poses), _bundle(truth)
    depth = truth[:, :, 3].norm(dim=-1).repeat_interleave(SIZE * SIZE)[:, None]  # [R, 1]
    reached = bundle.origins + depth * bundle.directions
    true_reached = true_bundle.origins + depth * true_bundle.directions
    return (reached - true_reached).norm(dim=-1).view(len(poses), -1).mean(dim=1)


def test_pose_refinement_undoes_a_known_pose_error_on_a_fixed_field():
    torch.manual_seed(0)
    truth = torch.tensor(np.stack([look_at_camera(np.array(p))[:3] for p in ([0.0, 0.3, 2.5], [1.2, 0.0, 2.2])]), dtype=torch.float32)
    # The tracked poses: each off by about 3° and 0.06 in world units.
    error = exp_map_SO3xR3(torch.tensor([[0.05, -0.03, 0.02, 0.03, -0.04, 0.02], [-0.04, 0.02, 0.03, -0.02, 0.03, 0.04]]))
    tracked = torch.cat((error[:, :, :3] @ truth[:, :, :3], truth[:, :, 3:] + error[:, :, 3:]), dim=2)
    model = _model(num_frames=2)
    with torch.no_grad():
        # The true images, as the training path draws them (the correction starts at zero); the mean of a
        # few renders, as each one samples its rays at random offsets.
        reference = torch.stack([model(_bundle(truth))["rgb"] for _ in range(4)]).mean(dim=0)
    # On white, everything head: the target is the reference image as it is.
    batch = {"image": reference, "head_mask": torch.ones_like(reference[:, :1]), "background": torch.ones_like(reference)}
    groups = model.get_param_groups()
    assert list(groups) == ["encoding", "mlp", "camera_opt"] and not groups["encoding"] and not groups["mlp"]
    optimizer = torch.optim.Adam(groups["camera_opt"], lr=5e-3)
    for _ in range(30):
        losses = model.get_loss_dict(model(_bundle(tracked)), batch)
        assert "camera_opt_regularizer" in losses
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    correction = model.camera_optimizer(torch.arange(2)).detach()  # [2, 3, 4] applied in world axes
    refined = torch.cat((correction[:, :, :3] @ tracked[:, :, :3], tracked[:, :, 3:] + correction[:, :, 3:]), dim=2)
    before, after = _ray_error(tracked, truth), _ray_error(refined, truth)
    assert (before > 0.1).all() and (after < 0.2 * before).all(), (before, after)


def test_refinement_is_off_by_default_and_adds_no_parameters():
    config = NerfBlendModelConfig(perceptual_loss="off")
    assert config.camera_optimizer.mode == "off"
    expressions = torch.zeros(2, 1)
    metadata = {"expression_names": ["e"], "expr_min": expressions[0], "expr_max": expressions[0], "expressions": expressions}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
    assert "camera_opt" not in model.get_param_groups()
    assert not any(name.startswith("camera_optimizer") for name in model.state_dict())


def test_refinement_with_the_triton_lookup_on_a_gpu_is_refused(monkeypatch):
    import nerfblend_ns.models.nerfblend_model as module

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(module, "triton_available", lambda: True)
    config = NerfBlendModelConfig(camera_optimizer=CameraOptimizerConfig(mode="SO3xR3"), perceptual_loss="off")
    expressions = torch.zeros(2, 1)
    metadata = {"expression_names": ["e"], "expr_min": expressions[0], "expr_max": expressions[0], "expressions": expressions}
    with pytest.raises(ValueError, match="implementation torch"):
        config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
