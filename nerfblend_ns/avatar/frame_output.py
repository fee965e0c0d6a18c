"""Writes rendered frames as they come: an H.264 MP4 and/or numbered PNG files.

MP4s are encoded with PyAV (a nerfstudio dependency that bundles FFmpeg's libraries), so no
`ffmpeg` program is needed; PNG output works without PyAV.
"""

from fractions import Fraction
from pathlib import Path
from typing import List, Literal, Optional

import numpy as np
from PIL import Image

OutputFormat = Literal["mp4", "png", "both"]


def _even(frame: np.ndarray) -> np.ndarray:
    """[H, W, 3] padded with white to even sides, which H.264's 4:2:0 chroma needs."""
    height, width = frame.shape[:2]
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), constant_values=255)


class FrameWriter:
    """Context manager: `write` frames of one size; `paths` lists what was written.

    Args:
        output: the MP4's path; PNG frames go to the folder of the same name without suffix.
        formats: mp4, png or both.
        fps: frames per second of the MP4.
    """

    def __init__(self, output: Path, formats: OutputFormat, fps: float):
        self.video_path = output.with_suffix(".mp4") if formats in ("mp4", "both") else None
        self.frames_dir = output.with_suffix("") if formats in ("png", "both") else None
        self.fps = fps
        self.count = 0
        self._container = None
        self._stream = None
        self._size: Optional[tuple] = None

    @property
    def paths(self) -> List[Path]:
        return [path for path in (self.video_path, self.frames_dir) if path is not None]

    def __enter__(self) -> "FrameWriter":
        for path in self.paths:
            (path if path == self.frames_dir else path.parent).mkdir(parents=True, exist_ok=True)
        return self

    def write(self, frame: np.ndarray) -> None:
        """frame: [H, W, 3] uint8 RGB."""
        if self._size is None:
            self._size = frame.shape
        elif frame.shape != self._size:
            raise ValueError(f"frame {self.count} is {frame.shape}, the first was {self._size}")
        if self.frames_dir is not None:
            Image.fromarray(frame).save(self.frames_dir / f"{self.count:05d}.png")
        if self.video_path is not None:
            self._encode(_even(frame))
        self.count += 1

    def _encode(self, frame: np.ndarray) -> None:
        try:
            import av  # imported here, so that PNG output works where PyAV is not installed
        except ImportError as error:
            raise ImportError("MP4 output needs PyAV (pip install av); --output-format png needs nothing more") from error

        if self._container is None:
            self._container = av.open(str(self.video_path), mode="w")
            self._stream = self._container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
            self._stream.height, self._stream.width = frame.shape[:2]
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"crf": "18"}
        self._container.mux(self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))

    def __exit__(self, *exc) -> None:
        if self._container is not None:
            self._container.mux(self._stream.encode(None))
            self._container.close()
