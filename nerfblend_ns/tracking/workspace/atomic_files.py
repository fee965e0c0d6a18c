"""Writing files through a temporary name, so an interrupted run never leaves half a file behind."""

import json
import os
from pathlib import Path
from typing import Any


def write_bytes_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def write_json_atomically(path: Path, document: Any) -> None:
    write_bytes_atomically(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))
