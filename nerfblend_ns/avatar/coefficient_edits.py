"""Expression edits given by coefficient name: set a value, scale by a factor, or animate over frames.

Syntax: values `name=number`, factors `name=number`, ramps `name:start:end` (linear from start
to end over the frames). A name may be edited once. Numbers must be finite, and an edited coefficient
must stay within ±COEFFICIENT_BOUND, the bound a workspace's coefficients keep.
"""

import difflib
import math
from dataclasses import dataclass, field
from typing import Dict, Sequence, Tuple

import torch
from jaxtyping import Float
from torch import Tensor

from nerfblend_ns.dataparsers.value_checks import COEFFICIENT_BOUND
from nerfblend_ns.input_errors import InputError


class EditError(InputError, ValueError):
    """An edit that does not parse or names no coefficient."""


@dataclass(frozen=True)
class CoefficientEdits:
    """Edits by coefficient index."""

    values: Dict[int, float] = field(default_factory=dict)
    factors: Dict[int, float] = field(default_factory=dict)
    ramps: Dict[int, Tuple[float, float]] = field(default_factory=dict)
    sources: Dict[int, str] = field(default_factory=dict)
    """The edit, as the user wrote it, of each edited index (for error messages)."""

    def apply(self, coefficients: Float[Tensor, "k"], progress: float) -> Float[Tensor, "k"]:
        """The edited copy of `coefficients`; `progress` in [0, 1] is how far the animations are."""
        edited = coefficients.clone()
        for index, factor in self.factors.items():
            edited[index] = edited[index] * factor
        for index, value in self.values.items():
            edited[index] = value
        for index, (start, end) in self.ramps.items():
            edited[index] = start + (end - start) * progress
        beyond = (~torch.isfinite(edited) | (edited.abs() > COEFFICIENT_BOUND)).nonzero().flatten().tolist()
        if beyond:
            index = beyond[0]
            raise EditError(
                f"'{self.sources.get(index, index)}' makes the coefficient {edited[index].item():.3g}, beyond "
                f"±{COEFFICIENT_BOUND:g}; choose a smaller value or factor"
            )
        return edited


def _index(name: str, names: Sequence[str], edit: str) -> int:
    if name in names:
        return list(names).index(name)
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; the model's coefficients: {', '.join(names)}"
    raise EditError(f"'{edit}': the model has no coefficient '{name}'{hint}")


def _number(text: str, edit: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise EditError(f"'{edit}': '{text}' is not a number") from None
    if not math.isfinite(number):
        raise EditError(f"'{edit}': '{text.strip()}' is not a finite number")
    return number


def parse_edits(
    names: Sequence[str], values: Sequence[str] = (), factors: Sequence[str] = (), ramps: Sequence[str] = ()
) -> CoefficientEdits:
    """values, factors: `name=number`; ramps: `name:start:end`."""
    edits = CoefficientEdits()
    seen: Dict[int, str] = {}

    def claim(index: int, edit: str) -> int:
        if index in seen:
            raise EditError(f"'{edit}': {names[index]} is already edited by '{seen[index]}'")
        seen[index] = edit
        edits.sources[index] = edit
        return index

    for target, texts in ((edits.values, values), (edits.factors, factors)):
        for edit in texts:
            name, equals, number = edit.partition("=")
            if not equals:
                raise EditError(f"'{edit}': expected name=number, e.g. jawOpen=0.8")
            target[claim(_index(name.strip(), names, edit), edit)] = _number(number, edit)
    for edit in ramps:
        parts = edit.split(":")
        if len(parts) != 3:
            raise EditError(f"'{edit}': expected name:start:end, e.g. jawOpen:0:1")
        index = claim(_index(parts[0].strip(), names, edit), edit)
        edits.ramps[index] = (_number(parts[1], edit), _number(parts[2], edit))
    return edits

