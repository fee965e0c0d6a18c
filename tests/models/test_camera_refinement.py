"""Camera refinement while training: the per-frame pose correction learned through the model's training
path undoes a known pose error when the field is fixed and known."""

import torch
from nerfstudio.data.scene_box import SceneBox
from toy_pose_scene import corrected, fixed_field_model, pose_bundle, ray_error, true_and_tracked_poses, true_images

from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig


def test_pose_refinement_undoes_a_known_pose_error_on_a_fixed_field():
    torch.manual_seed(0)
    truth, tracked = true_and_tracked_poses()
    model = fixed_field_model(num_frames=2)
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
    before, after = ray_error(tracked, truth), ray_error(refined, truth)
    assert (before > 0.1).all() and (after < 0.2 * before).all(), (before, after)


def test_refinement_is_off_by_default_and_adds_no_parameters():
    config = NerfBlendModelConfig(perceptual_loss="off")
    assert config.camera_optimizer.mode == "off"
    coefficients = torch.zeros(2, 1)
    metadata = {"expression_names": ["e"], "expr_min": coefficients[0], "expr_max": coefficients[0], "expressions": coefficients}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
    assert "camera_opt" not in model.get_param_groups()
    assert not any(name.startswith("camera_optimizer") for name in model.state_dict())
