"""Per-frame tracking results cached inside the workspace, so an interrupted run resumes where it stopped.

`.nerfblend-track/manifest.json` names the source video (path, size, mtime, sha256 of its first MiB),
the settings that shape per-frame results, and the crop; `.nerfblend-track/frames/<index>.npz` holds one
video frame's result. A frame's image and mask are written before its record, and the record is renamed
into place whole, so a record on disk always describes complete files. A cache file that cannot be
read (a damaged disk, a copy cut short) is renamed aside with a `.damaged` suffix, never deleted, and
its frame is tracked again.
"""

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from nerfblend_ns.tracking.workspace.atomic_files import write_json_atomically
from nerfblend_ns.tracking.workspace.written_files import WrittenFiles

CACHE_FOLDER = ".nerfblend-track"
MANIFEST_FILE = "manifest.json"
LEDGER_FILE = "written.txt"
DAMAGED_SUFFIX = ".damaged"
HEAD_BYTES = 1 << 20


@dataclass(frozen=True)
class VideoFingerprint:
    path: str
    size: int
    mtime: float
    head_sha256: str
    """sha256 of the first MiB: with the size, tells a different video from a moved or touched one."""

    @staticmethod
    def of(path: Path) -> "VideoFingerprint":
        with open(path, "rb") as handle:
            head = hashlib.sha256(handle.read(HEAD_BYTES)).hexdigest()
        stat = path.stat()
        return VideoFingerprint(path=str(path.resolve()), size=stat.st_size, mtime=stat.st_mtime, head_sha256=head)

    def same_video(self, other: Dict[str, Any]) -> bool:
        return other.get("size") == self.size and other.get("head_sha256") == self.head_sha256


@dataclass(frozen=True)
class FrameTrackingResult:
    """The tracking result of one video frame; a failed frame has a reason and no arrays."""

    index: int
    failure: str = ""
    landmarks: Optional[np.ndarray] = None
    """[478, 3] pixels of the workspace image (z scaled like x)."""
    blendshapes: Optional[np.ndarray] = None
    """[52] scores, in the manifest's blendshape order."""
    face_to_camera: Optional[np.ndarray] = None
    """[4, 4] MediaPipe facial transformation matrix (cm)."""
    mask_coverage: float = 0.0
    image_file: str = ""
    mask_file: str = ""

    @property
    def tracked(self) -> bool:
        return not self.failure


def set_aside(path: Path) -> Path:
    """Renames a damaged file next to itself under a free `.damaged` name; returns the new path."""
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{number}")
    os.replace(path, target)
    return target


class TrackCache:
    def __init__(self, output_dir: Path, log: Callable[[str], None] = lambda _: None):
        self.output_dir = output_dir
        self.folder = output_dir / CACHE_FOLDER
        self.frames = self.folder / "frames"
        self.manifest_path = self.folder / MANIFEST_FILE
        self.written = WrittenFiles(output_dir, self.folder / LEDGER_FILE)
        self._log = log

    def read_manifest(self) -> Optional[Dict[str, Any]]:
        """The manifest, or None where there is none or it is damaged (see `manifest_damaged`)."""
        if not self.manifest_path.is_file():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return None
        return manifest if isinstance(manifest, dict) else None

    def manifest_damaged(self) -> bool:
        return self.manifest_path.is_file() and self.read_manifest() is None

    def write_manifest(self, manifest: Dict[str, Any]) -> None:
        self.frames.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.folder / MANIFEST_FILE, manifest)

    def _record_path(self, index: int) -> Path:
        return self.frames / f"{index:06d}.npz"

    def cached_indices(self) -> List[int]:
        if not self.frames.is_dir():
            return []
        return sorted(int(path.stem) for path in self.frames.glob("*.npz") if path.stem.isdigit())

    def load(self, index: int) -> Optional[FrameTrackingResult]:
        path = self._record_path(index)
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                fields = {key: data[key] for key in data.files}
            arrays = {key: fields[key] for key in ("landmarks", "blendshapes", "face_to_camera") if key in fields}
            record = FrameTrackingResult(
                index=index,
                failure=str(fields["failure"]),
                mask_coverage=float(fields["mask_coverage"]),
                image_file=str(fields["image_file"]),
                mask_file=str(fields["mask_file"]),
                **arrays,
            )
            if record.tracked and not all(key in arrays for key in ("landmarks", "blendshapes", "face_to_camera")):
                raise KeyError("a tracked frame without its arrays")
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
            self._log(f"cache file {path} is damaged ({type(error).__name__}: {error}); set aside as {set_aside(path).name}, "
                      f"frame {index} is tracked again")
            return None
        return record

    def save(self, record: FrameTrackingResult) -> None:
        fields = {
            "failure": np.array(record.failure),
            "mask_coverage": np.array(record.mask_coverage),
            "image_file": np.array(record.image_file),
            "mask_file": np.array(record.mask_file),
        }
        if record.tracked:
            fields.update(
                landmarks=record.landmarks, blendshapes=record.blendshapes, face_to_camera=record.face_to_camera
            )
        path = self._record_path(record.index)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, **fields)
        os.replace(temporary, path)

    def discard(self) -> int:
        """Deletes every cached record and every file this tool wrote into the folder; returns the record count.

        A damaged manifest is set aside rather than deleted, like any damaged cache file.
        """
        indices = self.cached_indices()
        for index in indices:
            self._record_path(index).unlink(missing_ok=True)
        self.written.delete_all()
        if self.manifest_damaged():
            self._log(f"cache manifest {self.manifest_path} is damaged; set aside as {set_aside(self.manifest_path).name}")
        self.manifest_path.unlink(missing_ok=True)
        return len(indices)
