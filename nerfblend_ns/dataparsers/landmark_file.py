"""The workspace's optional `landmarks.npz` (docs/workspace-format.md): each frame's face landmarks in pixels.

Written by the tracker (MediaPipe's 478 points) and by the synthetic generator (the face oval projected
from its known geometry); read by the dataparser, which checks it against transforms.json's frames.
"""

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Literal, Sequence

import numpy as np
from jaxtyping import Float

from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.face_mesh_landmarks import FACE_OVAL, NUM_LANDMARKS

LANDMARKS_FILE = "landmarks.npz"

LandmarkKind = Literal["mediapipe-478", "face-oval"]
"""`mediapipe-478`: MediaPipe Face Landmarker's 478 points. `face-oval`: only the FACE_OVAL points, in its order."""

POINTS_PER_KIND: Dict[str, int] = {"mediapipe-478": NUM_LANDMARKS, "face-oval": len(FACE_OVAL)}
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_KEYS = ("kind", "file_paths", "landmarks")


@dataclass(frozen=True)
class FrameLandmarks:
    """Landmarks of every frame of a workspace, in the order of transforms.json's frames."""

    kind: LandmarkKind
    points: Float[np.ndarray, "n p 3"]
    """Pixels of the workspace image (x right, y down, origin at the top-left corner) and a relative depth
    scaled like x (MediaPipe's z: smaller is nearer the camera)."""

    def face_ovals(self) -> Float[np.ndarray, "n 36 2"]:
        """The face-oval polygon of each frame in pixels, in FACE_OVAL order."""
        oval = self.points if self.kind == "face-oval" else self.points[:, list(FACE_OVAL)]
        return oval[..., :2]


def write_landmark_file(path: Path, file_paths: Sequence[str], landmarks: FrameLandmarks) -> None:
    """Writes the frames' landmarks keyed by their `file_path`, through a temporary name (deflated float32)."""
    points = np.asarray(landmarks.points, dtype=np.float32)
    expected = (len(file_paths), POINTS_PER_KIND[landmarks.kind], 3)
    if points.shape != expected:
        raise ValueError(f"{landmarks.kind} landmarks of {len(file_paths)} frames need shape {expected}, got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{path}: landmarks to write contain NaN or infinite values")
    arrays = {"kind": np.array(landmarks.kind), "file_paths": np.array(list(file_paths)), "landmarks": points}
    temporary = path.with_name(path.name + ".tmp")
    # Written member by member with a fixed date (np.savez stamps the current time), so that the same
    # landmarks give the same bytes.
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            content = io.BytesIO()
            np.lib.format.write_array(content, array, allow_pickle=False)
            member = zipfile.ZipInfo(f"{key}.npy", date_time=_FIXED_DATE)
            archive.writestr(member, content.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    os.replace(temporary, path)


def read_landmark_file(path: Path, file_paths: Sequence[str]) -> FrameLandmarks:
    """The landmarks of the frames whose `file_path`s are given, in that order; WorkspaceError naming the
    file when it is unreadable, of another shape, not finite, or written for other frames."""
    try:
        with np.load(path, allow_pickle=False) as data:
            # Only the arrays read here are decompressed: another member could be of any size.
            fields = {key: data[key] for key in _KEYS if key in data.files}
            keys = sorted(data.files)
    except (OSError, ValueError, EOFError) as error:
        raise WorkspaceError(path, f"cannot be read as a landmark file ({error})") from None
    missing = [key for key in _KEYS if key not in fields]
    if missing:
        raise WorkspaceError(path, f"has no {', '.join(repr(key) for key in missing)} (keys: {keys})")
    kind = str(fields["kind"])
    if kind not in POINTS_PER_KIND:
        raise WorkspaceError(path, f"unknown landmark kind {kind!r}, expected one of {', '.join(POINTS_PER_KIND)}")
    stored_paths = [str(name) for name in np.atleast_1d(fields["file_paths"])]
    if stored_paths != list(file_paths):
        mismatch = next((i for i, (a, b) in enumerate(zip(stored_paths, file_paths)) if a != b), min(len(stored_paths), len(file_paths)))
        raise WorkspaceError(
            path,
            f"holds landmarks of {len(stored_paths)} frames, transforms.json lists {len(file_paths)}; they differ from "
            f"frame {mismatch} on (re-run the tracker, or delete the file to train without landmarks)",
        )
    points = fields["landmarks"]
    expected = (len(file_paths), POINTS_PER_KIND[kind], 3)
    if points.shape != expected or not np.issubdtype(points.dtype, np.floating):
        raise WorkspaceError(path, f"'landmarks' is {points.dtype} of shape {list(points.shape)}, expected floats of shape {list(expected)}")
    if not np.all(np.isfinite(points)):
        frame = int(np.flatnonzero(~np.isfinite(points).all(axis=(1, 2)))[0])
        raise WorkspaceError(path, f"'landmarks' of frame {frame} ({file_paths[frame]}) contain NaN or infinite values")
    return FrameLandmarks(kind=kind, points=points.astype(np.float64))
