"""Which expression coefficients a camera is rendered with.

Resolution order, first match wins:

1. the camera's own `metadata["expr"]` (dataset cameras: training, `ns-eval`, `ns-render dataset`,
   and the cameras `nerfblend-render` builds); with `metadata[EXTRAPOLATE_KEY]` set they are
   rendered as given, otherwise the model clamps them to the training range;
2. the viewer's expression controls, while they are active (a control was touched and their
   "Use these coefficients" switch is on); rendered as set, the sliders bound them;
3. the training frame whose camera was clicked in the viewer (`metadata["cam_idx"]`, an index into
   the training split); `ns-render camera-path/spiral/interpolate --camera-idx N` sets it too;
4. the neutral expression: all coefficients zero, clamped to the training range.
"""

from dataclasses import dataclass
from typing import Optional

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor

EXTRAPOLATE_KEY = "expr_extrapolate"
"""Camera and ray metadata flag: render `expr` as given, also outside the training range."""


@dataclass(frozen=True)
class ResolvedExpression:
    """The coefficients a camera renders with, and whether the model may clamp them."""

    coefficients: Float[Tensor, "1 k"]
    extrapolate: bool


def neutral_expression(expr_min: Float[Tensor, "k"], expr_max: Float[Tensor, "k"]) -> Float[Tensor, "k"]:
    """Zero coefficients, clamped to the training range (a coefficient never at zero stays at its nearest value)."""
    return torch.minimum(torch.maximum(torch.zeros_like(expr_min), expr_min), expr_max)


def resolve_camera_expression(
    camera: Cameras,
    train_expressions: Float[Tensor, "n k"],
    expr_min: Float[Tensor, "k"],
    expr_max: Float[Tensor, "k"],
    viewer_expression: Optional[Float[Tensor, "k"]] = None,
) -> ResolvedExpression:
    """`viewer_expression`: the viewer controls' coefficients while they are active, else None."""
    metadata = camera.metadata or {}
    if "expr" in metadata:
        coefficients = metadata["expr"].reshape(-1, train_expressions.shape[1])[:1].to(train_expressions)
        return ResolvedExpression(coefficients, bool(metadata.get(EXTRAPOLATE_KEY, False)))
    if viewer_expression is not None:
        return ResolvedExpression(viewer_expression.reshape(1, -1).to(train_expressions), True)
    frame = metadata.get("cam_idx")
    if frame is not None and 0 <= int(frame) < train_expressions.shape[0]:
        return ResolvedExpression(train_expressions[int(frame)][None], False)
    return ResolvedExpression(neutral_expression(expr_min, expr_max)[None].to(train_expressions), False)
