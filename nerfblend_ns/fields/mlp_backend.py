"""Chooses the MLP implementation: tiny-cuda-nn when it is installed, plain torch otherwise."""

from typing import Literal


def mlp_implementation() -> Literal["tcnn", "torch"]:
    try:
        import tinycudann  # noqa: F401
    except (ImportError, OSError):
        return "torch"
    return "tcnn"
