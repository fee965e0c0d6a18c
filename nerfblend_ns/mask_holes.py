"""Holes in binary masks: background regions that a mask encloses."""

import cv2
import numpy as np
from jaxtyping import Bool


def filled_holes(mask: Bool[np.ndarray, "h w"]) -> Bool[np.ndarray, "h w"]:
    """`mask` with every background region that does not reach the image border (4-connected) added."""
    _, labels = cv2.connectedComponents((~mask).astype(np.uint8), connectivity=4)
    outside = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return mask | ~np.isin(labels, outside)
