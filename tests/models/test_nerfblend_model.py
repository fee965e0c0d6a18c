"""The model end to end on a toy scene: two frames that differ only by their coefficient."""

import inspect
from types import SimpleNamespace

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.engine.callbacks import TrainingCallbackAttributes
from nerfstudio.models.base_model import Model
from stub_datamanager import StubDataManager
from toy_disc_scene import DECODER, disc_model, disc_rays, joined, train_disc

from nerfblend_ns.checkpoint_weights import CheckpointWeightsError
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.rendering.camera_rays import pinhole_parameters
from nerfblend_ns.rendering.fused_rendering import render_rays_fused
from nerfblend_ns.rendering.render_settings import RenderSettings
from nerfblend_ns.rendering.torch_rendering import render_rays_torch

FUSED_DECODER = DecoderConfig(hidden_dim=32, num_layers=3, geometry_features=16, color_hidden_dim=16)
"""A decoder the fused kernel takes (every width at least 16)."""


def test_each_frame_is_reproduced_best_by_its_own_coefficients():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    # Without the basis-table L1 penalty: in 150 steps it holds this toy's one basis table near zero, so both
    # frames render alike (own/other L1 0.076/0.129, 0.138/0.138, 0.211/0.211 for seeds 0-2, against
    # 0.014/0.185, 0.018/0.177, 0.054/0.211 without it). The penalty has its own tests.
    model = disc_model(basis_l1_weight=0.0)
    datamanager = StubDataManager()
    losses = train_disc(model, 150, generator, datamanager)
    assert "mask_l1" not in losses  # the first stage ended at step 60
    assert datamanager.sample_patches is False  # the patch stage never began
    without_patches = TrainingCallbackAttributes(None, None, SimpleNamespace(datamanager=SimpleNamespace()), None)
    with pytest.raises(TypeError, match="samples patches"):
        model.get_training_callbacks(without_patches)

    model.eval()
    with torch.no_grad():
        for frame in (0, 1):
            bundle, batch = disc_rays(generator, frame, 512)
            own = (model(bundle)["rgb"] - batch["image"]).abs().mean()
            bundle.metadata["expr"] = 1.0 - bundle.metadata["expr"]
            other = (model(bundle)["rgb"] - batch["image"]).abs().mean()
            assert own < 0.06, f"frame {frame}: L1 {own:.3f} with its own coefficient"
            assert other > 2 * own, f"frame {frame}: L1 {own:.3f} own vs {other:.3f} other"

        # An expression rendered again marches its own grid: that changes the picture little and evaluates
        # no more samples than the union grid of training, which its first render marched.
        bundle, _ = disc_rays(generator, 1, 512)
        first = model(bundle)
        own_grid = model(bundle)
        model.config.renderer.expression_grid = False
        training_grid = model(bundle)
        assert torch.equal(first["rgb"], training_grid["rgb"])
        assert (own_grid["rgb"] - training_grid["rgb"]).abs().mean() < 0.01
        assert own_grid["num_samples_per_ray"].sum() < training_grid["num_samples_per_ray"].sum()


def _camera_at_frame(frame: int, size: int = 20) -> Cameras:
    camera_to_world = torch.tensor([[1.0, 0.0, 0.0, 0.1], [0.0, 1.0, 0.0, -0.1], [0.0, 0.0, 1.0, 3.0]])
    return Cameras(
        camera_to_worlds=camera_to_world[None], fx=2.0 * size, fy=2.0 * size, cx=size / 2, cy=size / 2 - 1,
        width=size, height=size, metadata={"expr": torch.tensor([[float(frame)]])},
    )


def _random_disc_model(decoder: DecoderConfig = DECODER, device: str = "cpu"):
    """Random tables and a dense field (density bias 3) in a ball of occupied cells."""
    torch.manual_seed(0)
    model = disc_model(decoder).to(device)
    with torch.no_grad():
        model.field.encoding.tables.normal_()
        model.field.density_mlp.layers[-1].bias[0] = 3.0
    centres = (torch.arange(16, device=device) + 0.5) / 16 * 2 - 1
    x, y, z = torch.meshgrid(centres, centres, centres, indexing="ij")
    model.occupancy_grid.binaries[0] = x**2 + y**2 + z**2 < 0.5
    return model.eval()


