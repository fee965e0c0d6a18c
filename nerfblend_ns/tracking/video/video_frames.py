"""Opening a video, choosing the frames a run tracks, and decoding them in order."""

import math
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Tuple, TypeVar, Union

import cv2
import numpy as np

from nerfblend_ns.tracking.errors import TrackingError

FALLBACK_FPS = 30.0
"""Frame rate assumed when the container does not state one."""


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    frame_count: int
    fps_known: bool


@dataclass(frozen=True)
class FrameSelection:
    """Which frames of the video a run tracks: the command's options of the same names."""

    every_nth: int = 1
    start_s: float = 0.0
    end_s: Optional[float] = None
    max_frames: Optional[int] = None


def _open(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise TrackingError(f"{path} cannot be decoded as a video (not a video file, or a codec OpenCV lacks)")
    return capture


def probe_video(path: Path) -> VideoInfo:
    """Size, frame rate and frame count of a video, after checking that its first frame decodes."""
    if not path.exists():
        raise TrackingError(f"video not found: {path}")
    if not path.is_file():
        raise TrackingError(f"{path} is not a file")
    if not os.access(path, os.R_OK):
        raise TrackingError(f"{path} cannot be read (permission denied)")
    capture = _open(path)
    try:
        decoded, frame = capture.read()
        if not decoded or frame is None:
            raise TrackingError(f"{path} cannot be decoded as a video: no frame could be read")
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    fps_known = math.isfinite(fps) and fps > 0
    if count <= 0:  # some containers do not store it: count by decoding
        count = sum(1 for _ in decode_frames(path, None))
    return VideoInfo(
        path=path,
        width=frame.shape[1],
        height=frame.shape[0],
        fps=fps if fps_known else FALLBACK_FPS,
        frame_count=count,
        fps_known=fps_known,
    )


def select_frames(info: VideoInfo, selection: FrameSelection) -> np.ndarray:
    """Indices [N] of the video frames to track, increasing."""
    if selection.every_nth < 1:
        raise TrackingError(f"--every-nth must be ≥ 1, got {selection.every_nth}")
    if selection.max_frames is not None and selection.max_frames < 1:
        raise TrackingError(f"--max-frames must be ≥ 1, got {selection.max_frames}")
    first = max(0, math.ceil(selection.start_s * info.fps - 1e-6))
    end = (
        info.frame_count
        if selection.end_s is None
        else min(info.frame_count, math.ceil(selection.end_s * info.fps - 1e-6))
    )
    indices = np.arange(first, end, selection.every_nth)
    if selection.max_frames is not None:
        indices = indices[: selection.max_frames]
    if len(indices) == 0:
        duration = info.frame_count / info.fps
        raise TrackingError(
            f"no frame selected: the video has {info.frame_count} frames ({duration:.2f} s at {info.fps:g} fps), "
            f"the range is {selection.start_s:g} s to {selection.end_s if selection.end_s is not None else 'the end'}"
        )
    return indices


def decode_frames(path: Path, indices: Optional[Sequence[int]]) -> Iterator[Tuple[int, np.ndarray]]:
    """(frame index, BGR frame [H, W, 3] uint8) for the wanted indices (all when None), in video order.

    Frames are read sequentially rather than by seeking, which is frame-exact for every codec; frames
    that are not wanted are only grabbed, not converted.
    """
    wanted = None if indices is None else set(int(index) for index in indices)
    last = None if wanted is None else max(wanted, default=-1)
    capture = _open(path)
    try:
        index = 0
        while last is None or index <= last:
            if not capture.grab():
                return
            if wanted is None or index in wanted:
                decoded, frame = capture.retrieve()
                if decoded:
                    yield index, frame
            index += 1
    finally:
        capture.release()


_END = object()


Prepared = TypeVar("Prepared")


class FramesAhead(Iterator[Tuple[int, Prepared]]):
    """(frame index, prepare(BGR frame)) as decode_frames gives the frames, decoded and prepared on a thread of
    its own, which starts at once and runs up to `depth` wanted frames ahead of the consumer.

    OpenCV decodes and resizes without holding the interpreter lock, so this work (skipped frames' decoding
    included) overlaps the consumer's; an error of the decoder or of `prepare` is raised to the consumer after
    the frames before it. Use it as a context manager (or call close) so that a consumer that stops early stops
    the thread.
    """

    def __init__(
        self, path: Path, indices: Optional[Sequence[int]], prepare: Callable[[np.ndarray], Prepared], depth: int = 8
    ):
        self._ready: "queue.Queue[Union[Tuple[int, Prepared], BaseException, object]]" = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._decode, args=(path, indices, prepare), name="frame-decoder", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self, path: Path, indices: Optional[Sequence[int]], prepare: Callable[[np.ndarray], Prepared]) -> None:
        frames = decode_frames(path, indices)
        try:
            for index, frame in frames:
                if not self._put((index, prepare(frame))):
                    return
            self._put(_END)
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(error)
        finally:
            frames.close()

    def __next__(self) -> Tuple[int, Prepared]:
        if self._finished:
            raise StopIteration
        item = self._ready.get()
        if item is _END or isinstance(item, BaseException):
            self._finished = True
            self._thread.join()  # it has put its last item
            if item is _END:
                raise StopIteration
            raise item
        return item

    def close(self) -> None:
        """Stops the decoder and waits for its thread."""
        self._finished = True
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "FramesAhead[Prepared]":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
