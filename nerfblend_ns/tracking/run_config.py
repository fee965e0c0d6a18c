"""The options of a tracking run, their checks, and which of them shape per-frame results."""

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Literal, Optional

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.masks.consensus_outline import ConsensusOutlineConfig
from nerfblend_ns.tracking.masks.head_mask import HEAD_VOLUME_VERSION, HeadMaskConfig
from nerfblend_ns.tracking.mediapipe_tasks.model_files import DEFAULT_CACHE_DIR, FACE_LANDMARKER, SELFIE_SEGMENTER
from nerfblend_ns.tracking.poses.pose_fit import PoseFitConfig
from nerfblend_ns.tracking.poses.smoothing import SmoothingConfig


MAX_RESOLUTION = 4096
"""Largest workspace frame side: a 4096² crop upsamples the face of any common video (4K is 3840 wide);
beyond it the frames only cost memory (100000² would ask for 30 GB)."""


@dataclass(frozen=True)
class ProcessVideoConfig:
    """Track a raw video of one face into a nerfblend workspace (docs/workspace-format.md)."""

    video: Path
    """Input video file (any format OpenCV can decode)."""
    output_dir: Path
    """Workspace folder to write; re-running the same command resumes an interrupted run."""
    resolution: int = 512
    """Width and height of the square workspace frames, in pixels."""
    every_nth: int = 1
    """Track every n-th frame of the chosen time range."""
    start_s: float = 0.0
    """Start of the time range, in seconds."""
    end_s: Optional[float] = None
    """End of the time range in seconds (exclusive); the end of the video by default."""
    max_frames: Optional[int] = None
    """Track at most this many frames."""
    crop_scale: float = 2.4
    """Side of the square crop as a multiple of the median face size (at most the frame's shorter side)."""
    crop_samples: int = 15
    """Frames, spread over the time range, searched for the face to place the crop."""
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    """Temporal smoothing of head poses and coefficients."""
    pose_fit: PoseFitConfig = field(default_factory=PoseFitConfig)
    """Joint fit of a rigid landmark template and all head poses (replaces the pose smoothing when enabled)."""
    mouth_residual_coefficients: int = 0
    """Extra unnamed coefficients appended after the named ones: principal components of the lip motion the named
    ones leave unexplained (docs/tracking.md); 0 leaves them out."""
    brow_residual_coefficients: int = 0
    """As --mouth-residual-coefficients, for the brows' motion (appended after the mouth's); 0 leaves them out."""
    static_range: float = 0.02
    """Coefficients whose range over the clip is below this are reported as static."""
    drop_static_coefficients: bool = False
    """Leave the static coefficients out of the workspace."""
    mask: HeadMaskConfig = field(default_factory=HeadMaskConfig)
    """The head mask's rule (head-fixed volumes by default, or the chin line) and its settings."""
    consensus_outline: ConsensusOutlineConfig = field(default_factory=ConsensusOutlineConfig)
    """Above the ears, masks of one head-fixed shape that the clip's masks vote for (docs/tracking.md)."""
    image_format: Literal["jpg", "png"] = "jpg"
    """File format of the workspace frames."""
    jpeg_quality: int = 95
    """JPEG quality of the workspace frames."""
    contact_sheet_frames: int = 12
    """Frames shown on contact_sheet.png."""
    model_dir: Optional[Path] = None
    """Folder holding face_landmarker.task and/or selfie_segmentation.tflite, searched first."""
    model_cache_dir: Path = DEFAULT_CACHE_DIR
    """Cache of model files found or fetched by earlier runs."""
    offline: bool = False
    """Never fetch missing model files over the network."""
    overwrite: bool = False
    """Replace a workspace made from another video, or write into a folder of other files (which are kept)."""