def test_a_checkpoint_with_the_former_expression_buffer_names_loads():
    saved = disc_model().state_dict()
    former = {"expression_space.minimum": "expr_min", "expression_space.maximum": "expr_max",
              "expression_space.training_coefficients": "train_expressions"}
    legacy = {former.get(key, key): value for key, value in saved.items()}
    legacy["expr_max"] = torch.tensor([0.5])
    model = disc_model()
    model.load_state_dict(legacy)  # strict: every key found
    assert model.expression_space.maximum.tolist() == [0.5]
    assert set(model.state_dict()) == set(saved)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fused_renderer_draws_what_the_torch_path_draws():
    model = _random_disc_model(FUSED_DECODER, "cuda")
    # nerfacc's marcher places its steps up to one step away from the kernel's: at this coarse grid the two
    # paths agree to 0.02 at the training step (the benchmark compares them at the default render step).
    model.config.renderer.step_scale = 1.0
    # Both renders march the training grid (a second render of the expression would march its own).
    model.config.renderer.expression_grid = False
    bundle = disc_rays(torch.Generator().manual_seed(1), 1, 4096)[0].to("cuda")
    with torch.no_grad():
        fused = model(bundle)
        model.config.renderer.fused = False
        reference = model(bundle)
    for key in ("rgb", "accumulation"):
        assert (fused[key] - reference[key]).abs().max() < 2e-2, key
    hit = reference["accumulation"][:, 0] > 0.1
    # nerfacc's marcher places its steps up to one step away from the reference's (and the kernel's).
    assert hit.float().mean() > 0.2 and (fused["depth"][hit] - reference["depth"][hit]).abs().max() <= model.renderer.settings.step_size
    # The same samples, give or take nerfacc's one-step offsets (the torch path also evaluates whole windows).
    assert fused["num_samples_per_ray"].sum() <= 1.01 * reference["num_samples_per_ray"].sum()


def test_a_pinhole_camera_renders_as_nerfstudios_rays_of_it_do():
    model = _random_disc_model()
    model.config.eval_num_rays_per_chunk = 96  # several chunks, one of them partial
    for frame in (0, 1):
        camera = _camera_at_frame(frame)
        outputs = model.get_outputs_for_camera(camera)
        reference = Model.get_outputs_for_camera(model, camera)  # nerfstudio's rays, chunks and assembly
        assert outputs.keys() == reference.keys()
        assert reference["accumulation"].gt(0.5).float().mean() > 0.2  # the disc fills part of the picture
        for key, value in reference.items():
            assert outputs[key].shape == value.shape == (20, 20, value.shape[-1])
            torch.testing.assert_close(outputs[key], value, atol=1e-4, rtol=0, msg=key)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_pinhole_camera_renders_fused_as_nerfstudios_rays_of_it_do():
    model = _random_disc_model(FUSED_DECODER, "cuda")
    model.config.eval_num_rays_per_chunk = 1000  # several chunks of tiles, one of them partial
    camera = _camera_at_frame(1, size=64).to("cuda")
    outputs = model.get_outputs_for_camera(camera)
    reference = Model.get_outputs_for_camera(model, camera)  # nerfstudio's rays, sorted by the renderer
    assert reference["accumulation"].gt(0.5).float().mean() > 0.2
    for key in ("rgb", "accumulation", "depth"):
        gap = (outputs[key] - reference[key]).abs().amax(dim=-1)  # [H, W]
        # The two ray generators round differently: a sample may land across a cell boundary.
        assert gap.mean() < 1e-4 and gap.gt(1e-3).float().mean() <= 0.01, key


def test_a_captured_frame_is_keyed_on_every_setting_the_kernel_is_launched_with():
    model = _random_disc_model()
    camera = _camera_at_frame(1)
    model.get_outputs_for_camera(camera)
    renderer = model.renderer
    (order, centres), = renderer._pixel_tiles.values()
    intrinsics, camera_to_world = pinhole_parameters(camera)
    inputs = (torch.zeros(1, 1), intrinsics, camera_to_world, model.occupancy_grid.binaries)
    settings = renderer.settings
    # Both render paths take the one settings object.
    for render in (render_rays_fused, render_rays_torch):
        assert inspect.signature(render).parameters["settings"].annotation is RenderSettings
    renderer_config, occupancy_config = model.config.renderer, model.config.occupancy
    changed = [
        (renderer_config, "step_scale", 3.0), (occupancy_config, "near_plane", 0.2), (occupancy_config, "far_plane", 9.0),
        (renderer_config, "alpha_threshold", 0.5), (renderer_config, "early_stop_eps", 0.1),
        (renderer_config, "half_precision", False),
    ]
    key = lambda chunk=96: renderer.frame_graph_key(inputs, order, centres, chunk)  # noqa: E731
    keys = {key(), key(chunk=7)}
    for config, option, value in changed:
        setattr(config, option, value)
        keys.add(key())
    assert len(keys) == 2 + len(changed)
    # Every field of the settings was changed, so each reaches the key.
    assert all(a != b for a, b in zip(renderer.settings.key(), settings.key()))
    model.field.encoding.implementation = "triton"
    assert key() not in keys


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_replayed_frame_draws_what_the_operators_draw():
    model = _random_disc_model(FUSED_DECODER, "cuda")
    model.config.eval_num_rays_per_chunk = 1000  # several chunks, one of them partial, in one graph
    model.config.renderer.expression_grid = False

    def both(frame: int):
        camera = _camera_at_frame(frame, size=48).to("cuda")
        model.config.renderer.cuda_graph = False
        operators = model.get_outputs_for_camera(camera)
        model.config.renderer.cuda_graph = True
        replayed = model.get_outputs_for_camera(camera)
        assert replayed.keys() == operators.keys()
        for key, value in operators.items():
            torch.testing.assert_close(replayed[key], value, atol=1e-6, rtol=0, msg=key)
        return replayed

    first = {frame: both(frame) for frame in (0, 1)}
    assert not torch.equal(first[0]["rgb"], first[1]["rgb"])
    with torch.no_grad():  # as an optimiser step changes them: in place
        model.field.encoding.tables.add_(0.5 * torch.randn_like(model.field.encoding.tables))
        model.field.color_mlp.layers[-1].bias.add_(0.3)
    assert (both(1)["rgb"] - first[1]["rgb"]).abs().max() > 0.05
    model.config.renderer.step_scale = 1.0  # a setting the graph was launched with
    both(1)
    model.config.renderer.expression_grid = True
    model.get_outputs_for_camera(_camera_at_frame(1, size=48).to("cuda"))  # marches the training grid
    both(1)  # renders of the same expression in a row march its own grid, replayed or not
    assert len(model.renderer._frame_graphs) <= model.renderer._frame_graphs.capacity


