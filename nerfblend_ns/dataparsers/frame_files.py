"""Checks and reads a frame's image and head mask, naming the file in every error."""

from pathlib import Path
from typing import Tuple

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from nerfblend_ns.dataparsers.tracked_sequence import MaskEncoding
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

PARSING_HEAD_BGR = (255, 0, 0)
"""Head pixels in face-parsing images are RGB (0, 0, 255), read by OpenCV as BGR."""


def image_size(path: Path) -> Tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels."""
    if not path.is_file():
        raise WorkspaceError(path, "image file not found")
    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as error:
        raise WorkspaceError(path, f"unreadable image ({error})") from None


def read_head_mask(path: Path, encoding: MaskEncoding) -> np.ndarray:
    """Boolean head mask [H, W]; an empty mask is an error, as no head frame has one."""
    if not path.is_file():
        raise WorkspaceError(path, "mask file not found")
    if encoding == "parsing":
        pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)  # [H, W, 3] BGR
        mask = None if pixels is None else np.all(pixels == PARSING_HEAD_BGR, axis=-1)
    else:
        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if pixels is not None and pixels.ndim == 3:
            pixels = pixels[..., 2] if pixels.shape[-1] >= 3 else pixels[..., 0]
        mask = None if pixels is None else pixels > (127 if pixels.dtype == np.uint8 else 32767)
    if mask is None:
        raise WorkspaceError(path, "unreadable mask image")
    if not mask.any():
        raise WorkspaceError(path, "mask is empty (no head pixel)")
    return mask


def read_rgb(path: Path) -> np.ndarray:
    """uint8 RGB image [H, W, 3]."""
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if pixels is None:
        raise WorkspaceError(path, "unreadable image" if path.is_file() else "image file not found")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
