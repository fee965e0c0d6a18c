"""`nerfblend-synthetic`: writes a demo workspace (docs/workspace-format.md) of a procedural head."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np
import tyro
from rich.console import Console
from rich.progress import Progress
from rich.text import Text

from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE, FrameLandmarks, write_landmark_file
from nerfblend_ns.synthetic.procedural_head import (
    EXPRESSION_NAMES,
    PinholeCamera,
    face_oval_points,
    face_points,
    mouth_points,
    render_head,
    synthetic_clip,
)

MARKER_FILE = ".nerfblend-synthetic"
"""Written first into every workspace this tool makes, so a later run may rewrite it."""
TRANSFORMS_FILE = "transforms.json"
_FRAME_FILE = re.compile(r"(images|masks)/\d{5}\.png")


@dataclass(frozen=True)
class SyntheticConfig:
    """Render a procedural head clip into a tracked workspace."""

    output_dir: Path
    """Workspace folder to write; it must be absent, empty or an earlier synthetic workspace."""
    num_frames: int = 60
    """Number of video frames to render."""
    resolution: int = 128
    """Width and height of every frame in pixels."""
    seed: int = 0
    """Seed of the expression and head-pose trajectories."""
    overwrite: bool = False
    """Also write into a non-empty folder this tool did not make (its other files are kept)."""


class SyntheticWorkspaceError(Exception):
    """Settings out of range, or an output folder holding files that this tool did not write."""


def _check_request(config: SyntheticConfig) -> None:
    if config.num_frames < 1 or config.resolution < 16:
        raise SyntheticWorkspaceError(
            f"need num_frames ≥ 1 and resolution ≥ 16, got {config.num_frames} and {config.resolution}"
        )
    out = config.output_dir
    if out.exists() and not out.is_dir():
        raise SyntheticWorkspaceError(f"{out} exists and is not a folder")
    if config.overwrite or not out.exists() or (out / MARKER_FILE).is_file() or not any(out.iterdir()):
        return
    raise SyntheticWorkspaceError(
        f"refusing to write into {out}: it is not empty and was not made by nerfblend-synthetic; "
        "choose another --output-dir or pass --overwrite (files not named by the workspace are kept)"
    )


def _earlier_frame_files(out: Path) -> List[str]:
    """Frame files named by the earlier synthetic workspace in out, which this run may leave stale."""
    transforms = out / TRANSFORMS_FILE
    if not (out / MARKER_FILE).is_file() or not transforms.is_file():
        return []
    try:
        frames = json.loads(transforms.read_text())["frames"]
        names = [frame[key] for frame in frames for key in ("file_path", "mask_path")]
    except (ValueError, KeyError, TypeError):
        return []
    return [name for name in names if isinstance(name, str) and _FRAME_FILE.fullmatch(name)]


def _write_png(path: Path, pixels: np.ndarray) -> None:
    if not cv2.imwrite(str(path), pixels):
        raise OSError(f"could not write {path}")


def _write_frame(out: Path, index: int, expression: np.ndarray, camera: PinholeCamera) -> Dict:
    """Renders one frame into out and returns its transforms.json entry."""
    render = render_head(expression, camera)
    frame = {
        "file_path": f"images/{index:05d}.png",
        "mask_path": f"masks/{index:05d}.png",
        "transform_matrix": camera.camera_to_world.tolist(),
        "expression": expression.tolist(),
    }
    _write_png(out / frame["file_path"], cv2.cvtColor(render.rgb, cv2.COLOR_RGB2BGR))
    _write_png(out / frame["mask_path"], render.mask.astype(np.uint8) * 255)
    for key, points in (("mouth_rect", mouth_points(expression)), ("face_rect", face_points(expression))):
        rect = camera.pixel_rect(points)
        if rect is not None:  # the format makes rects optional; an off-image one has no pixels
            frame[key] = list(rect)
    return frame


def _face_oval(expression: np.ndarray, camera: PinholeCamera) -> np.ndarray:
    """[FACE_OVAL_POINTS, 3] pixels of the face oval and depth relative to its mean, in pixels at that depth
    (the scale of MediaPipe's relative z)."""
    points = face_oval_points(expression)
    depth = camera.depth(points)
    return np.column_stack([camera.project(points), (depth - depth.mean()) * camera.fx / depth.mean()])


def write_synthetic_workspace(config: SyntheticConfig, on_frame: Optional[Callable[[], None]] = None) -> Path:
    """Renders the clip into config.output_dir and returns the path of its transforms.json."""
    _check_request(config)
    out = config.output_dir
    stale = set(_earlier_frame_files(out))
    for folder in ("images", "masks"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    (out / MARKER_FILE).write_text(f"seed {config.seed}\n")

    clip = synthetic_clip(config.num_frames, config.seed)
    frames: List[Dict] = []
    ovals: List[np.ndarray] = []
    intrinsics = PinholeCamera.square(config.resolution, np.eye(4))
    for index, (expression, pose) in enumerate(zip(clip.expressions, clip.camera_to_world)):
        frame = _write_frame(out, index, expression, replace(intrinsics, camera_to_world=pose))
        frames.append(frame)
        ovals.append(_face_oval(expression, replace(intrinsics, camera_to_world=pose)))
        stale -= {frame["file_path"], frame["mask_path"]}
        if on_frame is not None:
            on_frame()

    meta = {
        "w": intrinsics.width, "h": intrinsics.height,
        "fx": intrinsics.fx, "fy": intrinsics.fy, "cx": intrinsics.cx, "cy": intrinsics.cy,
        "expression_names": list(EXPRESSION_NAMES),
        "frames": frames,
    }
    # The oval is projected from the known geometry, so the face region needs no tracker and no mask.
    write_landmark_file(
        out / LANDMARKS_FILE, [frame["file_path"] for frame in frames], FrameLandmarks("face-oval", np.stack(ovals))
    )
    transforms = out / TRANSFORMS_FILE
    transforms.write_text(json.dumps(meta, indent=2) + "\n")
    for name in stale:
        (out / name).unlink(missing_ok=True)
    return transforms


def entrypoint() -> None:
    config = tyro.cli(SyntheticConfig)
    try:
        _check_request(config)  # before the progress bar, so a refusal is all that prints
        with Progress(transient=True) as progress:
            task = progress.add_task("rendering frames", total=config.num_frames)
            transforms = write_synthetic_workspace(config, on_frame=lambda: progress.advance(task))
    except SyntheticWorkspaceError as error:
        Console(stderr=True).print(Text(f"error: {error}", style="red"))
        raise SystemExit(2) from None
    Console().print(Text(f"wrote {config.num_frames} frames of a synthetic head workspace to {transforms.parent}"))


if __name__ == "__main__":
    entrypoint()
