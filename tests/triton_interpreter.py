"""Running a test file's Triton comparisons on CPU, under Triton's interpreter.

The interpreter is chosen by TRITON_INTERPRET=1 when a kernel is defined, that is at import, so a
test runs its own file as a script in a fresh interpreter with that variable set; the script's
`__main__` block holds the tiny-size comparisons.
"""

import os
import subprocess
import sys

import pytest
import torch


def run_interpreted(script: str) -> None:
    """Runs `script` under the interpreter and fails with its output if it fails (skipped with CUDA,
    where the GPU tests run the compiled kernels)."""
    if torch.cuda.is_available():
        pytest.skip("the GPU tests run the compiled kernels")
    # The script imports this module too: the tests folder goes on its path, as pytest puts it on the tests'.
    path = os.pathsep.join(filter(None, (os.path.dirname(os.path.abspath(__file__)), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": path}
    result = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
