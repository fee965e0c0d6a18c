"""Refusals of command-line settings outside their range, each naming its flag.

tyro parses `nan`, `inf` and `0` as valid numbers; a command checks its settings with these before it
loads anything, so a setting out of range stops it with one line instead of a black video or a
traceback from deep inside the renderer.
"""

import math
from typing import Optional, Sequence

from nerfblend_ns.input_errors import InputError


class SettingError(InputError):
    """A command-line setting out of its range; the message names the flag and the accepted range."""


def finite(flag: str, value: Optional[float]) -> None:
    if value is not None and not math.isfinite(value):
        raise SettingError(f"{flag} {value}: must be a finite number")


def finite_all(flag: str, values: Optional[Sequence[float]]) -> None:
    for value in values or ():
        if not math.isfinite(value):
            raise SettingError(f"{flag} {' '.join(str(v) for v in values)}: every value must be a finite number")


def within(flag: str, value: Optional[float], low: float, high: float) -> None:
    """`value` (if given) finite and in [low, high]."""
    if value is None:
        return
    finite(flag, value)
    if not low <= value <= high:
        raise SettingError(f"{flag} {value}: must be between {low:g} and {high:g}")
