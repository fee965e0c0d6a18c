"""Which checkpoint of a run to load: the newest one that reads whole.

nerfstudio resumes from the highest `step-*.ckpt` of a folder, whatever its state; a run killed while
saving (or a copy cut short) leaves a newest checkpoint that cannot be read, and resuming then fails
on it. A checkpoint is a zip archive, so its central directory and every entry's CRC tell whether it
is whole without unpickling anything.
"""

import re
import zipfile
from pathlib import Path
from typing import List, Optional, Tuple

CHECKPOINT_NAME = re.compile(r"step-(\d+)\.ckpt")


def checkpoint_step(path: Path) -> int:
    return int(CHECKPOINT_NAME.fullmatch(path.name).group(1))


def checkpoint_problem(path: Path) -> Optional[str]:
    """Why the checkpoint cannot be read whole, or None when it can."""
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        return f"not a whole checkpoint: {error or type(error).__name__}"
    return f"its entry {damaged} is damaged" if damaged is not None else None


def newest_readable_checkpoint(folder: Path) -> Tuple[Optional[Path], List[Tuple[Path, str]]]:
    """The newest whole checkpoint in `folder` (None if there is none) and the newer ones skipped, with why."""
    candidates = sorted(
        (path for path in folder.iterdir() if CHECKPOINT_NAME.fullmatch(path.name)), key=checkpoint_step, reverse=True
    )
    skipped = []
    for path in candidates:
        problem = checkpoint_problem(path)
        if problem is None:
            return path, skipped
        skipped.append((path, problem))
    return None, skipped
