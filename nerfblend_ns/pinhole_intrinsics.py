"""Pinhole intrinsics in pixels: the one camera model the tracker writes, the layouts read and the
synthetic head renders with."""

from dataclasses import dataclass
from typing import Dict


@dataclass(frozen=True)
class PinholeIntrinsics:
    """Pinhole camera in pixels, principal point measured from the top-left corner."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def to_json(self) -> Dict[str, float]:
        """The workspace's transforms.json keys."""
        return {"w": self.width, "h": self.height, "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy}
