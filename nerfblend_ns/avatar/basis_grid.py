"""The expression bases one at a time (paper Fig. 9), and a labelled grid of their images."""

import math
from typing import List, Sequence, Tuple

import numpy as np
import torch
from jaxtyping import Float
from PIL import Image, ImageDraw
from torch import Tensor

LABEL_HEIGHT = 14
"""Pixels of the caption strip under each tile."""


def basis_expressions(
    names: Sequence[str], maximum: Float[Tensor, "k"]
) -> List[Tuple[str, Float[Tensor, "k"]]]:
    """(label, coefficients) of the mean h0 (all zero) and of each h0 + ŵ_i·h_i, ŵ_i the training maximum.

    These are the expressions the occupancy grid covers (paper §3.3); they lie outside the training
    range wherever a coefficient's minimum is above zero, so they are rendered unclamped.
    """
    zeros = torch.zeros_like(maximum)
    bases = [("h0 (mean)", zeros)]
    for index, name in enumerate(names):
        coefficients = zeros.clone()
        coefficients[index] = maximum[index]
        bases.append((f"{name} {float(maximum[index]):.2f}", coefficients))
    return bases


def labelled_grid(tiles: Sequence[Tuple[str, np.ndarray]], columns: int = 0) -> np.ndarray:
    """[H', W', 3] uint8: the [H, W, 3] tiles in rows of `columns` (0: a near-square grid), each captioned."""
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    height, width = tiles[0][1].shape[:2]
    cell = height + LABEL_HEIGHT
    sheet = Image.new("RGB", (columns * width, rows * cell), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (label, tile) in enumerate(tiles):
        left, top = (index % columns) * width, (index // columns) * cell
        sheet.paste(Image.fromarray(tile), (left, top))
        draw.text((left + 2, top + height + 1), _fitted(draw, label, width - 4), fill="black")
    return np.asarray(sheet)


def _fitted(draw: ImageDraw.ImageDraw, label: str, width: int) -> str:
    """`label`, shortened with an ellipsis to fit `width` pixels so that captions do not overlap."""
    if draw.textlength(label) <= width:
        return label
    while label and draw.textlength(label + "…") > width:
        label = label[:-1]
    return label + "…" if label else ""
