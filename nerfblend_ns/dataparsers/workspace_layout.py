"""Reads the project's own tracked-workspace layout (docs/workspace-format.md)."""

from pathlib import Path
from typing import Any, Dict, List

from nerfblend_ns.dataparsers.json_io import load_json, require_key
from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE, read_landmark_file
from nerfblend_ns.dataparsers.tracked_sequence import SequenceFrame, TrackedSequence
from nerfblend_ns.dataparsers.value_checks import (
    finite_array, optional_rect, positive_number, positive_whole_number, rigid_transform,
)
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

LAYOUT_NAME = "nerfblend"
TRANSFORMS_FILE = "transforms.json"
HEAD_RADIUS_M = 0.16
"""The format puts the origin near the head centre, in metres; 16 cm holds head, hair and upper neck."""

_INTRINSIC_KEYS = ("w", "h", "fx", "fy", "cx", "cy")


def is_workspace(root: Path) -> bool:
    path = root / TRANSFORMS_FILE
    if not path.is_file():
        return False
    try:
        meta = load_json(path)
    except WorkspaceError:
        return True  # let the reader report the malformed file
    return isinstance(meta, dict) and "expression_names" in meta


def _intrinsics(meta: Dict[str, Any], frame: Dict[str, Any], path: Path, where: str) -> PinholeIntrinsics:
    values = {}
    for key in _INTRINSIC_KEYS:
        check = positive_whole_number if key in ("w", "h") else positive_number
        if key in frame:
            values[key] = check(frame[key], path, f"{where} '{key}'")
        elif key in meta:
            values[key] = check(meta[key], path, f"'{key}'")
        else:
            raise WorkspaceError(path, f"{where} has no '{key}' and there is no top-level '{key}'")
    return PinholeIntrinsics(
        width=int(values["w"]), height=int(values["h"]),
        fx=values["fx"], fy=values["fy"], cx=values["cx"], cy=values["cy"],
    )


def read_workspace(root: Path) -> TrackedSequence:
    path = root / TRANSFORMS_FILE
    meta = load_json(path)
    if not isinstance(meta, dict):
        raise WorkspaceError(path, "expected a json object at the top level")
    names = require_key(meta, "expression_names", path, "the top level")
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise WorkspaceError(path, "'expression_names' must be a non-empty list of strings")
    raw_frames = require_key(meta, "frames", path, "the top level")
    if not isinstance(raw_frames, list) or not raw_frames:
        raise WorkspaceError(path, "'frames' must be a non-empty list")
    frames, file_paths = [], []
    for index, frame in enumerate(raw_frames):
        where = f"frame {index}"
        if not isinstance(frame, dict):
            raise WorkspaceError(path, f"{where} is not a json object")
        file_paths.append(str(require_key(frame, "file_path", path, where)))
        frames.append(
            SequenceFrame(
                image_path=root / file_paths[-1],
                mask_path=root / str(require_key(frame, "mask_path", path, where)),
                camera_to_world=rigid_transform(
                    require_key(frame, "transform_matrix", path, where), path, f"{where} 'transform_matrix'"
                ),
                expression=_expression(frame, len(names), path, where),
                intrinsics=_intrinsics(meta, frame, path, where),
                mouth_rect=optional_rect(frame.get("mouth_rect"), path, f"{where} 'mouth_rect'"),
                face_rect=optional_rect(frame.get("face_rect"), path, f"{where} 'face_rect'"),
            )
        )
    _refuse_shared_images(file_paths, path)
    # Optional: workspaces tracked before landmarks were kept still load, without them.
    landmarks_path = root / LANDMARKS_FILE
    landmarks = read_landmark_file(landmarks_path, file_paths) if landmarks_path.is_file() else None
    return TrackedSequence(
        layout=LAYOUT_NAME, source=path, expression_names=list(names), frames=frames, head_radius=HEAD_RADIUS_M,
        landmarks=landmarks,
    )


def _refuse_shared_images(file_paths: List[str], path: Path) -> None:
    """Two frames on one image would train it on two poses and expressions: an editing slip, never data."""
    first_use: Dict[str, int] = {}
    for index, file_path in enumerate(file_paths):
        earlier = first_use.setdefault(str(Path(file_path)), index)
        if earlier != index:
            raise WorkspaceError(path, f"frames {earlier} and {index} both use {file_path}; each frame needs its own image")


def _expression(frame: Dict[str, Any], num_expressions: int, path: Path, where: str):
    values = require_key(frame, "expression", path, where)
    if not isinstance(values, list) or len(values) != num_expressions:
        length = len(values) if isinstance(values, list) else "not a list"
        raise WorkspaceError(
            path, f"{where} 'expression' has length {length}, expected {num_expressions} (len(expression_names))"
        )
    return finite_array(values, (num_expressions,), path, f"{where} 'expression'")
