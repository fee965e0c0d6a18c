"""Scores inside the face region: pixels of the face oval, compared with the frame's own pixels.

The region comes from landmarks (or a box), never from the head mask, and the target inside it is the
captured image itself, not the image composed on white: a smaller or different mask can only lose
face pixels, never make the region easier (docs/benchmarks.md).

- PSNR: from the mean squared error over the region's pixels and channels.
- SSIM: the full-frame SSIM map (Gaussian window of 11 pixels) averaged over the region's pixels, so a
  window at the oval's edge also sees the pixels just outside it.
- LPIPS: on the region's bounding box (grown to at least LPIPS_MIN_SIZE pixels a side), with the
  prediction's pixels outside the region replaced by the target's, so that only the region differs.
"""

from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
from jaxtyping import Bool, Float
from torch import Tensor
from torchmetrics.functional import structural_similarity_index_measure

LPIPS_MIN_SIZE = 32
"""Smallest side of the crop LPIPS sees: VGG's pooling leaves too few features of a smaller one."""

def polygon_region(polygon: Float[np.ndarray, "p 2"], height: int, width: int) -> Bool[np.ndarray, "h w"]:
    """Pixels whose centre lies inside the polygon (pixel coordinates, origin at the top-left image corner;
    even-odd rule). Exact where OpenCV's fillPoly would also take pixels the edges only touch."""
    vertices = np.asarray(polygon, dtype=np.float64)  # [P, 2]
    start, end = vertices, np.roll(vertices, -1, axis=0)
    cols, rows = np.arange(width) + 0.5, np.arange(height) + 0.5
    inside = np.zeros((height, width), bool)
    for (x0, y0), (x1, y1) in zip(start, end):
        # Rows whose centre line this edge crosses (half-open, so a shared vertex counts once) ...
        crossed = (rows >= min(y0, y1)) & (rows < max(y0, y1))
        if not crossed.any():
            continue
        x_cross = x0 + (rows[crossed] - y0) * (x1 - x0) / (y1 - y0)  # [R]
        # ... flip the pixels of those rows left of the crossing.
        inside[crossed] ^= cols[None, :] < x_cross[:, None]
    return inside


def ellipse_region(rect: Sequence[float], height: int, width: int) -> Bool[np.ndarray, "h w"]:
    """Pixels whose centre lies inside the ellipse inscribed in the box [x0, y0, x1, y1]."""
    x0, y0, x1, y1 = (float(value) for value in rect)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    semi_x, semi_y = max((x1 - x0) / 2, 1e-6), max((y1 - y0) / 2, 1e-6)
    return ((cols - (x0 + x1) / 2) / semi_x) ** 2 + ((rows - (y0 + y1) / 2) / semi_y) ** 2 <= 1.0


def _lpips_box(region: Tensor, minimum: int) -> tuple:
    """(row slice, column slice) of the region's bounding box, grown about its centre to `minimum` a side."""
    bounds = []
    for axis in (1, 0):  # rows are where any column is set, and the other way round
        indices = torch.nonzero(region.any(dim=axis)).flatten()
        low, high, size = int(indices[0]), int(indices[-1]) + 1, region.shape[1 - axis]
        grow = max(minimum - (high - low), 0)
        low = max(min(low - grow // 2, size - minimum), 0)
        bounds.append(slice(low, min(max(high, low + minimum), size)))
    return tuple(bounds)


def region_metrics(
    prediction: Float[Tensor, "h w 3"],
    target: Float[Tensor, "h w 3"],
    region: Bool[Tensor, "h w"],
    lpips: Optional[Callable[[Tensor, Tensor], Tensor]],
) -> Dict[str, float]:
    """PSNR, SSIM and (with its weights) LPIPS of `prediction` against `target` inside a non-empty `region`."""
    if not bool(region.any()):
        raise ValueError("the region has no pixels")
    prediction = prediction.clamp(0.0, 1.0)
    inside = region.to(prediction.device)
    mse = torch.mean((prediction[inside] - target[inside]) ** 2)
    as_batch = lambda image: image.permute(2, 0, 1)[None]  # noqa: E731  [1, 3, H, W]
    _, ssim_map = structural_similarity_index_measure(
        as_batch(prediction), as_batch(target), data_range=1.0, return_full_image=True
    )  # [1, 3, H, W]
    metrics = {
        "psnr": float(-10.0 * torch.log10(mse.clamp(min=1e-10))),
        "ssim": float(ssim_map[0].mean(dim=0)[inside].mean()),
    }
    if lpips is not None:
        rows, cols = _lpips_box(inside, LPIPS_MIN_SIZE)
        outside_equal = torch.where(inside[..., None], prediction, target)
        metrics["lpips"] = float(lpips(as_batch(outside_equal[rows, cols]), as_batch(target[rows, cols])).mean())
    return metrics
