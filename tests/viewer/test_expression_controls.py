"""The viewer's expression controls."""

import socket
import time

import numpy as np
import pytest
import torch
import viser
from nerfstudio.viewer.utils import parse_object
from nerfstudio.viewer.viewer_elements import ViewerElement
from torch import nn

from nerfblend_ns.expression_space import ExpressionSpace
from nerfblend_ns.viewer.expression_controls import EXTRAPOLATION_FACTOR, ExpressionControls

NAMES = ["jawOpen", "mouthSmile", "browRaise"]
EXPR_MIN = torch.tensor([0.0, -0.5, 0.2])
EXPR_MAX = torch.tensor([1.0, 0.5, 0.6])
TRAIN = torch.tensor([[0.0, -0.5, 0.2], [1.0, 0.5, 0.6], [0.25, 0.1, 0.4]])
SPACE = ExpressionSpace(NAMES, TRAIN, EXPR_MIN, EXPR_MAX)


@pytest.fixture
def controls() -> ExpressionControls:
    return ExpressionControls(SPACE)


def drag(slider, value: float) -> None:
    """What the viewer does when a user moves a control: new value, then the control's hook."""
    slider.value = value
    slider.cb_hook(slider)


def test_viewer_finds_every_control_as_its_own_attribute(controls):
    holder = nn.Module()
    holder.expression_controls = controls
    found = dict(parse_object(holder, ViewerElement, "Custom Elements"))
    prefix = "Custom Elements/expression_controls"
    for name in ("override", "extrapolate", "frame", "load_frame", "reset"):
        assert f"{prefix}/{name}" in found
    sliders = [path for path in found if path.startswith(f"{prefix}/sliders/")]
    assert len(sliders) == 2 * len(NAMES)
    # The viewer lists controls in path order; the training-range sliders follow the coefficients' order.
    assert [found[path].name for path in sorted(sliders)][: len(NAMES)] == NAMES


def test_sliders_span_the_training_range_and_start_neutral(controls):
    shown = controls.sliders.shown
    assert [slider.name for slider in shown] == NAMES
    assert [slider.min for slider in shown] == pytest.approx(EXPR_MIN.tolist())
    assert [slider.max for slider in shown] == pytest.approx(EXPR_MAX.tolist())
    assert all(slider.visible for slider in shown)
    # Zero where the range holds it, else the nearest end (browRaise never reaches zero).
    assert controls.sliders.values() == pytest.approx([0.0, 0.0, 0.2])
    assert controls.active_coefficients() is None


def test_moving_a_slider_activates_the_controls(controls):
    drag(controls.sliders.shown[0], 0.75)
    assert controls.override.value
    assert controls.active_coefficients().tolist() == pytest.approx([0.75, 0.0, 0.2])
    drag(controls.override, False)
    assert controls.active_coefficients() is None


def test_load_frame_and_reset(controls):
    controls.frame.value = 2
    controls.load_frame.cb_hook(controls.load_frame)
    assert controls.active_coefficients().tolist() == pytest.approx(TRAIN[2].tolist())
    controls.frame.value = 99  # past the last frame: clipped to it
    controls.load_frame.cb_hook(controls.load_frame)
    assert controls.frame.value == 2
    assert controls.active_coefficients().tolist() == pytest.approx(TRAIN[2].tolist())
    controls.reset.cb_hook(controls.reset)
    assert controls.active_coefficients().tolist() == pytest.approx(SPACE.neutral().tolist())


def test_extrapolation_stretches_the_ranges_away_from_neutral(controls):
    drag(controls.sliders.shown[0], 0.5)
    drag(controls.extrapolate, True)
    shown = controls.sliders.shown
    assert all(slider.visible for slider in shown)
    assert not any(slider.visible for slider in controls.sliders._set(False))
    neutral = np.array([0.0, 0.0, 0.2])
    assert [s.min for s in shown] == pytest.approx(list(neutral + EXTRAPOLATION_FACTOR * (EXPR_MIN.numpy() - neutral)))
    assert [s.max for s in shown] == pytest.approx(list(neutral + EXTRAPOLATION_FACTOR * (EXPR_MAX.numpy() - neutral)))
    assert controls.sliders.values()[0] == pytest.approx(0.5)  # carried over
    drag(shown[0], 1.8)
    assert controls.active_coefficients()[0] == pytest.approx(1.8)
    drag(controls.extrapolate, False)
    assert controls.active_coefficients()[0] == pytest.approx(1.0)  # back within the training range


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_controls_installed_in_a_viser_server_react_to_updates(controls):
    server = viser.ViserServer(host="127.0.0.1", port=_free_port(), verbose=False)
    try:
        holder = nn.Module()
        holder.expression_controls = controls
        for _, element in parse_object(holder, ViewerElement, "Custom Elements"):
            element.install(server)
        assert not any(slider.gui_handle.visible for slider in controls.sliders._set(True))
        controls.sliders.shown[1].gui_handle.value = 0.4  # as a browser's update does: callbacks run in threads
        deadline = time.time() + 10
        while not controls.override.value and time.time() < deadline:
            time.sleep(0.05)
        assert controls.active_coefficients().tolist() == pytest.approx([0.0, 0.4, 0.2])
    finally:
        server.stop()
