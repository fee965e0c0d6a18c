"""Detects which layout a data folder uses and reads it."""

from pathlib import Path
from typing import Callable, Dict, Literal, Tuple

from nerfblend_ns.dataparsers import insta_layout, nerface_layout, official_layout, workspace_layout
from nerfblend_ns.dataparsers.tracked_sequence import TrackedSequence
from nerfblend_ns.dataparsers.value_checks import distinct_names, plausible_coefficients
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

LayoutName = Literal["auto", "nerfblend", "nerfblendshape-release", "insta", "nerface"]

# Every signature is checked: a folder that fits several is an error, never a guess.
_LAYOUTS: Dict[str, Tuple[Callable[[Path], bool], Callable[[Path], TrackedSequence]]] = {
    official_layout.LAYOUT_NAME: (official_layout.is_official_release, official_layout.read_official_release),
    workspace_layout.LAYOUT_NAME: (workspace_layout.is_workspace, workspace_layout.read_workspace),
    insta_layout.LAYOUT_NAME: (insta_layout.is_insta, insta_layout.read_insta),
    nerface_layout.LAYOUT_NAME: (nerface_layout.is_nerface, nerface_layout.read_nerface),
}
LAYOUT_OPTION = "--pipeline.datamanager.dataparser.layout"


def detect_layout(root: Path) -> str:
    if root.is_file():
        raise WorkspaceError(root, "is a file; pass the data folder (the one that holds it)")
    if not root.is_dir():
        raise WorkspaceError(root, "data folder not found")
    matching = [name for name, (matches, _) in _LAYOUTS.items() if matches(root)]
    if len(matching) > 1:
        raise WorkspaceError(
            root, f"the folder fits several layouts ({', '.join(matching)}): choose one with {LAYOUT_OPTION} {{{','.join(matching)}}}"
        )
    if not matching:
        raise WorkspaceError(
            root,
            "no known layout: expected transforms.json with 'expression_names' (nerfblend workspace), "
            "transforms.json with head_imgs/ and parsing/ (NeRFBlendShape release), "
            "transforms_train.json with 'fl_x' (INSTA) or transforms_train.json with 'camera_angle_x' or "
            "'intrinsics' and per-frame 'expression' (NerFACE)",
        )
    return matching[0]


def read_sequence(root: Path, layout: LayoutName = "auto") -> TrackedSequence:
    name = detect_layout(root) if layout == "auto" else layout
    if name not in _LAYOUTS:
        raise WorkspaceError(root, f"unknown layout '{name}'; known: {', '.join(_LAYOUTS)}")
    sequence = _LAYOUTS[name][1](root)
    distinct_names(sequence.expression_names, sequence.source)
    for index, frame in enumerate(sequence.frames):
        plausible_coefficients(frame.expression, sequence.source, f"frame {index} ({frame.image_path.name})")
    return sequence
