"""Frames and masks are decoded whole: a file cut short is an error naming it, never grey pixels."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from nerfblend_ns.dataparsers.frame_files import read_head_mask, read_rgb
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError


def _photo(size: int = 64) -> np.ndarray:
    """A textured RGB image [S, S, 3], so that a JPEG of it has many entropy-coded bytes."""
    return np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)


def _write(path: Path, pixels: np.ndarray) -> Path:
    cv2.imwrite(str(path), pixels[..., ::-1] if pixels.ndim == 3 else pixels)
    return path


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_whole_file_decodes_as_opencv_reads_it(tmp_path, suffix):
    path = _write(tmp_path / f"frame{suffix}", _photo())
    assert np.array_equal(read_rgb(path), cv2.imread(str(path))[..., ::-1])


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("kept", [0.5, 0.99])
def test_a_truncated_image_names_the_file(tmp_path, suffix, kept):
    path = _write(tmp_path / f"frame{suffix}", _photo())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * kept)])
    if suffix == ".jpg":  # what is refused: OpenCV alone returns the cut JPEG, its missing rows grey
        assert cv2.imread(str(path)) is not None
    with pytest.raises(WorkspaceError, match=rf"frame{suffix}: truncated image"):
        read_rgb(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("trailer", [b"\x00" * 16, b"ftypmp42" + bytes(range(256)) * 4], ids=["padding", "appended video"])
def test_data_after_the_end_marker_is_accepted(tmp_path, suffix, trailer):
    path = _write(tmp_path / f"frame{suffix}", _photo())
    whole = read_rgb(path)
    path.write_bytes(path.read_bytes() + trailer)
    assert np.array_equal(read_rgb(path), whole)


def test_a_jpeg_cut_just_before_its_end_marker_is_refused(tmp_path):
    path = _write(tmp_path / "frame.jpg", _photo())
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(WorkspaceError, match="truncated image"):
        read_rgb(path)


def test_a_truncated_mask_names_the_file(tmp_path):
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    path = _write(tmp_path / "mask.jpg", mask)
    assert read_head_mask(path, "gray").sum() == pytest.approx(32 * 32, rel=0.1)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(WorkspaceError, match="mask.jpg: truncated mask image"):
        read_head_mask(path, "gray")


def test_a_file_of_another_format_is_left_to_its_decoder(tmp_path):
    path = _write(tmp_path / "frame.bmp", _photo())
    assert read_rgb(path).shape == (64, 64, 3)
    path.write_bytes(b"BM" + b"\x00" * 10)
    with pytest.raises(WorkspaceError, match="frame.bmp: unreadable image"):
        read_rgb(path)
