"""Frames and masks are decoded whole: a file cut short is an error naming it, never grey pixels."""

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from nerfblend_ns.dataparsers.frame_files import image_size, read_head_mask, read_rgb
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


def test_a_jpeg_is_read_as_stored_whatever_its_exif_orientation(tmp_path):
    """Masks, image sizes and cameras describe the stored pixels; turning the image by its EXIF tag would misalign them."""
    yy, xx = np.mgrid[:32, :24]
    pixels = np.stack([yy * 8, xx * 10, np.full_like(yy, 128)], -1).astype(np.uint8)  # [32, 24, 3]: a turn changes the shape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "turned.jpg", exif=exif.tobytes(), quality=100)
    read = read_rgb(tmp_path / "turned.jpg")
    assert read.shape == pixels.shape
    assert np.abs(read.astype(int) - pixels).mean() < 2  # JPEG noise only


def _claiming_size(source: Path, path: Path, width: int, height: int) -> Path:
    """A copy of the PNG `source` whose header (with a valid checksum) claims another size."""
    data = bytearray(source.read_bytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def test_a_png_claiming_a_huge_size_names_the_file(tmp_path):
    source = _write(tmp_path / "small.png", np.full((8, 8), 255, np.uint8))
    image = _claiming_size(source, tmp_path / "image.png", 20_000, 20_000)
    with pytest.raises(WorkspaceError, match=r"image.png: unreadable image \(Image size"):
        image_size(image)
    mask = _claiming_size(source, tmp_path / "mask.png", 60_000, 60_000)
    with pytest.raises(WorkspaceError, match=r"mask.png: unreadable mask image \(OpenCV refuses it"):
        read_head_mask(mask, "gray")
