"""The error raised for any problem in a tracked workspace."""

from pathlib import Path


class WorkspaceError(ValueError):
    """A workspace file is missing, unreadable or inconsistent; the message names the file."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
