"""What a benchmark result was measured with: the code's revision, a digest of its source, and the device."""

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Optional

import torch

_PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGE_ROOT = _PACKAGE_DIR.parent


def _git(*arguments: str) -> Optional[str]:
    try:
        result = subprocess.run(["git", *arguments], cwd=_PACKAGE_DIR, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


REVISION_VARIABLE = "NERFBLEND_REVISION"
"""Names the revision where the code runs from a copy without its git history (an installed package)."""


def git_revision() -> str:
    """HEAD of the checkout holding this package, else $NERFBLEND_REVISION, else "unknown"."""
    return _git("rev-parse", "HEAD") or os.environ.get(REVISION_VARIABLE) or "unknown"


def git_dirty() -> Optional[bool]:
    """Whether the checkout has uncommitted changes, so that the revision alone does not name the code; None outside one."""
    # No optional locks: reading the status must not refresh the index while someone else commits.
    status = _git("--no-optional-locks", "status", "--porcelain")
    return None if status is None else bool(status)


def code_digest(package: Path = _PACKAGE_ROOT) -> str:
    """sha256 (16 hex digits) of the package's Python files, paths and contents: names the code that ran where a
    copy's git metadata is missing or stale; `python -m nerfblend_ns.benchmarks.run_info` in a checkout prints it."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def device_name() -> str:
    return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"


if __name__ == "__main__":
    print(code_digest())
