"""Data published as one `transforms_<split>.json` per split: its frames, and its splits as given."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from nerfblend_ns.dataparsers.json_io import load_json, require_key
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

SPLITS = ("train", "val", "test")


def split_file(root: Path, split: str) -> Path:
    return root / f"transforms_{split}.json"


def train_top_level(root: Path) -> Optional[Dict[str, Any]]:
    """The train file's json object, None where there is none (a malformed one is reported)."""
    path = split_file(root, "train")
    if not path.is_file():
        return None
    meta = load_json(path)
    return meta if isinstance(meta, dict) else None


def first_frame(meta: Dict[str, Any]) -> Dict[str, Any]:
    """The first frame's json object, empty where there is none, for recognising a layout."""
    frames = meta.get("frames")
    return frames[0] if isinstance(frames, list) and frames and isinstance(frames[0], dict) else {}


@dataclass
class PublishedFrame:
    record: Dict[str, Any]
    """The frame's json object."""
    source: Path
    """The split file that lists it (the first one, where several do)."""
    where: str
    """Its place in that file, for error messages."""

    @property
    def file_path(self) -> str:
        return str(self.record["file_path"])


@dataclass
class PublishedSplits:
    top_levels: Dict[Path, Dict[str, Any]]
    """Each split file's json object."""
    frames: List[PublishedFrame]
    """Every frame once, whichever splits list it."""
    splits: Dict[str, List[int]]
    """Indices into `frames` of each split's frames."""


def read_split_files(root: Path, in_file_path_order: bool) -> PublishedSplits:
    """Frames of all split files, each `file_path` once; in file-path order, or else as listed (train, val, test)."""
    top_levels, frames, splits = {}, [], {}
    index_of: Dict[str, int] = {}
    for split in SPLITS:
        path = split_file(root, split)
        meta = load_json(path)
        if not isinstance(meta, dict):
            raise WorkspaceError(path, "expected a json object at the top level")
        listed = require_key(meta, "frames", path, "the top level")
        if not isinstance(listed, list):
            raise WorkspaceError(path, "'frames' must be a list")
        top_levels[path] = meta
        splits[split] = []
        for position, record in enumerate(listed):
            frame = PublishedFrame(record, path, f"frame {position}")
            require_key(record, "file_path", path, frame.where)
            if frame.file_path not in index_of:
                index_of[frame.file_path] = len(frames)
                frames.append(frame)
            splits[split].append(index_of[frame.file_path])
    if not frames:
        raise WorkspaceError(split_file(root, "train"), "no split file lists any frame")
    if in_file_path_order:
        order = sorted(range(len(frames)), key=lambda index: frames[index].file_path)
        rank = {old: new for new, old in enumerate(order)}
        frames = [frames[index] for index in order]
        splits = {split: sorted(rank[index] for index in indices) for split, indices in splits.items()}
    return PublishedSplits(top_levels, frames, splits)
