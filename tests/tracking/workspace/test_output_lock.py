"""One run per output folder: a second lock on it is refused, naming the folder and the holder."""

import os
import subprocess
import sys

import pytest

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.workspace.output_lock import OutputLock


def test_a_second_lock_names_the_folder_and_the_holder(tmp_path):
    holder_file = tmp_path / ".cache" / "holder.json"
    with OutputLock(tmp_path, holder_file) as first:
        assert first.held
        with pytest.raises(TrackingError, match=f"{tmp_path} is being written by another .* not written into it yet"):
            OutputLock(tmp_path, holder_file).acquire()
        first.record_holder()
        with pytest.raises(TrackingError, match=f"process {os.getpid()} on "):
            OutputLock(tmp_path, holder_file).acquire()
    with OutputLock(tmp_path, holder_file) as again:  # released on exit
        assert again.held


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = (
        "import fcntl, os, sys, time; d = os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(d, fcntl.LOCK_EX); "
        "print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(TrackingError, match="another nerfblend-process-video run"):
            OutputLock(tmp_path, tmp_path / "holder.json").acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = OutputLock(tmp_path, tmp_path / "holder.json")
    lock.acquire()
    assert lock.held
    lock.release()


def test_a_folder_not_yet_made_is_locked_later(tmp_path):
    lock = OutputLock(tmp_path / "new", tmp_path / "new" / "holder.json")
    with lock:
        assert not lock.held and not (tmp_path / "new").exists()
