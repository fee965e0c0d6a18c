"""The viewer panel that drives a nerfblend avatar's expression.

The controls stay passive until one is touched: until then the viewer renders the expression of the
training frame whose camera was clicked (see `nerfblend_ns.expression_space`). Touching
any control turns "Use these coefficients" on; turning it off returns to the clicked frame.
"""

from typing import Optional

import numpy as np
import torch
from jaxtyping import Float
from nerfstudio.viewer.viewer_elements import ViewerButton, ViewerCheckbox, ViewerNumber
from torch import Tensor, nn

from nerfblend_ns.expression_space import ExpressionSpace
from nerfblend_ns.viewer.coefficient_sliders import CoefficientSliders

EXTRAPOLATION_FACTOR = 2.0
"""How far "Extrapolate" stretches each slider's range away from the neutral value."""


def stretched_range(
    low: np.ndarray, high: np.ndarray, neutral: np.ndarray, factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """[K] ranges stretched by `factor` away from the neutral value, so expressions exaggerate both ways."""
    return neutral + factor * (low - neutral), neutral + factor * (high - neutral)


class ExpressionControls(nn.Module):
    """Sliders per coefficient, training-frame loading, reset to neutral and extrapolation.

    The viewer lists controls sorted by attribute name, and finds them only as attributes (not in
    lists). Holds no parameters or buffers, so checkpoints are unaffected.

    Args:
        space: the coefficients' names (the slider labels), training range and training frames' values; read
            once here, not kept (a module attribute would be saved twice).
    """

    def __init__(self, space: ExpressionSpace):
        super().__init__()
        low = space.minimum.detach().cpu().double().numpy()
        high = space.maximum.detach().cpu().double().numpy()
        self._training = space.training_coefficients.detach().cpu().double().numpy()
        self._neutral = space.neutral().detach().cpu().double().numpy()
        names = space.names
        last_frame = self._training.shape[0] - 1

        self.override = ViewerCheckbox(
            "Use these coefficients", False,
            hint="On: render the coefficients set here. Off: the expression of the clicked training camera.",
        )
        self.extrapolate = ViewerCheckbox(
            f"Extrapolate ×{EXTRAPOLATION_FACTOR:g}", False, cb_hook=lambda _: self._switch_range(),
            hint=f"Stretch every slider's range ×{EXTRAPOLATION_FACTOR:g} away from neutral, beyond the training range",
        )
        self.frame = ViewerNumber(
            "Training frame", 0, hint=f"Index into the training split, 0 … {last_frame} (the camera frustums' order)"
        )
        self.load_frame = ViewerButton("Load training frame", cb_hook=lambda _: self.load_training_frame())
        self.reset = ViewerButton("Reset to neutral", cb_hook=lambda _: self.reset_to_neutral())
        wide_low, wide_high = stretched_range(low, high, self._neutral, EXTRAPOLATION_FACTOR)
        self.sliders = CoefficientSliders(names, low, high, wide_low, wide_high, self._neutral, self._touched)

    def _touched(self) -> None:
        if not self.override.value:
            self.override.value = True

    def _switch_range(self) -> None:
        self.sliders.set_extrapolated(bool(self.extrapolate.value))
        self._touched()

    def load_training_frame(self) -> None:
        """Sets the sliders to the coefficients of the training frame in "Training frame"."""
        last_frame = self._training.shape[0] - 1
        index = int(np.clip(round(self.frame.value), 0, last_frame))
        if index != self.frame.value:
            self.frame.value = index
        self.sliders.set_values(self._training[index])
        self._touched()

    def reset_to_neutral(self) -> None:
        self.sliders.set_values(self._neutral)
        self._touched()

    def active_coefficients(self) -> Optional[Float[Tensor, "k"]]:
        """[K] the coefficients set here while "Use these coefficients" is on, else None."""
        if not self.override.value:
            return None
        return torch.from_numpy(self.sliders.values()).float()