def _evaluation_inputs(size: int = 16):
    outputs = {"rgb": torch.full((size, size, 3), 0.5), "accumulation": torch.ones(size, size, 1),
               "depth": torch.ones(size, size, 1)}
    batch = {"image": torch.full((size, size, 3), 0.5), "head_mask": torch.ones(size, size, 1)}
    return outputs, batch


def test_evaluation_refuses_a_diverged_model():
    from nerfblend_ns.metrics.head_metrics import NonFiniteModelError

    model = disc_model().eval()
    outputs, batch = _evaluation_inputs()
    metrics, _ = model.get_image_metrics_and_images(outputs, batch)
    assert metrics["psnr"] == pytest.approx(100.0)  # identical images: the MSE floor of 1e-10
    with torch.no_grad():
        model.field.encoding.tables[0, 0] = float("nan")  # one entry's 4 features
    with pytest.raises(NonFiniteModelError, match=r"field\.encoding\.tables holds 4 NaN or infinite values"):
        model.get_image_metrics_and_images(outputs, batch)


def test_evaluation_refuses_non_finite_colours():
    from nerfblend_ns.metrics.head_metrics import NonFiniteModelError

    outputs, batch = _evaluation_inputs()
    outputs["rgb"][0, 0, 1] = float("inf")
    with pytest.raises(NonFiniteModelError, match="renders 1 NaN or infinite colour values"):
        disc_model().eval().get_image_metrics_and_images(outputs, batch)


def test_a_checkpoint_without_the_models_weights_is_refused_as_nerfstudio_loads_it():
    """nerfstudio's pipeline retries a failed strict load without strictness; the model refuses first."""
    model, source = disc_model(), disc_model()
    with torch.no_grad():
        source.field.encoding.tables.fill_(0.5)
    state = source.state_dict()
    model.load_state_dict(state)  # its own kind of checkpoint loads
    assert torch.equal(model.field.encoding.tables, source.field.encoding.tables)
    for partial in ({"other_method.weight": torch.zeros(3)}, {k: v for k, v in state.items() if "density_mlp" not in k}):
        with pytest.raises(CheckpointWeightsError, match=r"the checkpoint holds \d+ of the model's \d+ weights \(missing: .*"):
            model.load_state_dict(partial, strict=False)
    model.load_state_dict({**state, "an_unused_option.weight": torch.zeros(1)}, strict=False)  # extra entries pass


def test_coefficient_segments_give_each_piece_of_the_training_range_a_table():
    model = disc_model(coefficient_segments=2)  # one coefficient, trained at 0 and 1
    assert model.field.encoding.tables.shape[0] == 3
    torch.testing.assert_close(model.field.segments.knots, torch.tensor([[0.5]]))
    start = model.field.encoding.tables.detach().clone()
    train_disc(model, 40, torch.Generator().manual_seed(0))
    # Frame 1 (coefficient 1) crosses both halves of the range: every table learns.
    moved = (model.field.encoding.tables.detach() - start).abs().flatten(1).amax(1)  # [3]
    assert (moved > 1e-3).all(), moved


@pytest.mark.parametrize(
    "fields, flag",
    [
        ({"coefficient_segments": 0}, "coefficient-segments 0"),
        ({"hidden_density_margin": float("nan")}, "hidden-density-margin nan"),
        ({"hidden_density_margin": -0.1}, "hidden-density-margin -0.1"),
        ({"hidden_density_window": 0}, "hidden-density-window 0"),
        ({"hidden_density_region": "unsen"}, "hidden-density-region .unsen.: must be one of occupied, behind_surface, unseen"),
        ({"mirror_supervision": "color"}, "mirror-supervision .color.: must be one of colour, opacity"),
    ],
)
def test_settings_out_of_range_are_refused_naming_the_flag(fields, flag):
    with pytest.raises(ValueError, match=flag):
        disc_model(**fields)
