"""Coefficient noise and dropout in training: their statistics, and that only training rays get them."""

import pytest
import torch
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import SceneBox

from nerfblend_ns.expression_space import ExpressionSpace
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.method_configs import nerfblend_method, nerfblend_small_method
from nerfblend_ns.models.coefficient_augmentation import augment_coefficients
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig
from nerfblend_ns.rendering.inference_renderer import InferenceRendererConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGridConfig

LOW, HIGH = torch.tensor([0.0, -1.0]), torch.tensor([1.0, 3.0])
# Clamping of rays is off: augmentation clamps to the training range all the same.
SPACE = ExpressionSpace(["a", "b"], torch.stack((LOW, HIGH)), LOW, HIGH, clamp=False)


def test_noise_scales_with_each_dimensions_training_range():
    generator = torch.Generator().manual_seed(0)
    centre = ((LOW + HIGH) / 2).expand(20000, 2)
    noisy = augment_coefficients(centre, SPACE, noise=0.05, dropout=0.0, generator=generator)
    torch.testing.assert_close((noisy - centre).std(dim=0), torch.tensor([0.05, 0.2]), rtol=0.03, atol=0.0)


def test_dropout_sets_coefficients_to_neutral_at_its_rate_and_results_stay_in_range():
    generator = torch.Generator().manual_seed(0)
    values = torch.tensor([[0.7, 2.5]]).expand(20000, 2)
    dropped = augment_coefficients(values, SPACE, noise=0.0, dropout=0.25, generator=generator)
    assert (dropped == 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert ((dropped == values) | (dropped == 0)).all()
    wild = augment_coefficients(values, SPACE, noise=10.0, dropout=0.0, generator=generator)
    assert (wild >= LOW).all() and (wild <= HIGH).all()
    assert torch.equal(augment_coefficients(values, SPACE, 0.0, 0.0), values)
    with pytest.raises(ValueError, match="dropout"):
        augment_coefficients(values, SPACE, 0.0, 1.5)


def test_the_model_blends_dropped_coefficients_on_training_frames_only():
    config = NerfBlendModelConfig(
        grid=BlendedHashGridConfig(num_levels=2, log2_hashmap_size=6, max_resolution=16, implementation="torch"),
        decoder=DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=8, color_hidden_dim=16),
        occupancy=OccupancyGridConfig(resolution=4, training_step_size=0.1), perceptual_loss="off",
        coefficient_dropout=1.0, renderer=InferenceRendererConfig(fused=False),
    )
    training = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    metadata = {"expression_names": ["a", "b"], "expr_min": training.min(0).values,
                "expr_max": training.max(0).values, "expressions": training}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
    model.occupancy_grid.binaries.fill_(True)
    blended = []
    blend = model.field.blend
    model.field.blend = lambda coefficients: blended.append(coefficients.clone()) or blend(coefficients)

    def bundle(of_training_frame: bool) -> RayBundle:
        return RayBundle(
            origins=torch.tensor([[0.0, 0.0, 3.0]]).expand(4, 3).contiguous(),
            directions=torch.tensor([[0.0, 0.0, -1.0]]).expand(4, 3).contiguous(), pixel_area=torch.ones(4, 1),
            camera_indices=torch.ones(4, 1, dtype=torch.long) if of_training_frame else None,
            metadata={"expr": torch.ones(4, 2)},
        )

    model.train()
    model(bundle(True))
    model(bundle(False))  # a test frame's pose fit: training mode, no training frame
    model.eval()
    model(bundle(True))
    ones = torch.ones(1, 2)
    assert [b.tolist() for b in blended] == [torch.zeros(1, 2).tolist(), ones.tolist(), ones.tolist()]


def test_the_paper_configuration_trains_with_dropout_and_the_small_one_without():
    assert nerfblend_method.config.pipeline.model.coefficient_dropout == 0.1
    assert nerfblend_small_method.config.pipeline.model.coefficient_dropout == 0.0
