"""Camera refinement while training: the per-frame pose correction learned through the model's training
path undoes a known pose error when the field is fixed and known; held to zero mean, it undoes only the
part of the errors that differs between frames."""

import pytest
import torch
from nerfstudio.cameras.lie_groups import exp_map_SO3xR3
from nerfstudio.data.scene_box import SceneBox
from toy_pose_scene import KNOWN_ERRORS, corrected, fixed_field_model, pose_bundle, ray_error, true_and_tracked_poses, true_images

from nerfblend_ns.models.centred_pose_corrections import CentredCameraOptimizerConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig


def _refine(errors: torch.Tensor, zero_mean: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame ray errors [2] of the tracked poses before and after 30 refinement steps."""
    torch.manual_seed(0)
    truth, tracked = true_and_tracked_poses(errors)
    model = fixed_field_model(num_frames=2, zero_mean=zero_mean)
    reference = true_images(model, truth)
    # On white, everything head: the target is the reference image as it is.
    batch = {"image": reference, "head_mask": torch.ones_like(reference[:, :1]), "background": torch.ones_like(reference)}
    groups = model.get_param_groups()
    assert list(groups) == ["encoding", "mlp", "camera_opt"] and not groups["encoding"] and not groups["mlp"]
    optimizer = torch.optim.Adam(groups["camera_opt"], lr=5e-3)
    for _ in range(30):
        losses = model.get_loss_dict(model(pose_bundle(tracked)), batch)
        assert "camera_opt_regularizer" in losses
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    refined = corrected(tracked, model.camera_optimizer(torch.arange(2)).detach())
    return ray_error(tracked, truth), ray_error(refined, truth)


def test_pose_refinement_undoes_a_known_pose_error_on_a_fixed_field():
    before, after = _refine(KNOWN_ERRORS, zero_mean=False)
    assert (before > 0.1).all() and (after < 0.2 * before).all(), (before, after)


def test_zero_mean_refinement_undoes_errors_that_differ_between_frames():
    opposite = torch.stack((KNOWN_ERRORS[0], -KNOWN_ERRORS[0]))
    before, after = _refine(opposite, zero_mean=True)
    assert (before > 0.1).all() and (after < 0.2 * before).all(), (before, after)


def test_zero_mean_refinement_leaves_an_error_shared_by_every_frame():
    # With the field fixed, a shared error is a real one; what is tested is that the corrections cannot
    # move every frame together, which a learned field would follow away from the test poses: one frame
    # may gain only what the other loses.
    shared = KNOWN_ERRORS[:1].expand(2, 6)
    before, after = _refine(shared, zero_mean=True)
    assert (before > 0.1).all() and after.sum() > 0.9 * before.sum(), (before, after)


@pytest.mark.parametrize("mode", ["SO3xR3", "SE3"])
def test_zero_mean_corrections_ignore_a_shift_of_every_frame(mode):
    optimizer = CentredCameraOptimizerConfig(mode=mode).setup(num_cameras=5, device="cpu")
    with torch.no_grad():
        optimizer.pose_adjustment.copy_(0.05 * torch.randn(5, 6))
    indices = torch.tensor([4, 0, 2])
    centred = optimizer(indices)
    if mode == "SO3xR3":
        expected = exp_map_SO3xR3(optimizer.pose_adjustment - optimizer.pose_adjustment.mean(dim=0))[indices]
        torch.testing.assert_close(centred, expected)
    with torch.no_grad():
        optimizer.pose_adjustment += torch.tensor([0.03, -0.02, 0.01, 0.02, 0.01, -0.03])
    torch.testing.assert_close(optimizer(indices), centred, atol=1e-6, rtol=0)
    uncentred = CentredCameraOptimizerConfig(mode=mode, zero_mean=False).setup(num_cameras=5, device="cpu")
    uncentred.load_state_dict(optimizer.state_dict())
    assert not torch.allclose(uncentred(indices), centred, atol=1e-3)


def test_refinement_is_off_by_default_and_adds_no_parameters():
    config = NerfBlendModelConfig(perceptual_loss="off")
    assert config.camera_optimizer.mode == "off" and config.camera_optimizer.zero_mean
    coefficients = torch.zeros(2, 1)
    metadata = {"expression_names": ["e"], "expr_min": coefficients[0], "expr_max": coefficients[0], "expressions": coefficients}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
    assert "camera_opt" not in model.get_param_groups()
    assert not any(name.startswith("camera_optimizer") for name in model.state_dict())
