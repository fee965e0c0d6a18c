"""The error raised for any problem in a tracked workspace."""

from pathlib import Path

from nerfblend_ns.input_errors import InputError


class WorkspaceError(InputError, ValueError):
    """A workspace file is missing, unreadable or inconsistent; the message names the file."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
