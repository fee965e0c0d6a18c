"""The benchmark's variants: each ablation's overrides reach a copy of its method's config and only that copy."""

from pathlib import Path

import pytest

from nerfblend_ns.benchmarks.timed_training import run_config
from nerfblend_ns.benchmarks.variants import VARIANTS


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
        assert (type(model).__name__, model.expression_aware_occupancy, model.perceptual_loss) == expected[key]
        assert spec.config.pipeline.model.expression_aware_occupancy and spec.config.pipeline.model.perceptual_loss == "auto"
        assert spec.config.method_name.endswith("-small") == small


def test_a_misspelt_override_fails():
    with pytest.raises(AttributeError, match="expression_aware_ocupancy"):
        run_config(VARIANTS["nerfblend"].method.config, Path("ws"), Path("out"), {"pipeline.model.expression_aware_ocupancy": False})
