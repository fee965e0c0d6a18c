"""The methods and ablations that the quality benchmark compares (paper §4.3, Fig. 8, 12, 13)."""

from dataclasses import dataclass, field
from typing import Any, Dict

from nerfstudio.plugins.types import MethodSpecification

from nerfblend_ns.method_configs import (
    nerfblend_concat_method,
    nerfblend_concat_small_method,
    nerfblend_method,
    nerfblend_small_method,
)


@dataclass(frozen=True)
class Variant:
    """A registered method, or an ablation of one given as config overrides."""

    label: str
    """Its name in plots, pictures and results."""
    method: MethodSpecification
    """The method at its paper size."""
    small: MethodSpecification
    """The method at its small CPU size."""
    overrides: Dict[str, Any] = field(default_factory=dict)
    """Dotted config paths and values that make the ablation."""


VARIANTS: Dict[str, Variant] = {
    "nerfblend": Variant("nerfblend", nerfblend_method, nerfblend_small_method),
    "nerfblend-concat": Variant("concatenate baseline", nerfblend_concat_method, nerfblend_concat_small_method),
    "neutral-grid": Variant(
        "neutral-only grid", nerfblend_method, nerfblend_small_method, {"pipeline.model.occupancy.expression_aware": False}
    ),
    "no-lpips": Variant("no LPIPS", nerfblend_method, nerfblend_small_method, {"pipeline.model.perceptual_loss": "off"}),
}
"""Benchmark keys (the `--methods` choices) to variants, in the order they are run."""
