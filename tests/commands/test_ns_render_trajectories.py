"""nerfstudio's `ns-render spiral` and `interpolate` on a tiny avatar: their cameras carry no coefficients."""

import shutil
import sys

import numpy as np
import pytest

# nerfstudio's render script imports mediapy, which the GPU machines' environment lacks.
pytest.importorskip("mediapy")
from nerfstudio.scripts.render import entrypoint  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ns-render refuses to start without an ffmpeg program"),
]


def ns_render(avatar, monkeypatch, *args: str) -> list:
    monkeypatch.chdir(avatar.root)
    monkeypatch.setattr(sys, "argv", ["ns-render", *args])
    entrypoint()
    output = avatar.root / args[args.index("--output-path") + 1]
    return [np.asarray(Image.open(path).convert("RGB")) for path in sorted(output.glob("*.jpg"))]


def head_pixels(image: np.ndarray) -> int:
    return int((image < 200).any(axis=-1).sum())


def test_spiral_renders_neutral_or_the_chosen_training_frame(tiny_avatar, monkeypatch):
    common = ["--load-config", str(tiny_avatar.shaped_config), "--output-format", "images", "--seconds", "0.25",
              "--frame-rate", "8"]
    neutral = ns_render(tiny_avatar, monkeypatch, "spiral", *common, "--output-path", "spiral-neutral")
    # Training frame 8 of the synthetic clip has jawOpen at its maximum: the fitted ball is larger.
    jaw = ns_render(tiny_avatar, monkeypatch, "spiral", *common, "--camera-idx", "8", "--output-path", "spiral-8")
    assert len(neutral) == len(jaw) == 2 and neutral[0].shape == (48, 48, 3)
    assert head_pixels(jaw[0]) > 1.5 * head_pixels(neutral[0])


def test_interpolate_renders_between_the_test_cameras(tiny_avatar, monkeypatch):
    frames = ns_render(tiny_avatar, monkeypatch, "interpolate", "--load-config", str(tiny_avatar.config),
                       "--output-format", "images", "--interpolation-steps", "2", "--downscale-factor", "2",
                       "--output-path", "interpolated")
    assert len(frames) == 2 and frames[0].shape == (24, 24, 3)  # 2 steps between the 2 test cameras
