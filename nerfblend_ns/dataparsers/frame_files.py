"""Checks and reads a frame's image and head mask, naming the file in every error."""

from pathlib import Path
from typing import Optional, Tuple

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from nerfblend_ns.dataparsers.tracked_sequence import MaskEncoding
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.mask_holes import filled_holes

PARSING_HEAD_BGR = (255, 0, 0)
"""Head pixels in face-parsing images are RGB (0, 0, 255), read by OpenCV as BGR."""
PARSING_RED_NOT_HEAD = (0, 90)
"""Red-channel class codes of red-coded face parsing that are not head: background and clothing."""
DIFFERENCE_THRESHOLD = 30
"""Per-channel difference to the background (of 255) above which a pixel is foreground: video
compression noise on a static background stays below it, skin and hair against a wall rise above."""
CLEANUP_FRACTION = 1 / 64
"""Side of the morphological cleanup kernel as a fraction of the shorter image side."""
JPEG_START, JPEG_SCAN, JPEG_END = b"\xff\xd8", b"\xff\xda", b"\xff\xd9"
PNG_START, PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"


def _header(path: Path) -> Tuple[Tuple[int, int], Tuple[str, ...]]:
    """(width, height) and channel names from the file header, without decoding the pixels."""
    if not path.is_file():
        raise WorkspaceError(path, "image file not found")
    try:
        with Image.open(path) as image:
            return image.size, image.getbands()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise WorkspaceError(path, f"unreadable image ({error})") from None


def image_size(path: Path) -> Tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels."""
    return _header(path)[0]


def has_alpha(path: Path) -> bool:
    """Whether the image stores an alpha channel, from the file header."""
    return "A" in _header(path)[1]


def read_head_mask(path: Path, encoding: MaskEncoding, background: Optional[Path] = None) -> np.ndarray:
    """Boolean head mask [H, W]; an empty mask is an error, as no head frame has one.

    `background` is the sequence's static background image, which `background-difference` compares to.
    """
    if not path.is_file():
        raise WorkspaceError(path, "mask file not found")
    if encoding == "background-difference":
        mask = _differs_from_background(path, background)
    else:
        mask = _DECODERS[encoding](path)
    if not mask.any():
        raise WorkspaceError(path, "mask is empty (no head pixel)")
    return mask


def read_rgb(path: Path) -> np.ndarray:
    """uint8 RGB image [H, W, 3]."""
    return cv2.cvtColor(_decode_whole(path, cv2.IMREAD_COLOR, "image"), cv2.COLOR_BGR2RGB)


def _read_mask_pixels(path: Path, flags: int) -> np.ndarray:
    return _decode_whole(path, flags, "mask image")


def _decode_whole(path: Path, flags: int, what: str) -> np.ndarray:
    """The decoded file, refused if it is cut short.

    OpenCV (and PIL) decode a truncated JPEG without an error, the missing rows flat grey, so a file
    without its format's end marker (a JPEG's end of image after its last scan, a PNG's IEND chunk)
    is refused before decoding; the check reads only bytes the decoder reads anyway.
    """
    if not path.is_file():
        raise WorkspaceError(path, f"{what} file not found")
    data = path.read_bytes()
    if _is_truncated(data):
        raise WorkspaceError(
            path, f"truncated {what}: the file ends before its format's end marker (an interrupted copy or write); "
            "copy or extract it again"
        )
    try:
        # Pixels as stored: a JPEG's EXIF orientation would turn the image against its mask and camera,
        # whose sizes describe the stored pixels (as the header's size does).
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error as error:  # e.g. a header claiming more pixels than OpenCV decodes
        raise WorkspaceError(path, f"unreadable {what} (OpenCV refuses it: {error.err})") from None
    if pixels is None:
        raise WorkspaceError(path, f"unreadable {what}")
    return pixels


def _is_truncated(data: bytes) -> bool:
    if data.startswith(JPEG_START):
        # Entropy-coded data stuffs every 0xFF, so an end marker after the last scan header is the image's
        # own; data a writer appends after it (a trailer, a motion photo) is allowed.
        last_scan = data.rfind(JPEG_SCAN)
        return last_scan < 0 or data.find(JPEG_END, last_scan) < 0
    if data.startswith(PNG_START):
        return data.find(PNG_END, len(PNG_START)) < 0
    return False  # other formats: their decoder's own checks


def _above_half(channel: np.ndarray) -> np.ndarray:
    return channel > (127 if channel.dtype == np.uint8 else 32767)


def _gray(path: Path) -> np.ndarray:
    pixels = _read_mask_pixels(path, cv2.IMREAD_UNCHANGED)
    if pixels.ndim == 3:
        pixels = pixels[..., 2] if pixels.shape[-1] >= 3 else pixels[..., 0]
    return _above_half(pixels)


def _parsing(path: Path) -> np.ndarray:
    return np.all(_read_mask_pixels(path, cv2.IMREAD_COLOR) == PARSING_HEAD_BGR, axis=-1)


def _parsing_red(path: Path) -> np.ndarray:
    return ~np.isin(_read_mask_pixels(path, cv2.IMREAD_COLOR)[..., 2], PARSING_RED_NOT_HEAD)


def _alpha(path: Path) -> np.ndarray:
    pixels = _read_mask_pixels(path, cv2.IMREAD_UNCHANGED)
    if pixels.ndim != 3 or pixels.shape[-1] != 4:
        raise WorkspaceError(path, "image has no alpha channel to take the head mask from")
    return _above_half(pixels[..., 3])


_DECODERS = {"gray": _gray, "parsing": _parsing, "parsing-red": _parsing_red, "alpha": _alpha}


def _differs_from_background(path: Path, background: Optional[Path]) -> np.ndarray:
    """The largest region that differs from the static background, cleaned of speckles, its holes filled.

    It is the whole person in front of the background: neck and shoulders belong to it as much as the head.
    """
    if background is None:
        raise WorkspaceError(path, "a background-difference mask needs the sequence's background image")
    image = read_rgb(path)  # [H, W, 3]
    plate = read_rgb(background)
    if plate.shape != image.shape:
        plate = cv2.resize(plate, image.shape[1::-1], interpolation=cv2.INTER_AREA)
    differs = (np.abs(image.astype(np.int16) - plate).max(axis=-1) > DIFFERENCE_THRESHOLD).astype(np.uint8)
    side = max(3, int(min(image.shape[:2]) * CLEANUP_FRACTION) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    differs = cv2.morphologyEx(cv2.morphologyEx(differs, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    return filled_holes(_largest_component(differs))


def _largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return np.zeros(mask.shape, bool)
    return labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])
