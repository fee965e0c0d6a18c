"""An avatar's expression space: K named coefficients, the training frames' values and the range they span.

What the model, the renderer, the viewer and the commands ask of the coefficients lives here: the neutral
expression, clamping to the training range, and which coefficients a camera renders with.

A camera's coefficients, first match wins:

1. the camera's own `metadata[COEFFICIENTS_KEY]` (dataset cameras: training, `ns-eval`, `ns-render dataset`,
   and the cameras `nerfblend-render` builds); with `metadata[EXTRAPOLATE_KEY]` set they are rendered as
   given, otherwise clamped to the training range;
2. the viewer's expression controls, while they are active (a control was touched and their "Use these
   coefficients" switch is on); rendered as set, the sliders bound them;
3. the training frame whose camera was clicked in the viewer (`metadata["cam_idx"]`, an index into the
   training split); `ns-render camera-path/spiral/interpolate --camera-idx N` sets it too;
4. the neutral expression: all coefficients zero, clamped to the training range.
"""

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor, nn

COEFFICIENTS_KEY = "expr"
"""Camera and ray metadata key of the coefficients ([..., K]), as the datamanager and saved camera paths write it."""
EXTRAPOLATE_KEY = "expr_extrapolate"
"""Camera and ray metadata flag: render the coefficients as given, also outside the training range."""
METADATA_KEYS = ("expression_names", "expr_min", "expr_max", "expressions")
"""What the nerfblend dataparser's metadata holds for the model: names, the training range and the training
frames' coefficients."""


@dataclass(frozen=True)
class ResolvedCoefficients:
    """The coefficients a camera renders with, and whether they may be clamped."""

    coefficients: Float[Tensor, "1 k"]
    extrapolate: bool


class ExpressionSpace(nn.Module):
    """The coefficients' names, their training values and range, as buffers (saved with the model).

    Args:
        names: K coefficient names.
        training: [N, K] the training frames' coefficients, in training-split order.
        minimum, maximum: [K] the training range of each coefficient.
        clamp: clamp coefficients to the training range unless told to extrapolate, as the paper's code does.
    """

    def __init__(
        self,
        names: Sequence[str],
        training: Float[Tensor, "n k"],
        minimum: Float[Tensor, "k"],
        maximum: Float[Tensor, "k"],
        clamp: bool = True,
    ) -> None:
        super().__init__()
        self.names: List[str] = list(names)
        self.register_buffer("training_coefficients", training.float().clone())
        self.register_buffer("minimum", minimum.float().clone())
        self.register_buffer("maximum", maximum.float().clone())
        self.clamps = clamp

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, object], clamp: bool = True) -> "ExpressionSpace":
        """From the nerfblend dataparser's outputs' metadata."""
        missing = [key for key in METADATA_KEYS if key not in metadata]
        if missing:
            raise ValueError(f"nerfblend needs the nerfblend-data dataparser; its metadata lacks {', '.join(missing)}")
        return cls(metadata["expression_names"], metadata["expressions"], metadata["expr_min"], metadata["expr_max"], clamp)

    @property
    def num_coefficients(self) -> int:
        return len(self.names)

    def neutral(self) -> Float[Tensor, "k"]:
        """Zero coefficients, clamped to the training range (a coefficient never at zero stays at its nearest value)."""
        return self.clamp(torch.zeros_like(self.minimum))

    def clamp(self, coefficients: Float[Tensor, "*n k"]) -> Float[Tensor, "*n k"]:
        """`coefficients` clamped to the training range."""
        return torch.minimum(torch.maximum(coefficients, self.minimum), self.maximum)

    def as_rendered(self, coefficients: Float[Tensor, "*n k"], extrapolate: bool = False) -> Float[Tensor, "*n k"]:
        """What is rendered for `coefficients`: clamped to the training range, unless extrapolating or the
        avatar's clamping is off. The one place where the clamping policy is applied."""
        return coefficients if extrapolate or not self.clamps else self.clamp(coefficients)

    def of_rays(self, metadata: Dict[str, object], num_rays: int) -> Float[Tensor, "r k"]:
        """[R, K] the coefficients rays carry in their `metadata`, clamped unless the rays say to extrapolate."""
        if COEFFICIENTS_KEY not in metadata:
            raise ValueError(f"nerfblend rays need metadata['{COEFFICIENTS_KEY}'] (per-ray expression coefficients)")
        coefficients = metadata[COEFFICIENTS_KEY].reshape(num_rays, -1).float()
        return self.as_rendered(coefficients, bool(metadata.get(EXTRAPOLATE_KEY, False)))

    def resolve(self, camera: Cameras, viewer: Optional[Float[Tensor, "k"]] = None) -> ResolvedCoefficients:
        """The coefficients `camera` renders with (the module's docstring gives the order); `viewer`: the viewer
        controls' coefficients while they are active, else None."""
        metadata = camera.metadata or {}
        like = self.training_coefficients
        if COEFFICIENTS_KEY in metadata:
            coefficients = metadata[COEFFICIENTS_KEY].reshape(-1, self.num_coefficients)[:1].to(like)
            return ResolvedCoefficients(coefficients, bool(metadata.get(EXTRAPOLATE_KEY, False)))
        if viewer is not None:
            return ResolvedCoefficients(viewer.reshape(1, -1).to(like), True)
        frame = metadata.get("cam_idx")
        if frame is not None and 0 <= int(frame) < like.shape[0]:
            return ResolvedCoefficients(like[int(frame)][None], False)
        return ResolvedCoefficients(self.neutral()[None], False)

    def for_camera(self, camera: Cameras, viewer: Optional[Float[Tensor, "k"]] = None) -> Float[Tensor, "1 k"]:
        """[1, K] what `camera` renders with, clamped unless it is to be extrapolated."""
        resolved = self.resolve(camera, viewer)
        return self.as_rendered(resolved.coefficients, resolved.extrapolate)
