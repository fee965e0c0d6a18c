"""How much of a frame's error lies on the head's silhouette: the band of pixels within a few pixels of the
head mask's boundary.

On real video most of the full-frame squared error can sit in that band (hair outline, ears, jaw line)
while it holds a few percent of the pixels: a mask boundary that moves with respect to the head from frame
to frame, a pose error, or a soft rendered edge against the mask's hard one. The share tells whether a
change of the full-frame PSNR comes from the silhouette or from the inside of the head; it is a diagnosis
beside the protocol's scores, not a score that replaces them (no pixel is left out of those).
"""

from typing import Dict

import cv2
import numpy as np
import torch
from jaxtyping import Bool, Float
from torch import Tensor

SILHOUETTE_BAND_PX = 3
"""Half-width of the band: a pixel belongs to it when head and background pixels both lie within this
many pixels of it (a square neighbourhood): what a one- or two-pixel misalignment of the outline reaches."""


def silhouette_band(head_mask: Bool[Tensor, "h w"], half_width: int = SILHOUETTE_BAND_PX) -> Bool[Tensor, "h w"]:
    """Pixels with both a head pixel and a background pixel within `half_width` (Chebyshev distance); pixels
    outside the image count as neither. On the mask's device; computed on the CPU, where OpenCV's square
    dilation is a hundred times faster than a pooling in torch (the tracker takes it for every frame)."""
    mask = head_mask.cpu().numpy().astype(np.uint8)  # [H, W]
    square = np.ones((2 * half_width + 1,) * 2, np.uint8)
    near_head = cv2.dilate(mask, square, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    near_background = cv2.erode(mask, square, borderType=cv2.BORDER_CONSTANT, borderValue=1) == 0
    return torch.from_numpy(near_head & near_background).to(head_mask.device)


def silhouette_error(
    prediction: Float[Tensor, "h w 3"],
    ground_truth: Float[Tensor, "h w 3"],
    head_mask: Float[Tensor, "h w 1"],
    half_width: int = SILHOUETTE_BAND_PX,
) -> Dict[str, float]:
    """`error_share`: the fraction of the frame's squared error inside the silhouette band (0 for a perfect
    frame); `band_fraction`: the fraction of the frame's pixels in it."""
    band = silhouette_band(head_mask[..., 0] > 0.5, half_width)
    squared = ((prediction.clamp(0.0, 1.0) - ground_truth) ** 2).mean(dim=-1)  # [H, W]
    total = float(squared.sum())
    share = float(squared[band].sum()) / total if total > 0.0 else 0.0
    return {"error_share": share, "band_fraction": float(band.float().mean())}
