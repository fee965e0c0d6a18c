"""One tracking run at a time per output folder: an exclusive lock on the folder, and who holds it.

The lock is `flock` on the folder itself, so it takes no file, and the system releases it when the
holding process ends in any way (SIGKILL included): a stale lock cannot remain. The holder writes its
process id, host and start time into the workspace's cache folder, so a refused run can name it.
"""

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Optional

from nerfblend_ns.tracking.errors import TrackingError

HOLDER_FILE = "lock_holder.json"


class OutputLock:
    """Held from `acquire` (or `__enter__`, when the folder exists) until `release`."""

    def __init__(self, output_dir: Path, holder_file: Path):
        self.output_dir = output_dir
        self.holder_file = holder_file
        self._descriptor: Optional[int] = None

    @property
    def held(self) -> bool:
        return self._descriptor is not None

    def acquire(self) -> None:
        """Locks the (existing) folder, or raises TrackingError naming the run that holds it."""
        if self.held:
            return
        descriptor = os.open(self.output_dir, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise TrackingError(
                f"{self.output_dir} is being written by another nerfblend-process-video run ({self._holder()}); "
                "wait for it to finish or stop it, or choose another --output-dir"
            ) from None
        self._descriptor = descriptor

    def record_holder(self) -> None:
        """Writes who holds the lock, once the run writes into the folder anyway."""
        self.holder_file.parent.mkdir(parents=True, exist_ok=True)
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        self.holder_file.write_text(json.dumps(holder) + "\n", encoding="utf-8")

    def _holder(self) -> str:
        try:
            holder = json.loads(self.holder_file.read_text(encoding="utf-8"))
            return f"process {holder['pid']} on {holder['host']}, since {holder['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "a run that has not written into it yet"

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor drops the flock
            self._descriptor = None

    def __enter__(self) -> "OutputLock":
        if self.output_dir.is_dir():
            self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
