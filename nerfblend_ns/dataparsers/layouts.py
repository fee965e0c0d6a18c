"""Detects which layout a data folder uses and reads it."""

from pathlib import Path
from typing import Callable, Dict, Literal, Tuple

from nerfblend_ns.dataparsers import official_layout, workspace_layout
from nerfblend_ns.dataparsers.tracked_sequence import TrackedSequence
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

LayoutName = Literal["auto", "nerfblend", "nerfblendshape-release"]

# Checked in order: the release's folders are the more specific signature.
_LAYOUTS: Dict[str, Tuple[Callable[[Path], bool], Callable[[Path], TrackedSequence]]] = {
    official_layout.LAYOUT_NAME: (official_layout.is_official_release, official_layout.read_official_release),
    workspace_layout.LAYOUT_NAME: (workspace_layout.is_workspace, workspace_layout.read_workspace),
}


def detect_layout(root: Path) -> str:
    if not root.is_dir():
        raise WorkspaceError(root, "data folder not found")
    for name, (matches, _) in _LAYOUTS.items():
        if matches(root):
            return name
    raise WorkspaceError(
        root,
        "no known layout: expected transforms.json with 'expression_names' (nerfblend workspace) "
        "or transforms.json with head_imgs/ and parsing/ (NeRFBlendShape release)",
    )


def read_sequence(root: Path, layout: LayoutName = "auto") -> TrackedSequence:
    name = detect_layout(root) if layout == "auto" else layout
    if name not in _LAYOUTS:
        raise WorkspaceError(root, f"unknown layout '{name}'; known: {', '.join(_LAYOUTS)}")
    return _LAYOUTS[name][1](root)
