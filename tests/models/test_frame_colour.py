"""Per-frame colour transforms: the arithmetic, that training learns a known exposure and white-balance
change per frame on a fixed field, and that nothing but training rays ever sees them."""

import pytest
import torch
from nerfstudio.data.scene_box import SceneBox
from toy_pose_scene import fixed_field_model, pose_bundle, true_and_tracked_poses, true_images

from nerfblend_ns.models.frame_colour import FrameColour
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig


def test_a_transform_acts_on_the_colour_not_on_the_opacity():
    colour = FrameColour(num_frames=2)
    with torch.no_grad():
        colour.offsets[1] = torch.tensor([[0.5, 0.0, 0.0, 0.1], [0.0, 0.0, 0.0, 0.0], [0.2, 0.0, -0.5, -0.2]])
    opacity = torch.tensor([[0.5], [0.5], [0.0]])
    colours = torch.tensor([[0.4, 0.6, 0.8], [0.4, 0.6, 0.8], [0.0, 0.0, 0.0]])
    premultiplied = colours * opacity
    frames = torch.tensor([0, 1, 1])
    out = colour(premultiplied, opacity, frames)
    torch.testing.assert_close(out[0], premultiplied[0])  # frame 0: the identity
    matrix = torch.eye(3) + colour.offsets[1, :, :3]
    expected = 0.5 * (matrix @ colours[1] + colour.offsets[1, :, 3])  # opacity · (A c + b)
    torch.testing.assert_close(out[1], expected.detach())
    torch.testing.assert_close(out[2], torch.zeros(3))  # an empty ray stays empty whatever b is
    assert colour.identity_penalty().item() == pytest.approx(colour.offsets[1].square().sum().item() / 2)


def test_no_frames_is_refused():
    with pytest.raises(ValueError, match="at least one training frame"):
        FrameColour(0)


def test_training_learns_each_frames_exposure_and_white_balance():
    torch.manual_seed(0)
    truth, _ = true_and_tracked_poses()
    model = fixed_field_model(num_frames=2, camera_mode="off", frame_colour=True)
    reference = true_images(model, truth)  # [2·S², 3] on white, the identity
    # Frame 0 underexposed; frame 1 warmer. On a white background with a full head mask the
    # target is the transformed image.
    gains = torch.tensor([[0.7, 0.7, 0.7], [1.1, 1.0, 0.8]]).repeat_interleave(reference.shape[0] // 2, dim=0)
    opacity = model(pose_bundle(truth))["accumulation"].detach()
    target = (reference - (1 - opacity)) * gains + (1 - opacity)  # transform the head's colour, keep white
    batch = {"image": target, "head_mask": torch.ones_like(target[:, :1]), "background": torch.ones_like(target)}
    groups = model.get_param_groups()
    assert list(groups) == ["encoding", "mlp", "frame_colour"] and not groups["encoding"] and not groups["mlp"]
    optimizer = torch.optim.Adam(groups["frame_colour"], lr=2e-2)
    first = None
    for _ in range(80):
        losses = model.get_loss_dict(model(pose_bundle(truth)), batch)
        first = first if first is not None else losses["rgb_l1"].item()
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    assert losses["rgb_l1"].item() < 0.2 * first, (first, losses["rgb_l1"].item())
    diagonals = torch.diagonal(torch.eye(3) + model.frame_colour.offsets[:, :, :3].detach(), dim1=1, dim2=2)  # [2, 3]
    torch.testing.assert_close(diagonals, torch.tensor([[0.7, 0.7, 0.7], [1.1, 1.0, 0.8]]), atol=0.12, rtol=0)


def test_renders_outside_training_use_the_identity():
    torch.manual_seed(0)
    truth, _ = true_and_tracked_poses()
    plain = fixed_field_model(num_frames=2, camera_mode="off")
    coloured = fixed_field_model(num_frames=2, camera_mode="off", frame_colour=True)
    with torch.no_grad():
        coloured.frame_colour.offsets.fill_(0.3)
    plain.eval(), coloured.eval()
    torch.testing.assert_close(coloured(pose_bundle(truth))["rgb"], plain(pose_bundle(truth))["rgb"])
    # In training, rays without a frame (a test frame's pose fit) keep their colour too.
    coloured.train()
    bundle = pose_bundle(truth)
    bundle.camera_indices = None
    torch.manual_seed(1)
    with torch.no_grad():
        with_codes = coloured(bundle)["rgb"]
    torch.manual_seed(1)
    plain.train()
    with torch.no_grad():
        without = plain(pose_bundle(truth))["rgb"]
    torch.testing.assert_close(with_codes, without)


def test_off_by_default_with_no_parameters_and_no_loss_term():
    config = NerfBlendModelConfig(perceptual_loss="off")
    assert not config.frame_colour.enabled
    coefficients = torch.zeros(2, 1)
    metadata = {"expression_names": ["e"], "expr_min": coefficients[0], "expr_max": coefficients[0], "expressions": coefficients}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
    assert "frame_colour" not in model.get_param_groups()
    assert not any(name.startswith("frame_colour") for name in model.state_dict())
