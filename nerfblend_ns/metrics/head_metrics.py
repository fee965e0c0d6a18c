"""The evaluation protocol: full frame, prediction on white, ground truth = image·mask + white·(1 − mask).

Reports the set of the paper's Table 2: PSNR, SSIM, LPIPS (VGG), L1 and MSE, on images in [0, 1].
"""

from typing import Callable, Dict, Iterable, Optional, Tuple

import torch
from jaxtyping import Float
from torch import Tensor
from torchmetrics.functional import structural_similarity_index_measure

from nerfblend_ns.input_errors import InputError


class NonFiniteModelError(InputError):
    """The model holds or renders NaN or infinity: no metric of it means anything."""


def require_finite(parameters: Iterable[Tuple[str, Tensor]], prediction: Float[Tensor, "h w 3"]) -> None:
    """Refuses to score a model with non-finite weights or colours.

    A diverged checkpoint's NaN densities fail every occupancy test, so it renders a finite, empty white
    image that would score a plausible PSNR; its weights tell.
    """
    for name, parameter in parameters:
        bad = int((~torch.isfinite(parameter)).sum())
        if bad:
            raise NonFiniteModelError(
                f"the model's {name} holds {bad} NaN or infinite values (training diverged): no metric is reported; "
                "evaluate an earlier checkpoint"
            )
    bad = int((~torch.isfinite(prediction)).sum())
    if bad:
        raise NonFiniteModelError(f"the model renders {bad} NaN or infinite colour values: no metric is reported")


def ground_truth_on_white(image: Float[Tensor, "h w 3"], head_mask: Float[Tensor, "h w 1"]) -> Float[Tensor, "h w 3"]:
    return image * head_mask + (1.0 - head_mask)


def psnr(prediction: Float[Tensor, "h w 3"], ground_truth: Float[Tensor, "h w 3"]) -> float:
    """PSNR in dB of images in [0, 1] (the prediction clamped to it)."""
    mse = torch.mean((prediction.clamp(0.0, 1.0) - ground_truth) ** 2)
    return float(-10.0 * torch.log10(mse.clamp(min=1e-10)))


def image_metrics(
    prediction: Float[Tensor, "h w 3"],
    ground_truth: Float[Tensor, "h w 3"],
    lpips: Optional[Callable[[Tensor, Tensor], Tensor]],
) -> Dict[str, float]:
    """Metrics of one frame; LPIPS is left out, not faked, when its weights are unavailable."""
    prediction = prediction.clamp(0.0, 1.0)
    mse = torch.mean((prediction - ground_truth) ** 2)
    as_batch = lambda image: image.permute(2, 0, 1)[None]  # noqa: E731  [1, 3, H, W]
    metrics = {
        "psnr": psnr(prediction, ground_truth),
        "ssim": float(structural_similarity_index_measure(as_batch(prediction), as_batch(ground_truth), data_range=1.0)),
        "l1": float(torch.mean(torch.abs(prediction - ground_truth))),
        "mse": float(mse),
    }
    if lpips is not None:
        metrics["lpips"] = float(lpips(as_batch(prediction), as_batch(ground_truth)).mean())
    return metrics
