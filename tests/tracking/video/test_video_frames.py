"""Video input: frame selection, frame-exact decoding (also ahead of the consumer) and clear errors for what is
not a video."""

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.video.video_frames import FrameSelection, VideoInfo, FramesAhead, decode_frames, probe_video, select_frames


def _info(frames: int = 100, fps: float = 25.0) -> VideoInfo:
    return VideoInfo(path=Path("clip.mp4"), width=64, height=64, fps=fps, frame_count=frames, fps_known=True)


def _numbered_video(path: Path, frames: int) -> Path:
    """A video whose frame i is uniformly 10·i grey, so decoded frames can be told apart."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 64))
    for index in range(frames):
        writer.write(np.full((64, 64, 3), 10 * index, np.uint8))
    writer.release()
    return path


def test_selection_by_step_time_range_and_count():
    assert select_frames(_info(), FrameSelection()).tolist() == list(range(100))
    assert select_frames(_info(), FrameSelection(every_nth=10)).tolist() == list(range(0, 100, 10))
    assert select_frames(_info(), FrameSelection(start_s=1.0, end_s=2.0)).tolist() == list(range(25, 50))
    assert select_frames(_info(), FrameSelection(start_s=1.0, every_nth=3, max_frames=4)).tolist() == [25, 28, 31, 34]


def test_empty_or_invalid_selection_is_an_error():
    with pytest.raises(TrackingError, match="no frame selected"):
        select_frames(_info(), FrameSelection(start_s=10.0))
    with pytest.raises(TrackingError, match="every-nth"):
        select_frames(_info(), FrameSelection(every_nth=0))


def test_decoding_returns_exactly_the_wanted_frames(tmp_path: Path):
    path = _numbered_video(tmp_path / "numbered.mp4", 20)
    info = probe_video(path)
    assert (info.width, info.height, info.frame_count, info.fps) == (64, 64, 20, 25.0)
    decoded = list(decode_frames(path, [3, 7, 19]))
    assert [index for index, _ in decoded] == [3, 7, 19]
    assert [int(round(frame.mean() / 10)) for _, frame in decoded] == [3, 7, 19]


def _decoder_threads() -> int:
    return sum(thread.name == "frame-decoder" and thread.is_alive() for thread in threading.enumerate())


def test_decoding_ahead_gives_what_decoding_and_preparing_in_turn_gives(tmp_path: Path):
    path = _numbered_video(tmp_path / "numbered.mp4", 20)
    wanted = [0, 3, 4, 7, 19]
    with FramesAhead(path, wanted, lambda frame: frame[::2, ::2].copy(), depth=2) as frames:
        ahead = list(frames)
    in_turn = [(index, frame[::2, ::2]) for index, frame in decode_frames(path, wanted)]
    assert [index for index, _ in ahead] == wanted
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(ahead, in_turn))
    assert _decoder_threads() == 0


def test_an_error_while_decoding_ahead_reaches_the_consumer_after_the_frames_before_it(tmp_path: Path):
    path = _numbered_video(tmp_path / "numbered.mp4", 12)

    def prepare(frame: np.ndarray) -> int:
        if int(round(frame.mean() / 10)) == 5:
            raise ValueError("frame 5 is damaged")
        return int(round(frame.mean() / 10))

    seen = []
    with pytest.raises(ValueError, match="frame 5 is damaged"):
        for index, value in FramesAhead(path, None, prepare):
            seen.append((index, value))
    assert seen == [(index, index) for index in range(5)]
    assert _decoder_threads() == 0


def test_a_consumer_that_stops_early_stops_the_decoder(tmp_path: Path):
    path = _numbered_video(tmp_path / "numbered.mp4", 20)
    frames = FramesAhead(path, None, lambda frame: frame, depth=1)
    assert next(frames)[0] == 0
    frames.close()  # the decoder is blocked on a full queue: closing must not wait for the whole video
    assert _decoder_threads() == 0


def test_missing_file_directory_and_non_video_are_clear_errors(tmp_path: Path):
    with pytest.raises(TrackingError, match="video not found"):
        probe_video(tmp_path / "absent.mp4")
    with pytest.raises(TrackingError, match="not a file"):
        probe_video(tmp_path)
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is a text file with a video's name\n" * 20)
    with pytest.raises(TrackingError, match="cannot be decoded as a video"):
        probe_video(fake)
