"""One viewer slider per expression coefficient, over the training range or an extrapolated range."""

from typing import Callable, List, Sequence

import numpy as np
from nerfstudio.viewer.viewer_elements import ViewerSlider
from torch import nn

STEPS_PER_RANGE = 100
"""Slider positions between a coefficient's lowest and highest value."""
MIN_SPAN = 1e-3
"""A coefficient whose range is narrower than this is constant: its slider is shown, disabled."""


def _slider(
    name: str, low: float, high: float, start: float, visible: bool, on_change: Callable[[], None]
) -> ViewerSlider:
    constant = bool(high - low < MIN_SPAN)
    top = low + MIN_SPAN if constant else high
    return ViewerSlider(
        name, float(start), float(low), float(top), step=float((top - low) / STEPS_PER_RANGE),
        disabled=constant, visible=visible, cb_hook=lambda _: on_change(),
        hint=f"{name}: {low:.3g} … {high:.3g}" + (" (constant in the training frames)" if constant else ""),
    )


class CoefficientSliders(nn.Module):
    """Two sets of sliders labelled with the expression names, one shown at a time.

    `coefficient_00`, `coefficient_01`, … span the training range; `extrapolated_00`, … a wider one.
    The viewer finds controls by walking module attributes and lists them sorted by name, so each
    slider is an attribute of its own and the zero-padded index keeps the coefficients' order. Both
    sets live in one module so that the hidden set leaves no empty folder in the panel.

    Args:
        names: K expression names.
        low, high: [K] training range. wide_low, wide_high: [K] extrapolated range, containing it.
        start: [K] initial values, within the training range.
        on_change: called whenever a slider moves.
    """

    def __init__(
        self,
        names: Sequence[str],
        low: np.ndarray,
        high: np.ndarray,
        wide_low: np.ndarray,
        wide_high: np.ndarray,
        start: np.ndarray,
        on_change: Callable[[], None],
    ):
        super().__init__()
        self._attributes = {
            False: [f"coefficient_{index:02d}" for index in range(len(names))],
            True: [f"extrapolated_{index:02d}" for index in range(len(names))],
        }
        self.extrapolated = False
        for index, name in enumerate(names):
            training = _slider(name, low[index], high[index], start[index], True, on_change)
            extrapolated = _slider(name, wide_low[index], wide_high[index], start[index], False, on_change)
            setattr(self, self._attributes[False][index], training)
            setattr(self, self._attributes[True][index], extrapolated)

    def _set(self, extrapolated: bool) -> List[ViewerSlider]:
        return [getattr(self, attribute) for attribute in self._attributes[extrapolated]]

    @property
    def shown(self) -> List[ViewerSlider]:
        return self._set(self.extrapolated)

    def values(self) -> np.ndarray:
        """[K] the shown sliders' values."""
        return np.array([slider.value for slider in self.shown], dtype=np.float64)

    def set_values(self, values: np.ndarray) -> None:
        """values [K], each clipped to its shown slider's range (viser refuses values outside it)."""
        for slider, value in zip(self.shown, values):
            slider.value = float(np.clip(value, slider.min, slider.max))

    def set_extrapolated(self, extrapolated: bool) -> None:
        """Shows the other set of sliders, carrying the current values over."""
        if extrapolated == self.extrapolated:
            return
        values = self.values()
        for slider in self.shown:
            _show(slider, False)
        self.extrapolated = extrapolated
        for slider in self.shown:
            _show(slider, True)
        self.set_values(values)


def _show(slider: ViewerSlider, visible: bool) -> None:
    # Before the viewer installs it a slider has no handle; its flag then decides how it is installed.
    slider.visible = visible
    if slider.gui_handle is not None:
        slider.gui_handle.visible = visible
