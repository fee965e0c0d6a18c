"""Reading json descriptions of a workspace with errors that name the file."""

import json
from pathlib import Path
from typing import Any

from nerfblend_ns.dataparsers.workspace_error import WorkspaceError


def load_json(path: Path) -> Any:
    if not path.is_file():
        raise WorkspaceError(path, "file not found")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise WorkspaceError(path, f"malformed json at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise WorkspaceError(path, "nested too deeply to be a workspace description") from None
    except (OSError, UnicodeDecodeError) as error:
        raise WorkspaceError(path, f"cannot be read ({error})") from None


def require_key(record: dict, key: str, path: Path, where: str) -> Any:
    if not isinstance(record, dict) or key not in record:
        raise WorkspaceError(path, f"{where} has no '{key}'")
    return record[key]
