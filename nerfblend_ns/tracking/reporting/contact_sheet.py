"""A grid of tracked frames with what was tracked drawn on them, for a look at a workspace's quality."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import cv2
import numpy as np

TILE = 320
COLUMNS = 4
_GREEN, _CYAN, _RED, _WHITE = (0, 220, 0), (255, 220, 0), (0, 0, 255), (255, 255, 255)  # BGR


@dataclass(frozen=True)
class SheetFrame:
    """One tile's content."""

    image_path: Path
    mask_path: Path
    video_index: int
    landmarks: np.ndarray
    """[478, 2] pixels of the workspace image."""
    mouth_rect: Sequence[float]
    top_coefficients: List[str]
    """Lines such as 'jawOpen 0.62'."""


def _label(tile: np.ndarray, lines: List[str]) -> None:
    for row, line in enumerate(lines):
        origin = (6, 18 + 17 * row)
        cv2.putText(tile, line, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(tile, line, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.45, _WHITE, 1, cv2.LINE_AA)


def _tile(frame: SheetFrame) -> np.ndarray:
    image = cv2.imread(str(frame.image_path), cv2.IMREAD_COLOR)  # [S, S, 3] BGR
    mask = cv2.imread(str(frame.mask_path), cv2.IMREAD_GRAYSCALE) > 127  # [S, S]
    scale = TILE / image.shape[0]
    tile = cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask.astype(np.uint8), (TILE, TILE), interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(small_mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(tile, contours, -1, _GREEN, 1, cv2.LINE_AA)
    for x, y in np.round(frame.landmarks * scale).astype(int):
        cv2.circle(tile, (int(x), int(y)), 1, _CYAN, -1)
    x0, y0, x1, y1 = (int(round(value * scale)) for value in frame.mouth_rect)
    cv2.rectangle(tile, (x0, y0), (x1, y1), _RED, 1)
    _label(tile, [f"frame {frame.video_index}"] + frame.top_coefficients)
    return tile


def write_contact_sheet(path: Path, frames: List[SheetFrame]) -> None:
    """PNG grid of the frames' tiles, COLUMNS wide."""
    tiles = [_tile(frame) for frame in frames]
    rows = -(-len(tiles) // COLUMNS)
    sheet = np.zeros((rows * TILE, COLUMNS * TILE, 3), np.uint8)
    for position, tile in enumerate(tiles):
        row, column = divmod(position, COLUMNS)
        sheet[row * TILE : (row + 1) * TILE, column * TILE : (column + 1) * TILE] = tile
    if not cv2.imwrite(str(path), sheet):
        raise OSError(f"could not write {path}")


def top_coefficient_lines(names: Sequence[str], values: np.ndarray, count: int = 3) -> List[str]:
    """'name value' lines of the count largest coefficients of values [K]."""
    order = np.argsort(values)[::-1][:count]
    return [f"{names[k]} {values[k]:.2f}" for k in order]


def sheet_positions(num_frames: int, count: int) -> np.ndarray:
    """Evenly spaced positions [≤ count] among num_frames frames."""
    return np.unique(np.linspace(0, num_frames - 1, min(count, num_frames)).round().astype(int))
