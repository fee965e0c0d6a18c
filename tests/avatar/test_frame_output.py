"""Rendered frames replace only what nerfblend-render wrote: a user's video or folder is kept."""

from pathlib import Path

import numpy as np
import pytest

# Collected everywhere; the GPU machines' environment has no PyAV, and these tests do not need a GPU.
av = pytest.importorskip("av")

from nerfblend_ns.avatar.frame_output import FRAMES_MARKER, FrameWriter  # noqa: E402
from nerfblend_ns.avatar.owned_outputs import ForeignOutputError  # noqa: E402

FRAME = np.full((16, 16, 3), 90, np.uint8)  # [H, W, 3]


def _render(output: Path, formats: str = "mp4", count: int = 2) -> None:
    with FrameWriter(output, formats, fps=25.0) as writer:
        for _ in range(count):
            writer.write(FRAME)


def _frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_video_of_its_own_is_replaced(tmp_path):
    _render(tmp_path / "edit.mp4", count=2)
    _render(tmp_path / "edit.mp4", count=3)
    assert _frame_count(tmp_path / "edit.mp4") == 3
    assert [path.name for path in tmp_path.iterdir()] == ["edit.mp4"]  # no partial file left


def _unmarked_video(path: Path) -> None:
    """An H.264 MP4 as any other tool writes it."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        for packet in [*stream.encode(av.VideoFrame.from_ndarray(FRAME, format="rgb24")), *stream.encode(None)]:
            container.mux(packet)


def test_a_file_it_did_not_write_is_refused_and_kept(tmp_path):
    _unmarked_video(tmp_path / "holiday.mp4")
    (tmp_path / "notes.mp4").write_text("not a video")
    contents = {path: path.read_bytes() for path in tmp_path.iterdir()}
    for path in contents:
        with pytest.raises(ForeignOutputError, match=f"{path.name} exists and was not written by nerfblend; it is kept"):
            _render(path)
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == contents


def test_png_frames_go_only_into_a_folder_of_its_own(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "00000.png").write_bytes(b"the user's frame")
    with pytest.raises(ForeignOutputError, match="images holds files nerfblend-render did not write"):
        _render(images, "png")
    assert (images / "00000.png").read_bytes() == b"the user's frame"
    _render(tmp_path / "renders" / "edit", "png", count=2)
    _render(tmp_path / "renders" / "edit", "png", count=2)
    assert sorted(path.name for path in (tmp_path / "renders" / "edit").iterdir()) == [FRAMES_MARKER, "00000.png", "00001.png"]


def test_a_failed_render_leaves_the_earlier_video_whole(tmp_path):
    _render(tmp_path / "edit.mp4", count=2)
    before = (tmp_path / "edit.mp4").read_bytes()
    with pytest.raises(RuntimeError):
        with FrameWriter(tmp_path / "edit.mp4", "mp4", fps=25.0) as writer:
            writer.write(FRAME)
            raise RuntimeError("the renderer failed")
    assert (tmp_path / "edit.mp4").read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["edit.mp4"]
