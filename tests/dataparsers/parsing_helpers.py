"""Shortcuts the dataparser tests share (importable: pytest puts this folder on sys.path)."""

import json
from pathlib import Path
from typing import Callable

from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig


def parse(root: Path, split: str = "train", **options):
    return NerfBlendDataParserConfig(data=root, **options).setup().get_dataparser_outputs(split=split)


def edit_split(root: Path, split: str, change: Callable[[dict], None]) -> None:
    """Rewrites `transforms_<split>.json` through a function of its parsed content."""
    path = root / f"transforms_{split}.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))
