"""The files a tracking run wrote into its output folder: the only ones any later run may replace or delete.

Each name is appended to `.nerfblend-track/written.txt` before its file is first written, so a file
whose write was interrupted is still known as this tool's. A file in the folder that is not listed is
the user's: no run writes over it or deletes it, with or without --overwrite. Only names of the forms
the tracker writes count, so an edited ledger cannot reach a file elsewhere (`../`, an absolute path).
"""

import os
import re
from pathlib import Path
from typing import Iterable, List, Set

from nerfblend_ns.tracking.errors import TrackingError

OWN_NAME = re.compile(r"(images/\d{6}\.(jpg|png)|(consensus_)?masks/\d{6}\.png|(?!\.)[\w.-]+)")
"""A frame's image or mask (its own or its consensus-outline one), or a file at the top of the folder (not
hidden, not `..`)."""


class WrittenFiles:
    """The ledger of one output folder; names are relative to the folder, with '/' separators."""

    def __init__(self, output_dir: Path, ledger: Path):
        self.output_dir = output_dir
        self.ledger = ledger
        self._names: Set[str] = set(self._read())

    def _read(self) -> List[str]:
        if not self.ledger.is_file():
            return []
        # A run killed mid-append leaves a partial last line: it names no file, so it grants nothing.
        lines = self.ledger.read_text(encoding="utf-8", errors="replace").splitlines()
        return [line for line in lines if OWN_NAME.fullmatch(line)]

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def foreign(self, names: Iterable[str]) -> List[str]:
        """Those of `names` that exist in the folder and were not written by this tool."""
        # lexists: a dangling link of the user's is theirs too (writing through it would create its target).
        return [name for name in names if name not in self._names and os.path.lexists(self.output_dir / name)]

    def claim(self, names: Iterable[str]) -> None:
        """Records `names` as this tool's before they are written; refuses a name the user's file holds."""
        new = [name for name in names if name not in self._names]
        if not new:
            return
        taken = self.foreign(new)
        if taken:
            raise TrackingError(f"{self.output_dir / taken[0]} was not written by this tool and is kept; move it away")
        self.ledger.parent.mkdir(parents=True, exist_ok=True)
        with open(self.ledger, "a", encoding="utf-8") as handle:
            handle.write("".join(f"{name}\n" for name in new))
        self._names.update(new)

    def delete_all(self) -> int:
        """Deletes every listed file that is present and empties the ledger; returns the number deleted."""
        deleted = 0
        for name in sorted(self._names):
            path = self.output_dir / name
            if path.is_file():
                path.unlink()
                deleted += 1
        self.ledger.unlink(missing_ok=True)
        self._names.clear()
        return deleted
