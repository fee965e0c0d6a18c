"""Which expression coefficients a camera is rendered with.

Order: the camera's own `metadata["expr"]` (dataset cameras, `ns-eval`, `ns-render dataset`);
the training frame the viewer's camera was clicked on (`metadata["cam_idx"]`); the neutral
expression (all coefficients zero).
"""

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor


def resolve_camera_expression(camera: Cameras, train_expressions: Float[Tensor, "n k"]) -> Float[Tensor, "1 k"]:
    metadata = camera.metadata or {}
    if "expr" in metadata:
        return metadata["expr"].reshape(-1, train_expressions.shape[1])[:1].to(train_expressions)
    frame = metadata.get("cam_idx")
    if frame is not None and 0 <= int(frame) < train_expressions.shape[0]:
        return train_expressions[int(frame)][None]
    return torch.zeros_like(train_expressions[:1])
