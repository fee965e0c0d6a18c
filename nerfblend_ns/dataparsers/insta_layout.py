"""Reads INSTA data sets as published (the metrical-tracker export).

One subject folder holds `transforms_{train,val,test}.json`, each with top-level `w, h, cx, cy, fl_x,
fl_y` (pixels) and frames with `file_path` (`images/<id>.png`, RGBA, the alpha being the head matte),
`exp_path` (`flame/exp/<id>.txt`: the FLAME expression coefficients as text, one a line, 100 in the
tracker's default configuration), `seg_mask_path` (face parsing, class codes in the red channel) and
`transform_matrix`.

Cameras: the exporter inverts the tracker's OpenCV world-to-camera [R|t] (camera point R·X + t, pixel
K·(camera point)), so `transform_matrix` is a camera-to-world with OpenCV axes: x right, y down, looking
down +z. INSTA's renderer takes it as is, without the axis flip it applies to NeRF-style matrices.
Negating its y and z columns gives the OpenGL camera-to-world of the dataparser. The principal point is
used as written: INSTA's renderer, like nerfstudio, puts pixel centres at half-integer coordinates.

World: FLAME's canonical frame, fixed to the head (head motion is camera motion), in metres, +y up,
the face looking down +z; the tracker starts its camera 1 m away. FLAME's canonical head and neck lie
within about 16 cm of the origin (its scalp at y ≈ 0.13 m, the back of the skull at z ≈ −0.15 m).

Splits: the exporter's own (test = the last frames, 350 by default; val = the last 20 of them), used as
given. It writes frames in the order a worker pool finishes them, so they are put back in id order.
"""

import warnings
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from nerfblend_ns.dataparsers.frame_files import has_alpha
from nerfblend_ns.dataparsers.json_io import require_key
from nerfblend_ns.dataparsers.split_files import PublishedFrame, read_split_files, train_top_level
from nerfblend_ns.dataparsers.tracked_sequence import SequenceFrame, TrackedSequence
from nerfblend_ns.dataparsers.value_checks import finite_array, positive_number, rigid_transform
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

LAYOUT_NAME = "insta"
HEAD_RADIUS_M = 0.25
"""FLAME's head and neck reach about 16 cm from the origin; the rest is room for hair."""
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0, 1.0])
"""Right-multiplied onto a camera-to-world, turns OpenCV camera axes into OpenGL ones."""


def is_insta(root: Path) -> bool:
    meta = train_top_level(root)
    return meta is not None and "fl_x" in meta


def _intrinsics(meta: Dict[str, Any], path: Path) -> PinholeIntrinsics:
    def number(key: str) -> float:
        return positive_number(require_key(meta, key, path, "the top level"), path, f"'{key}'")

    return PinholeIntrinsics(
        width=int(number("w")), height=int(number("h")),
        fx=number("fl_x"), fy=number("fl_y"), cx=number("cx"), cy=number("cy"),
    )


def _coefficients(path: Path, count: Optional[int]) -> np.ndarray:
    """[K] coefficients of a text file; K must be `count` where given."""
    if not path.is_file():
        raise WorkspaceError(path, "expression coefficient file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an empty file is reported below, naming it
            values = np.loadtxt(path, dtype=np.float64, ndmin=1)
    except ValueError as error:
        raise WorkspaceError(path, f"malformed coefficients ({error})") from None
    if values.ndim != 1 or values.size == 0:
        raise WorkspaceError(path, "expected one coefficient a line")
    if count is not None and values.size != count:
        raise WorkspaceError(path, f"holds {values.size} coefficients, expected {count} like the first frame")
    return finite_array(values, values.shape, path, "the coefficients")


def read_insta(root: Path) -> TrackedSequence:
    published = read_split_files(root, in_file_path_order=True)
    intrinsics = {path: _intrinsics(meta, path) for path, meta in published.top_levels.items()}
    matte = has_alpha(root / published.frames[0].file_path)
    frames = []
    for frame in published.frames:
        expression = _coefficients(_path(root, frame, "exp_path"), frames[0].expression.size if frames else None)
        image_path = root / frame.file_path
        frames.append(
            SequenceFrame(
                image_path=image_path,
                mask_path=image_path if matte else _path(root, frame, "seg_mask_path"),
                camera_to_world=_opencv_camera(frame) @ OPENCV_TO_OPENGL,
                expression=expression,
                intrinsics=intrinsics[frame.source],
            )
        )
    return TrackedSequence(
        layout=LAYOUT_NAME,
        source=published.frames[0].source,
        expression_names=[f"flame_exp_{index:03d}" for index in range(frames[0].expression.size)],
        frames=frames,
        head_radius=HEAD_RADIUS_M,
        mask_encoding="alpha" if matte else "parsing-red",
        predefined_splits=published.splits,
    )


def _path(root: Path, frame: PublishedFrame, key: str) -> Path:
    return root / str(require_key(frame.record, key, frame.source, frame.where))


def _opencv_camera(frame: PublishedFrame) -> np.ndarray:
    matrix = require_key(frame.record, "transform_matrix", frame.source, frame.where)
    return rigid_transform(matrix, frame.source, f"{frame.where} 'transform_matrix'")
