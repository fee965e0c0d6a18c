"""Errors the user can fix (a bad file, setting or request), and how they reach the user: one line.

Our commands print them through `report`; inside nerfstudio's `ns-*` commands, which import this
plugin before they train, evaluate or view, `report_uncaught_input_errors` makes an uncaught one a
red line naming the file and the fix instead of a traceback of nerfstudio's internals. A file the
process may not write or read (a read-only output folder) is reported the same way.
"""

import sys
from types import TracebackType
from typing import Optional, Type

from rich.console import Console
from rich.text import Text

EXIT_STATUS = 2
"""Exit status of our commands stopped by an input error (a usage error, as argument parsers use)."""


class InputError(Exception):
    """A problem with the user's files or settings; the message names it and says what to do."""


def report(error: object) -> None:
    Console(stderr=True, soft_wrap=True).print(Text(f"error: {error}", style="red"))


def report_uncaught_input_errors() -> None:
    """Installs a `sys.excepthook` that prints an uncaught `InputError` as one line, other errors as before."""
    previous = sys.excepthook

    def hook(kind: Type[BaseException], error: BaseException, traceback: Optional[TracebackType]) -> None:
        if isinstance(error, PermissionError) and error.filename:
            report(f"{error.filename}: permission denied; choose a folder you can write to (--output-dir) or fix its permissions")
        elif isinstance(error, InputError):
            report(error)
        else:
            previous(kind, error, traceback)
        # After the hook the interpreter exits with status 1, as after a traceback.

    sys.excepthook = hook
