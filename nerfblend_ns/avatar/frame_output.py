"""Writes rendered frames as they come: an H.264 MP4 and/or numbered PNG files.

MP4s are encoded with PyAV (a nerfstudio dependency that bundles FFmpeg's libraries), so no
`ffmpeg` program is needed; PNG output works without PyAV.
"""

import os
from fractions import Fraction
from pathlib import Path
from typing import List, Literal, Optional

import numpy as np
from PIL import Image

from nerfblend_ns.avatar.owned_outputs import ForeignOutputError, partial_path, refuse_unless_ours

OutputFormat = Literal["mp4", "png", "both"]


VIDEO_MARK = "written by nerfblend-render"
"""The MP4's `comment` metadata: an existing video with it may be replaced."""
FRAMES_MARKER = ".nerfblend-render"
"""File in a PNG frame folder written by this command: a non-empty folder without it is not replaced into."""


def _our_video(path: Path) -> bool:
    try:
        import av

        with av.open(str(path)) as container:
            return container.metadata.get("comment") == VIDEO_MARK
    except Exception:  # PyAV missing, or not a video it can open: either way not ours to replace
        return False


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
        if self.video_path is not None:
            refuse_unless_ours(self.video_path, _our_video, "--output-path")
            self.video_path.parent.mkdir(parents=True, exist_ok=True)
        if self.frames_dir is not None:
            folder = self.frames_dir
            if folder.exists() and not (folder.is_dir() and (not any(folder.iterdir()) or (folder / FRAMES_MARKER).is_file())):
                raise ForeignOutputError(
                    f"{folder} holds files nerfblend-render did not write; they are kept: choose another --output-path "
                    "(PNG frames go to the folder of its name) or move them away"
                )
            folder.mkdir(parents=True, exist_ok=True)
            (folder / FRAMES_MARKER).touch()
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
            self._container = av.open(str(partial_path(self.video_path)), mode="w", format="mp4")
            self._container.metadata["comment"] = VIDEO_MARK
            self._stream = self._container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
            self._stream.height, self._stream.width = frame.shape[:2]
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"crf": "18"}
        self._container.mux(self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))

    def __exit__(self, kind, error, traceback) -> None:
        if self._container is None:
            return
        if kind is None:
            self._container.mux(self._stream.encode(None))
        self._container.close()
        if kind is None:
            os.replace(partial_path(self.video_path), self.video_path)
        else:  # a failed render leaves an earlier video as it was
            partial_path(self.video_path).unlink(missing_ok=True)
