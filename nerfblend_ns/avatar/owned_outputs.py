"""What the avatar commands write replaces only what they wrote before.

A render or a mesh is often written to a path the user names; a slip (the source video, a workspace's
image folder, a scan of theirs) must not destroy a file. Each output carries a mark of the command that
wrote it (video metadata, a mesh header comment, a marker file in a frame folder); an existing path
without it is refused.
"""

from pathlib import Path
from typing import Callable

from nerfblend_ns.input_errors import InputError


class ForeignOutputError(InputError):
    """An output path holds something the avatar commands did not write."""


def refuse_unless_ours(path: Path, ours: Callable[[Path], bool], flag: str) -> None:
    """Refuses an existing `path` that is not a file `ours` recognises as written by these commands."""
    if path.exists() and not (path.is_file() and ours(path)):
        raise ForeignOutputError(
            f"{path} exists and was not written by nerfblend; it is kept: choose another {flag} or move it away"
        )


def partial_path(path: Path) -> Path:
    """Where `path` is written before it is renamed into place, so a failed write leaves the old file whole."""
    return path.with_name(f".{path.name}.partial")
