"""Options shared by the `nerfblend-render` subcommands, and writing their frames with progress."""

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from rich.console import Console
from rich.progress import track

from nerfblend_ns.avatar.frame_output import FrameWriter, OutputFormat
from nerfblend_ns.avatar.loading import LoadedAvatar
from nerfblend_ns.commands.setting_checks import within

CONSOLE = Console()
MAX_DOWNSCALE = 64
"""A 512² camera at the largest downscale renders 8² images: past it nothing is left to see."""
MAX_FPS = 1000.0


@dataclass
class AvatarOptions:
    """Which trained avatar to render, and how large."""

    load_config: Path
    """config.yml of a trained nerfblend run, as ns-train wrote it (run from the folder ns-train ran in)."""
    downscale: int = 1
    """Render images this many times smaller than their cameras (quicker previews)."""

    def check_settings(self) -> None:
        """Refuses settings out of range before anything is loaded."""
        within("--downscale", self.downscale, 1, MAX_DOWNSCALE)


@dataclass
class VideoOptions(AvatarOptions):
    """Where and how a subcommand writes its frames."""

    output_path: Optional[Path] = None
    """Video to write, PNG frames to the folder of its name (default: the run folder's renders/<subcommand>.mp4)."""
    output_format: OutputFormat = "mp4"
    """mp4: an H.264 video; png: numbered PNG frames; both."""
    fps: float = 25.0
    """Frames per second of the video."""
    extrapolate: bool = False
    """Render coefficients outside the training range as given, not clamped (artifacts far outside, paper §6)."""

    def check_settings(self) -> None:
        super().check_settings()
        within("--fps", self.fps, 1e-3, MAX_FPS)

    def output(self, avatar: LoadedAvatar, name: str) -> Path:
        """The video's path: --output-path, else the run folder's renders/<name>.mp4."""
        return self.output_path or avatar.run_dir / "renders" / f"{name}.mp4"

    def write(self, avatar: LoadedAvatar, name: str, frames: Iterable[np.ndarray], total: int) -> FrameWriter:
        """Renders and writes `total` frames with a progress bar, then says where they are."""
        with FrameWriter(self.output(avatar, name), self.output_format, self.fps) as writer:
            for frame in track(frames, total=total, description=f"{name}: rendering", console=CONSOLE):
                writer.write(frame)
        CONSOLE.print(
            f"{name}: wrote {writer.count} frames to {' and '.join(str(path) for path in writer.paths)}", soft_wrap=True
        )
        return writer
