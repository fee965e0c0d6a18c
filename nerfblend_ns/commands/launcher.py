"""Starts the nerfblend commands, and nerfstudio's, with the known third-party warnings silenced.

The nerfblend console scripts point here (pyproject.toml); any installed command runs likewise with

    python -m nerfblend_ns.commands.launcher ns-train nerfblend-small --data ws/

The filters must be in place before nerfstudio is imported, since several of its modules warn as they
load: each command's module is imported only once they are.
"""

import importlib
import sys
from importlib.metadata import entry_points
from typing import Callable, Dict, List

from nerfblend_ns.known_warnings import silence_known_warnings


def _start(module: str) -> None:
    silence_known_warnings()
    importlib.import_module(module).entrypoint()


def synthetic() -> None:
    """nerfblend-synthetic"""
    _start("nerfblend_ns.synthetic.cli")


def process_video() -> None:
    """nerfblend-process-video"""
    _start("nerfblend_ns.commands.process_video")


def render() -> None:
    """nerfblend-render"""
    _start("nerfblend_ns.commands.render")


def export_mesh() -> None:
    """nerfblend-export-mesh"""
    _start("nerfblend_ns.commands.export_mesh")


# The project's own commands start from here rather than from installed metadata: a stale
# nerfblend_ns.egg-info left in a checkout by an older install shadows the current entry points
# when Python runs from the repository root, and names modules that no longer exist.
OWN_COMMANDS: Dict[str, Callable[[], None]] = {
    "nerfblend-synthetic": synthetic,
    "nerfblend-process-video": process_video,
    "nerfblend-render": render,
    "nerfblend-export-mesh": export_mesh,
}


def run_command(argv: List[str]) -> None:
    """argv: an installed command's name (ns-train, nerfblend-render, …), then its arguments."""
    if not argv:
        raise SystemExit("usage: python -m nerfblend_ns.commands.launcher COMMAND [ARGS ...]")
    name, *arguments = argv
    if name in OWN_COMMANDS:
        sys.argv = [name, *arguments]
        OWN_COMMANDS[name]()  # silences the known warnings itself (_start)
        return
    found = entry_points(group="console_scripts", name=name)
    if not found:
        raise SystemExit(f"{name}: no such command in this environment")
    silence_known_warnings()
    sys.argv = [name, *arguments]
    # Loading an entry point imports its module, which must come after the filters.
    next(iter(found)).load()()


if __name__ == "__main__":
    run_command(sys.argv[1:])
