"""A tracking run's options are checked before anything is read or written."""

from dataclasses import replace
from pathlib import Path

import pytest

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.run_config import ProcessVideoConfig, check_options
from nerfblend_ns.tracking.smoothing import SmoothingConfig

CONFIG = ProcessVideoConfig(video=Path("clip.mp4"), output_dir=Path("out"))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"start_s": float("nan")}, "--start-s must be a finite number, got nan"),
        ({"end_s": float("inf")}, "--end-s must be a finite number, got inf"),
        ({"crop_scale": float("inf")}, "--crop-scale must be a finite number"),
        ({"neck_length": float("nan")}, "--neck-length must be a finite number"),
        ({"smoothing": SmoothingConfig(beta=float("-inf"))}, "--smoothing.beta must be a finite number"),
        ({"crop_scale": 0.0}, "--crop-scale must be positive"),
        ({"jpeg_quality": 101}, "--jpeg-quality must be in 1..100"),
    ],
)
def test_an_option_out_of_range_is_named(options, message):
    with pytest.raises(TrackingError, match=message):
        check_options(replace(CONFIG, **options))


def test_the_defaults_pass():
    check_options(CONFIG)
