"""landmarks.npz: round trip, the dataparser's checks (each error names the file), old workspaces without it."""

import json
from pathlib import Path

import numpy as np
import pytest

from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE, FrameLandmarks, read_landmark_file, write_landmark_file
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.dataparsers.workspace_layout import read_workspace
from nerfblend_ns.face_mesh_landmarks import FACE_OVAL


def _file_paths(root: Path):
    return [frame["file_path"] for frame in json.loads((root / "transforms.json").read_text())["frames"]]


def _landmarks(count: int, kind: str = "mediapipe-478") -> FrameLandmarks:
    points = 478 if kind == "mediapipe-478" else len(FACE_OVAL)
    values = np.random.default_rng(0).uniform(0.0, 24.0, (count, points, 3))
    values[:, :, 0] += np.arange(count)[:, None]  # x grows with the frame, so the order is checked
    return FrameLandmarks(kind, values.astype(np.float32))


def test_round_trip_keeps_values_and_writes_the_same_bytes_twice(workspace: Path, tmp_path: Path):
    names, landmarks = _file_paths(workspace), _landmarks(16)
    write_landmark_file(workspace / LANDMARKS_FILE, names, landmarks)
    first = (workspace / LANDMARKS_FILE).read_bytes()
    read = read_landmark_file(workspace / LANDMARKS_FILE, names)
    assert read.kind == "mediapipe-478"
    np.testing.assert_array_equal(read.points, landmarks.points)
    np.testing.assert_array_equal(read.face_ovals(), landmarks.points[:, list(FACE_OVAL), :2])
    write_landmark_file(workspace / LANDMARKS_FILE, names, landmarks)
    assert (workspace / LANDMARKS_FILE).read_bytes() == first
    assert not list(workspace.glob("*.tmp"))


def test_face_oval_kind_is_its_own_polygon(workspace: Path):
    names, landmarks = _file_paths(workspace), _landmarks(16, "face-oval")
    write_landmark_file(workspace / LANDMARKS_FILE, names, landmarks)
    np.testing.assert_array_equal(read_landmark_file(workspace / LANDMARKS_FILE, names).face_ovals(), landmarks.points[..., :2])


def test_writer_refuses_a_wrong_shape_or_nan(tmp_path: Path):
    with pytest.raises(ValueError, match="shape"):
        write_landmark_file(tmp_path / LANDMARKS_FILE, ["a.png"], _landmarks(2))
    bad = _landmarks(1)
    bad.points[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_landmark_file(tmp_path / LANDMARKS_FILE, ["a.png"], bad)
    assert not (tmp_path / LANDMARKS_FILE).exists()


def test_dataparser_gives_each_split_its_face_ovals(workspace: Path):
    landmarks = _landmarks(16)
    write_landmark_file(workspace / LANDMARKS_FILE, _file_paths(workspace), landmarks)
    outputs = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("test")
    indices = outputs.metadata["frame_indices"].numpy()
    assert outputs.metadata["landmark_kind"] == "mediapipe-478"
    ovals = outputs.metadata["face_ovals"].numpy()
    assert ovals.shape == (len(indices), 36, 2)
    np.testing.assert_allclose(ovals, landmarks.points[indices][:, list(FACE_OVAL), :2], rtol=1e-6)


def test_workspace_without_landmarks_still_loads(workspace: Path):
    assert read_workspace(workspace).landmarks is None
    outputs = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("train")
    assert outputs.metadata["face_ovals"] is None and outputs.metadata["landmark_kind"] is None


def _save_raw(path: Path, **arrays) -> None:
    with open(path, "wb") as handle:  # np.savez would add .npz to a str path without it
        np.savez(handle, **arrays)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda path, names: path.write_text("not a zip"), "cannot be read"),
        (lambda path, names: _save_raw(path, kind=np.array("mediapipe-478"), file_paths=np.array(names)), "has no 'landmarks'"),
        (lambda path, names: _save_raw(path, kind=np.array("dlib-68"), file_paths=np.array(names), landmarks=np.zeros((16, 68, 3))), "unknown landmark kind"),
        (lambda path, names: _save_raw(path, kind=np.array("mediapipe-478"), file_paths=np.array(names[:-1]), landmarks=np.zeros((15, 478, 3))), "15 frames, transforms.json lists 16"),
        (lambda path, names: _save_raw(path, kind=np.array("mediapipe-478"), file_paths=np.array(names[::-1]), landmarks=np.zeros((16, 478, 3))), "differ from frame 0"),
        (lambda path, names: _save_raw(path, kind=np.array("mediapipe-478"), file_paths=np.array(names), landmarks=np.zeros((16, 478, 2))), "shape \\[16, 478, 3\\]"),
        (lambda path, names: _save_raw(path, kind=np.array("mediapipe-478"), file_paths=np.array(names), landmarks=np.full((16, 478, 3), np.inf)), "frame 0 \\(images/00000.png\\) contain NaN or infinite"),
    ],
)
def test_dataparser_errors_name_the_landmark_file(workspace: Path, breakage, message):
    path = workspace / LANDMARKS_FILE
    breakage(path, _file_paths(workspace))
    with pytest.raises(WorkspaceError, match=message) as caught:
        NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("train")
    assert caught.value.path == path and str(path) in str(caught.value)


def test_only_the_three_arrays_are_read(workspace: Path, monkeypatch):
    """A further member of any size (a zip bomb) is never decompressed."""
    path = workspace / LANDMARKS_FILE
    write_landmark_file(path, _file_paths(workspace), _landmarks(16))
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    _save_raw(path, **arrays, padding=np.zeros(1000, np.uint8))
    read_members = []
    original = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", lambda self, key: read_members.append(key) or original(self, key))
    outputs = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("train")
    assert outputs.metadata["face_ovals"] is not None and "padding" not in read_members
