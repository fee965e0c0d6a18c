"""How the avatar commands report a refused request: one red line on stderr and exit status 2."""

from typing import Callable

from rich.console import Console
from rich.text import Text

from nerfblend_ns.avatar.coefficient_edits import EditError
from nerfblend_ns.avatar.loading import AvatarError
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError


def run_reporting_errors(main: Callable[[], None]) -> None:
    try:
        main()
    except (AvatarError, EditError, WorkspaceError) as error:
        Console(stderr=True, soft_wrap=True).print(Text(f"error: {error}", style="red"))
        raise SystemExit(2) from None