def check_options(config: ProcessVideoConfig) -> None:
    """Raises TrackingError naming the first option out of range."""
    numbers = {
        "--start-s": config.start_s, "--end-s": config.end_s, "--crop-scale": config.crop_scale,
        "--static-range": config.static_range, "--mask.neck-length": config.mask.neck_length,
        "--mask.neck-half-width": config.mask.neck_half_width,
        "--mask.volume.head-cut-y": config.mask.volume.head_cut_y, "--mask.volume.neck-cut-y": config.mask.volume.neck_cut_y,
        "--smoothing.min-cutoff-hz": config.smoothing.min_cutoff_hz, "--smoothing.beta": config.smoothing.beta,
        "--smoothing.pose-window-s": config.smoothing.pose_window_s,
        "--smoothing.expression-window-s": config.smoothing.expression_window_s,
        "--consensus-outline.background-fraction": config.consensus_outline.background_fraction,
        "--consensus-outline.max-far-change": config.consensus_outline.max_far_change,
    }
    for flag, value in numbers.items():
        if value is not None and not math.isfinite(value):
            raise TrackingError(f"{flag} must be a finite number, got {value}")
    checks = [
        (
            64 <= config.resolution <= MAX_RESOLUTION,
            f"--resolution must be between 64 and {MAX_RESOLUTION}, got {config.resolution}",
        ),
        (config.crop_scale > 0, f"--crop-scale must be positive, got {config.crop_scale}"),
        (
            config.mouth_residual_coefficients >= 0,
            f"--mouth-residual-coefficients must be ≥ 0, got {config.mouth_residual_coefficients}",
        ),
        (
            config.brow_residual_coefficients >= 0,
            f"--brow-residual-coefficients must be ≥ 0, got {config.brow_residual_coefficients}",
        ),
        (config.crop_samples >= 1, f"--crop-samples must be ≥ 1, got {config.crop_samples}"),
        (
            0.0 < config.consensus_outline.background_fraction <= 1.0,
            f"--consensus-outline.background-fraction must lie in (0, 1], got {config.consensus_outline.background_fraction}",
        ),
        (
            0.0 <= config.consensus_outline.max_far_change <= 1.0,
            f"--consensus-outline.max-far-change must lie in [0, 1], got {config.consensus_outline.max_far_change}",
        ),
        (
            config.consensus_outline.resolution >= 8 and config.consensus_outline.resolution % 2 == 0,
            f"--consensus-outline.resolution must be even and at least 8, got {config.consensus_outline.resolution}",
        ),
        (config.consensus_outline.min_views >= 1, f"--consensus-outline.min-views must be ≥ 1, got {config.consensus_outline.min_views}"),
        (
            config.consensus_outline.max_shift_px >= 0,
            f"--consensus-outline.max-shift-px must be ≥ 0 (0: no limit), got {config.consensus_outline.max_shift_px}",
        ),
        (
            config.consensus_outline.max_views >= config.consensus_outline.min_views,
            f"--consensus-outline.max-views must be at least --consensus-outline.min-views, got {config.consensus_outline.max_views}",
        ),
        (1 <= config.jpeg_quality <= 100, f"--jpeg-quality must be in 1..100, got {config.jpeg_quality}"),
        *(
            (window_s >= 0, f"--smoothing.{name}-window-s must be ≥ 0 (0: no smoothing), got {window_s}")
            for name, window_s in (
                ("pose", config.smoothing.pose_window_s), ("expression", config.smoothing.expression_window_s)
            )
        ),
    ]
    for passed, message in checks:
        if not passed:
            raise TrackingError(message)


def cache_settings(config: ProcessVideoConfig) -> Dict[str, Any]:
    """The options that shape per-frame results: cached frames are reused only while these stay the same."""
    return {
        "resolution": config.resolution,
        "crop_scale": config.crop_scale,
        "crop_samples": config.crop_samples,
        **_mask_settings(config.mask),
        "image_format": config.image_format,
        "jpeg_quality": config.jpeg_quality,
        "models": {spec.file_name: spec.sha256 for spec in (FACE_LANDMARKER, SELFIE_SEGMENTER)},
    }


def _mask_settings(mask: HeadMaskConfig) -> Dict[str, Any]:
    """The mask rule's settings; the chin-line rule's are named as before the rules were selectable, so its
    cached frames stay valid."""
    if mask.rule == "chin-line":
        return {"neck_length": mask.neck_length, "neck_half_width": mask.neck_half_width}
    return {"mask": {"rule": HEAD_VOLUME_VERSION, **asdict(mask.volume)}}
