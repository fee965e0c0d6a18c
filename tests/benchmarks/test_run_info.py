"""A benchmark result names the code that ran by a digest of its source, beside the git revision."""

import os
import subprocess
import sys

from nerfblend_ns.benchmarks.run_info import code_digest


def _package(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_digest_follows_content_and_paths_not_times(tmp_path):
    files = {"a.py": "x = 1\n", "sub/b.py": "y = 2\n", "notes.md": "not code"}
    first = code_digest(_package(tmp_path / "one", files))
    assert len(first) == 16 and code_digest(_package(tmp_path / "two", files)) == first
    os.utime(tmp_path / "two" / "a.py", (0, 0))
    assert code_digest(tmp_path / "two") == first
    assert code_digest(_package(tmp_path / "three", {**files, "notes.md": "edited"})) == first  # Python files only
    assert code_digest(_package(tmp_path / "four", {**files, "a.py": "x = 2\n"})) != first
    assert code_digest(_package(tmp_path / "five", {"a.py": "x = 1\n", "sub/c.py": "y = 2\n"})) != first


def test_the_module_prints_the_installed_packages_digest():
    printed = subprocess.run([sys.executable, "-m", "nerfblend_ns.benchmarks.run_info"], capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == code_digest()
