"""The benchmark's variants: each ablation's overrides reach a copy of its method's config and only that copy."""

from pathlib import Path

import pytest

from nerfblend_ns.benchmarks.timed_training import OverrideError, run_config
from nerfblend_ns.input_errors import InputError
from nerfblend_ns.benchmarks.variants import VARIANTS
from nerfblend_ns.resuming_trainer import run_length_schedules


@pytest.mark.parametrize("small", [False, True])
def test_ablations_change_a_copy_only(small):
    expected = {
        "nerfblend": ("NerfBlendModelConfig", True, "auto"),
        "nerfblend-concat": ("NerfBlendConcatModelConfig", True, "auto"),
        "neutral-grid": ("NerfBlendModelConfig", False, "auto"),
        "no-lpips": ("NerfBlendModelConfig", True, "off"),
    }
    assert list(VARIANTS) == list(expected)
    for key, variant in VARIANTS.items():
        spec = variant.small if small else variant.method
        model = run_config(spec.config, Path("ws"), Path("out"), variant.overrides).pipeline.model
        assert (type(model).__name__, model.occupancy.expression_aware, model.perceptual_loss) == expected[key]
        assert spec.config.pipeline.model.occupancy.expression_aware and spec.config.pipeline.model.perceptual_loss == "auto"
        assert spec.config.method_name.endswith("-small") == small


def test_a_misspelt_override_fails():
    with pytest.raises(AttributeError, match="expression_aware_ocupancy"):
        run_config(VARIANTS["nerfblend"].method.config, Path("ws"), Path("out"), {"pipeline.model.expression_aware_ocupancy": False})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"pipeline.model.basis_l1_weight": "notanumber"}, "basis_l1_weight 'notanumber': the setting holds 1.0; give a float"),
        ({"pipeline.model.occupancy.expression_aware": 1}, "the setting holds True; give a bool"),
        ({"pipeline.modl.basis_l1_weight": 1.0}, "has no field 'modl'"),
    ],
)
def test_an_override_of_the_wrong_kind_or_place_is_one_line(overrides, message):
    with pytest.raises(OverrideError, match=message) as caught:
        run_config(VARIANTS["nerfblend"].method.config, Path("ws"), Path("out"), overrides)
    assert isinstance(caught.value, InputError)  # printed as one line by the commands


def test_an_override_reaches_an_optimizer_group_and_its_schedule_follows():
    import torch

    config = run_config(VARIANTS["nerfblend"].method.config, Path("ws"), Path("out"), {"optimizers.encoding.optimizer.lr": 1e-3})
    group = config.optimizers["encoding"]
    assert group["optimizer"].lr == 1e-3 and VARIANTS["nerfblend"].method.config.optimizers["encoding"]["optimizer"].lr == 1e-2
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=group["optimizer"].lr)
    schedule = run_length_schedules(config.optimizers, config.max_num_iterations)["encoding"]["scheduler"]
    scheduler = schedule.setup().get_scheduler(optimizer, lr_init=group["optimizer"].lr)
    final = scheduler.lr_lambdas[0](config.max_num_iterations) * group["optimizer"].lr
    assert final == pytest.approx(1e-4)  # a tenth of the rate set, as for the default
    with pytest.raises(AttributeError, match="'encodng'"):
        run_config(VARIANTS["nerfblend"].method.config, Path("ws"), Path("out"), {"optimizers.encodng.optimizer.lr": 1e-3})
