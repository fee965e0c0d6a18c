"""The nerfblend-concat methods: the baseline's sizes, and a model that trains through nerfblend's machinery."""

import dataclasses

import pytest
import torch
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import SceneBox

from nerfblend_ns.fields.concat_field import ConcatField
from nerfblend_ns.method_configs import (
    nerfblend_concat_method,
    nerfblend_concat_small_method,
    nerfblend_method,
    nerfblend_small_method,
)
from nerfblend_ns.models.concat_model import NerfBlendConcatModelConfig


def test_baseline_sizes_follow_the_paper_and_share_everything_else():
    for concat, blend in ((nerfblend_concat_method, nerfblend_method), (nerfblend_concat_small_method, nerfblend_small_method)):
        model, reference = concat.config.pipeline.model, blend.config.pipeline.model
        assert isinstance(model, NerfBlendConcatModelConfig)
        assert model.grid == reference.grid and model.losses == reference.losses
        assert model.occupancy == reference.occupancy and model.renderer == reference.renderer
        assert concat.config.pipeline.datamanager == blend.config.pipeline.datamanager
        assert concat.config.max_num_iterations == blend.config.max_num_iterations
        assert model.decoder.num_layers == 7 and model.decoder.color_num_layers == 1
    assert nerfblend_concat_method.config.pipeline.model.decoder.hidden_dim == 128
    assert nerfblend_concat_method.config.method_name == "nerfblend-concat"
    assert nerfblend_concat_small_method.config.method_name == "nerfblend-concat-small"


def test_model_builds_a_concat_field_and_splits_table_from_mlps():
    config = nerfblend_concat_small_method.config.pipeline.model
    coefficients = torch.tensor([[0.0, 0.5], [1.0, 0.2]])
    metadata = {"expression_names": ["a", "b"], "expr_min": coefficients.min(0).values,
                "expr_max": coefficients.max(0).values, "expressions": coefficients}
    model = config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
    assert isinstance(model.field, ConcatField)
    groups = model.get_param_groups()
    assert [p.shape for p in groups["encoding"]] == [model.field.encoding.tables.shape]
    assert sum(p.numel() for group in groups.values() for p in group) == sum(p.numel() for p in model.parameters())

    origins = torch.tensor([[0.0, 0.0, 3.0]]).repeat(8, 1)
    bundle = RayBundle(
        origins=origins, directions=torch.tensor([[0.0, 0.0, -1.0]]).repeat(8, 1), pixel_area=torch.ones(8, 1),
        metadata={"expr": coefficients.repeat(4, 1)},
    )
    outputs = model(bundle)
    assert outputs["rgb"].shape == (8, 3)
    outputs["rgb"].sum().backward()
    assert model.field.encoding.tables.grad is not None


def test_the_baseline_refuses_coefficient_segments():
    config = dataclasses.replace(nerfblend_concat_small_method.config.pipeline.model, coefficient_segments=2)
    coefficients = torch.tensor([[0.0], [1.0]])
    metadata = {"expression_names": ["a"], "expr_min": coefficients.min(0).values,
                "expr_max": coefficients.max(0).values, "expressions": coefficients}
    with pytest.raises(ValueError, match="coefficient-segments"):
        config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)
