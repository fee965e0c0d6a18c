"""The basis-table L1 penalty: its value, and that its gradient reaches the basis tables only."""

import pytest
import torch
from nerfstudio.data.scene_box import SceneBox

from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.models.basis_penalty import basis_table_l1
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGridConfig


def test_the_penalty_is_the_mean_absolute_value_of_the_basis_tables():
    tables = torch.tensor([[[100.0, -100.0]], [[1.0, -2.0]], [[-3.0, 0.5]]])  # [3, 1, 2]: h0 and two bases
    assert basis_table_l1(tables).item() == pytest.approx((1 + 2 + 3 + 0.5) / 4)


def test_a_table_set_without_bases_is_refused():
    with pytest.raises(ValueError, match="K ≥ 1"):
        basis_table_l1(torch.ones(1, 4, 2))


def _model(weight: float):
    config = NerfBlendModelConfig(
        grid=BlendedHashGridConfig(num_levels=2, log2_hashmap_size=6, max_resolution=32, implementation="torch"),
        decoder=DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=8, color_hidden_dim=16),
        occupancy=OccupancyGridConfig(resolution=8), perceptual_loss="off", basis_l1_weight=weight,
    )
    coefficients = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    metadata = {"expression_names": ["a", "b"], "expr_min": coefficients.min(0).values,
                "expr_max": coefficients.max(0).values, "expressions": coefficients}
    return config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)


def test_the_models_penalty_reaches_only_the_basis_tables_with_the_hand_computed_gradient():
    torch.manual_seed(0)
    model = _model(weight=0.5)
    tables = model.field.encoding.tables  # [K+1, P, F], one parameter for all tables
    with torch.no_grad():
        tables.uniform_(-1.0, 1.0)
    outputs = {"rgb_premultiplied": torch.zeros(4, 3), "accumulation": torch.zeros(4, 1)}
    batch = {"image": torch.zeros(4, 3), "head_mask": torch.zeros(4, 1), "background": torch.zeros(4, 3)}
    losses = model.get_loss_dict(outputs, batch)
    bases = tables.detach()[1:]
    assert losses["basis_l1"].item() == pytest.approx(0.5 * bases.abs().mean().item(), rel=1e-6)
    losses["basis_l1"].backward()
    expected = 0.5 * torch.sign(bases) / bases.numel()
    assert torch.equal(tables.grad[0], torch.zeros_like(tables.grad[0]))  # the neutral table h0
    torch.testing.assert_close(tables.grad[1:], expected)
    mlp = model.get_param_groups()["mlp"]
    assert mlp and all(parameter.grad is None for parameter in mlp)


def test_weight_zero_leaves_the_term_out():
    model = _model(weight=0.0)
    outputs = {"rgb_premultiplied": torch.zeros(2, 3), "accumulation": torch.zeros(2, 1)}
    batch = {"image": torch.zeros(2, 3), "head_mask": torch.zeros(2, 1), "background": torch.zeros(2, 3)}
    assert "basis_l1" not in model.get_loss_dict(outputs, batch)
