"""Renders one camera of a nerfblend model at given expression coefficients, on white, and the ground truth
it is compared with."""

from typing import Optional

import numpy as np
import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.data.datasets.base_dataset import InputDataset
from PIL import Image
from torch import Tensor

from nerfblend_ns.expression_space import COEFFICIENTS_KEY, EXTRAPOLATE_KEY
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white
from nerfblend_ns.models.nerfblend_model import NerfBlendModel


def camera_at(camera: Cameras, coefficients: Optional[Float[Tensor, "k"]], extrapolate: bool = False) -> Cameras:
    """A copy of one camera carrying `coefficients` (None: the camera's own, if any).

    Without `extrapolate` the model clamps the coefficients to its training range, as in evaluation.
    """
    metadata = {key: value for key, value in (camera.metadata or {}).items() if key != COEFFICIENTS_KEY}
    if coefficients is not None:
        metadata[COEFFICIENTS_KEY] = coefficients.reshape(1, -1).float()
    elif camera.metadata and COEFFICIENTS_KEY in camera.metadata:
        metadata[COEFFICIENTS_KEY] = camera.metadata[COEFFICIENTS_KEY].reshape(1, -1)
    metadata[EXTRAPOLATE_KEY] = extrapolate
    return Cameras(
        camera_to_worlds=camera.camera_to_worlds.reshape(1, 3, 4), fx=camera.fx.reshape(1, 1), fy=camera.fy.reshape(1, 1),
        cx=camera.cx.reshape(1, 1), cy=camera.cy.reshape(1, 1), width=camera.width.reshape(1, 1),
        height=camera.height.reshape(1, 1), camera_type=camera.camera_type.reshape(1, 1), metadata=metadata,
        distortion_params=None if camera.distortion_params is None else camera.distortion_params.reshape(1, -1),
    )


def scaled(cameras: Cameras, downscale: int) -> Cameras:
    """A copy of the [N] cameras rendering images `downscale` times smaller."""
    copy = cameras[torch.arange(cameras.shape[0])]
    if downscale != 1:
        copy.rescale_output_resolution(1.0 / downscale)
    return copy


@torch.no_grad()
def render_rgb(
    model: NerfBlendModel, camera: Cameras, coefficients: Optional[Float[Tensor, "k"]] = None, extrapolate: bool = False
) -> np.ndarray:
    """[H, W, 3] uint8 image of one camera at `coefficients` (see `camera_at`), the head on white."""
    outputs = model.get_outputs_for_camera(camera_at(camera, coefficients, extrapolate).to(model.device))
    return (outputs["rgb"].clamp(0.0, 1.0) * 255.0 + 0.5).byte().cpu().numpy()


def ground_truth_rgb(dataset: InputDataset, index: int, height: int, width: int) -> np.ndarray:
    """[height, width, 3] uint8: frame `index`'s head on white, as the metrics score it, resized (box filter)
    to a render's size when that differs."""
    item = dataset[index]
    truth = ground_truth_on_white(item["image"][..., :3].float(), item["head_mask"].float())
    truth = (truth.clamp(0.0, 1.0) * 255.0 + 0.5).byte().numpy()
    if truth.shape[:2] != (height, width):
        truth = np.array(Image.fromarray(truth).resize((width, height), Image.BOX))
    return truth
