"""A tracked head video in memory, independent of the layout it was read from."""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Literal, Optional, Tuple

import numpy as np

from nerfblend_ns.dataparsers.landmark_file import FrameLandmarks
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

Rect = Tuple[float, float, float, float]
"""[x0, y0, x1, y1] in pixels, origin at the top-left image corner."""

MaskEncoding = Literal["gray", "parsing", "parsing-red", "alpha", "background-difference"]
"""How a frame's `mask_path` holds its head mask.

`gray`: 8-bit mask, > 127 is head. `parsing`: face-parsing colours, head pixels RGB (0, 0, 255).
`parsing-red`: face-parsing classes coded in the red channel, 0 is background and 90 clothing, any
other value is head. `alpha`: the path is the frame's RGBA image, alpha > 127 is head.
`background-difference`: the path is the frame's image; the head is what differs from the
sequence's static background image.
"""


@dataclass
class SequenceFrame:
    """One video frame: where its pixels are, how it was seen and which expression it shows."""

    image_path: Path
    mask_path: Path
    camera_to_world: np.ndarray  # [4, 4] OpenGL axes, workspace units
    expression: np.ndarray  # [K]
    intrinsics: PinholeIntrinsics
    mouth_rect: Optional[Rect] = None
    face_rect: Optional[Rect] = None


@dataclass
class TrackedSequence:
    """All frames of a tracked video in video order, with what is needed to interpret them."""

    layout: str
    """Name of the on-disk layout the sequence was read from."""
    source: Path
    """The file the sequence was described by (for error messages)."""
    expression_names: List[str]
    frames: List[SequenceFrame]
    head_radius: float
    """Radius around the world origin that holds the head, in workspace units."""
    mask_encoding: MaskEncoding = "gray"
    background_path: Optional[Path] = None
    default_test_frames: Optional[int] = None
    """Test-split size the layout's own release uses, if it has one."""
    predefined_splits: Optional[Dict[str, List[int]]] = None
    """Indices into `frames` of each split (train, val, test) where the data is published with its splits."""
    landmarks: Optional[FrameLandmarks] = None
    """Face landmarks of every frame, where the data has them (a workspace's landmarks.npz)."""

    @property
    def num_expressions(self) -> int:
        return len(self.expression_names)
