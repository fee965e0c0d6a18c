"""The settings a render outside training is launched with: one typed value that the fused launch, the
torch path and a captured frame's key all read, so that none of them can drift from the others."""

from dataclasses import astuple, dataclass


@dataclass(frozen=True)
class RenderSettings:
    """How rays are marched and composited outside training."""

    step_size: float
    """Marching step in scene units (the training step times the renderer's step scale)."""
    near_plane: float
    """Nearest distance from the camera at which samples are taken."""
    far_plane: float
    """Farthest distance from the camera at which samples are taken."""
    alpha_threshold: float
    """Samples with opacity below this neither colour nor attenuate a ray."""
    early_stop_eps: float
    """Transmittance under which a ray ends."""
    half_precision: bool
    """Evaluate the field in float16 on CUDA (interpolation and accumulation stay float32)."""

    def key(self) -> tuple:
        """Every setting, in field order: what a captured frame has baked in."""
        return astuple(self)
