"""Inside any process that imported the plugin (nerfstudio's ns-* commands), an uncaught input error is one line."""

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", f"import nerfblend_ns\n{code}"], capture_output=True, text=True, timeout=300)


def test_an_uncaught_workspace_error_is_one_line():
    result = _run("from pathlib import Path\nfrom nerfblend_ns.dataparsers.workspace_error import WorkspaceError\n"
                  "raise WorkspaceError(Path('ws/images/000005.jpg'), 'truncated image')")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("error: ws/images/000005.jpg: truncated image")


def test_a_permission_error_names_the_path_and_the_fix():
    result = _run("raise PermissionError(13, 'Permission denied', 'out/ws')")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: out/ws: permission denied; choose a folder you can write to" in " ".join(result.stderr.split())


def test_other_errors_keep_their_traceback():
    result = _run("raise KeyError('bug')")
    assert result.returncode == 1 and "Traceback" in result.stderr and "KeyError: 'bug'" in result.stderr
