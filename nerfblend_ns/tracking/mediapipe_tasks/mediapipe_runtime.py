"""Importing MediaPipe's Tasks API quietly, with a clear error when the optional dependency is missing."""

import contextlib
import os
import sys
from types import ModuleType
from typing import Any, Callable, Iterator, Tuple, TypeVar

import numpy as np

from nerfblend_ns.tracking.errors import TrackingError


def tasks_api() -> Tuple[ModuleType, ModuleType, type]:
    """(mediapipe, mediapipe.tasks.python.vision, BaseOptions)."""
    try:
        import mediapipe
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as error:
        raise TrackingError(
            f"MediaPipe is not installed ({error}); install the tracking dependencies (docs/installing.md)"
        ) from None
    return mediapipe, vision, BaseOptions


def as_mediapipe_image(rgb: np.ndarray) -> Any:  # [H, W, 3] uint8
    mediapipe, _, _ = tasks_api()
    return mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


Task = TypeVar("Task")


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def create_quietly(create: Callable[[], Task]) -> Task:
    """Runs a task's constructor without the start-up log lines MediaPipe's native code prints for every graph.

    A failure still surfaces: MediaPipe raises it as an exception carrying the native status message.
    """
    with _native_stderr_silenced():
        try:
            return create()
        except (RuntimeError, ValueError) as error:
            raise TrackingError(f"MediaPipe could not start a task: {error}") from None
