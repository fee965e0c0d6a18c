"""The test-time pose fit: with the model frozen, a test frame's pose moves towards the true one."""

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras
from toy_pose_scene import INTRINSICS, SIZE, fixed_field_model, ray_error, true_and_tracked_poses, true_images

from nerfblend_ns.benchmarks.fidelity_scores import score_frames
from nerfblend_ns.benchmarks.held_out_pose_fit import HeldOutPoseFitConfig, fit_test_pose
from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, NerfBlendField


def _camera(pose: torch.Tensor) -> Cameras:
    fx, fy, cx, cy = INTRINSICS.tolist()
    return Cameras(camera_to_worlds=pose[None], fx=fx, fy=fy, cx=cx, cy=cy, width=SIZE, height=SIZE,
                   metadata={"expr": torch.zeros(1, 1)})


def test_the_fit_moves_a_wrong_pose_towards_the_true_one_and_leaves_the_model_alone():
    torch.manual_seed(0)
    truth, tracked = true_and_tracked_poses()
    model = fixed_field_model(num_frames=1, camera_mode="off")
    image = true_images(model, truth[:1]).view(SIZE, SIZE, 3)
    model.eval()
    before_state = {name: value.clone() for name, value in model.state_dict().items()}
    config = HeldOutPoseFitConfig(steps=30, rays_per_step=SIZE * SIZE, learning_rate=5e-3)
    fitted = fit_test_pose(model, _camera(tracked[0]), image, torch.ones(SIZE, SIZE, 1), config)
    before, after = ray_error(tracked[:1], truth[:1]), ray_error(fitted.camera_to_worlds, truth[:1])
    assert before.item() > 0.1 and after.item() < 0.2 * before.item(), (before, after)
    assert not model.training and all(torch.equal(value, before_state[name]) for name, value in model.state_dict().items())
    assert torch.equal(fitted.fx, _camera(tracked[0]).fx) and fitted.metadata["expr"].shape == (1, 1)


def test_a_camera_without_coefficients_is_refused():
    model = fixed_field_model(num_frames=1, camera_mode="off")
    camera = _camera(true_and_tracked_poses()[0][0])
    camera.metadata = None
    with pytest.raises(ValueError, match="coefficients"):
        fit_test_pose(model, camera, torch.ones(SIZE, SIZE, 3), torch.ones(SIZE, SIZE, 1), HeldOutPoseFitConfig(steps=1))


def test_the_benchmarks_frame_scores_with_a_pose_fit_beat_those_with_the_wrong_pose():
    torch.manual_seed(0)
    truth, tracked = true_and_tracked_poses()
    model = fixed_field_model(num_frames=1, camera_mode="off")
    image = true_images(model, truth[:1]).view(SIZE, SIZE, 3)
    frames = {0: {"image": image, "head_mask": torch.ones(SIZE, SIZE, 1)}}
    # A test split of one frame whose tracked pose is wrong, without a face region.
    dataset = type("Frames", (), {
        "cameras": _camera(tracked[0]), "face_ovals": None, "face_rects": torch.full((1, 4), float("nan")),
        "__getitem__": lambda self, index: frames[index],
    })()
    (tracked_score,) = score_frames(model, dataset, [0], None)
    fit = HeldOutPoseFitConfig(steps=30, rays_per_step=SIZE * SIZE, learning_rate=5e-3)
    (fitted_score,) = score_frames(model, dataset, [0], None, fit)
    assert fitted_score.full["psnr"] > tracked_score.full["psnr"] + 5.0, (tracked_score, fitted_score)


def test_the_torch_lookup_passes_gradients_to_sample_positions():
    """What both pose fits rely on: the field's density changes with a sample's position, through the
    torch lookup, as finite differences say."""
    torch.manual_seed(0)
    grid = BlendedHashGridConfig(num_levels=2, log2_hashmap_size=8, max_resolution=8, init_scale=1.0, implementation="torch")
    decoder = DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=8)
    field = NerfBlendField(torch.tensor([[-1.0] * 3, [1.0] * 3]), CoefficientSegments.linear(1), grid, decoder)
    tables = field.blend(torch.zeros(1, 1)).detach()
    positions = (torch.rand(4, 3) * 1.6 - 0.8).requires_grad_()
    frames = torch.zeros(4, dtype=torch.long)
    density = lambda x: field.density(x, tables, frames).squeeze(-1)  # noqa: E731  [N], each point's own
    (analytic,) = torch.autograd.grad(density(positions).sum(), positions)
    step = 1e-3
    numeric = torch.stack(
        [(density(positions + step * axis) - density(positions - step * axis)) / (2 * step) for axis in torch.eye(3)], dim=1
    ).detach()  # [N, 3] central differences
    assert analytic.abs().max() > 0.1
    torch.testing.assert_close(analytic, numeric, rtol=0.05, atol=0.02 * analytic.abs().max().item())
