"""A tracking run's options are checked before anything is read or written."""

from dataclasses import replace
from pathlib import Path

import pytest

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.masks.consensus_outline import ConsensusOutlineConfig
from nerfblend_ns.tracking.masks.head_mask import HeadMaskConfig
from nerfblend_ns.tracking.masks.mask_volume import MaskVolumeConfig
from nerfblend_ns.tracking.poses.smoothing import SmoothingConfig
from nerfblend_ns.tracking.run_config import ProcessVideoConfig, cache_settings, check_options

CONFIG = ProcessVideoConfig(video=Path("clip.mp4"), output_dir=Path("out"))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"start_s": float("nan")}, "--start-s must be a finite number, got nan"),
        ({"end_s": float("inf")}, "--end-s must be a finite number, got inf"),
        ({"crop_scale": float("inf")}, "--crop-scale must be a finite number"),
        ({"mask": HeadMaskConfig(neck_length=float("nan"))}, "--mask.neck-length must be a finite number"),
        (
            {"mask": HeadMaskConfig(volume=MaskVolumeConfig(head_cut_y=float("inf")))},
            "--mask.volume.head-cut-y must be a finite number",
        ),
        ({"smoothing": SmoothingConfig(beta=float("-inf"))}, "--smoothing.beta must be a finite number"),
        ({"smoothing": SmoothingConfig(pose_window_s=float("nan"))}, "--smoothing.pose-window-s must be a finite number"),
        (
            {"smoothing": SmoothingConfig(expression_window_s=-0.1)},
            "--smoothing.expression-window-s must be ≥ 0 \\(0: no smoothing\\), got -0.1",
        ),
        ({"crop_scale": 0.0}, "--crop-scale must be positive"),
        ({"mouth_residual_coefficients": -2}, "--mouth-residual-coefficients must be ≥ 0, got -2"),
        ({"brow_residual_coefficients": -1}, "--brow-residual-coefficients must be ≥ 0, got -1"),
        ({"jpeg_quality": 101}, "--jpeg-quality must be in 1..100"),
        ({"resolution": 100_000}, "--resolution must be between 64 and 4096, got 100000"),
        ({"resolution": 0}, "--resolution must be between 64 and 4096, got 0"),
        (
            {"consensus_outline": ConsensusOutlineConfig(background_fraction=float("nan"))},
            "--consensus-outline.background-fraction must be a finite number",
        ),
        (
            {"consensus_outline": ConsensusOutlineConfig(background_fraction=0.0)},
            "--consensus-outline.background-fraction must lie in \\(0, 1\\], got 0.0",
        ),
        ({"consensus_outline": ConsensusOutlineConfig(resolution=81)}, "--consensus-outline.resolution must be even"),
        ({"consensus_outline": ConsensusOutlineConfig(min_views=0)}, "--consensus-outline.min-views must be ≥ 1"),
        ({"consensus_outline": ConsensusOutlineConfig(max_shift_px=-1)}, "--consensus-outline.max-shift-px must be ≥ 0"),
        ({"consensus_outline": ConsensusOutlineConfig(max_views=4)}, "--consensus-outline.max-views must be at least"),
        ({"consensus_outline": ConsensusOutlineConfig(max_far_change=1.5)}, "--consensus-outline.max-far-change must lie in \\[0, 1\\]"),
        ({"consensus_outline": ConsensusOutlineConfig(max_far_change=float("nan"))}, "--consensus-outline.max-far-change must be a finite"),
    ],
)
def test_an_option_out_of_range_is_named(options, message):
    with pytest.raises(TrackingError, match=message):
        check_options(replace(CONFIG, **options))


def test_the_defaults_pass():
    check_options(CONFIG)


def test_the_default_is_the_head_volume_mask_and_the_chin_line_cache_keeps_its_keys():
    """Head-volume mask and smoothed MediaPipe poses by default; cached frames of the chin-line rule keep the
    settings' keys they had before the rules were selectable, so such caches still resume under that rule."""
    assert CONFIG.mask.rule == "head-volume" and not CONFIG.pose_fit.enabled
    chin_line = replace(CONFIG, mask=HeadMaskConfig(rule="chin-line"))
    settings = cache_settings(chin_line)
    assert list(settings) == [
        "resolution", "crop_scale", "crop_samples", "neck_length", "neck_half_width", "image_format", "jpeg_quality",
        "models",
    ]  # fmt: skip
    assert (settings["neck_length"], settings["neck_half_width"]) == (0.25, 0.4)
    assert cache_settings(replace(chin_line, mask=HeadMaskConfig(rule="chin-line", neck_length=0.3)))["neck_length"] == 0.3
    volume = cache_settings(CONFIG)
    assert "neck_length" not in volume and volume["mask"]["head_cut_y"] == MaskVolumeConfig().head_cut_y
