"""The procedural head and the workspace that nerfblend-synthetic writes from it."""

import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from nerfblend_ns.dataparsers.workspace_layout import read_workspace
from nerfblend_ns.metrics.face_region import polygon_region
from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace
from nerfblend_ns.synthetic.cli import entrypoint
from nerfblend_ns.synthetic.procedural_head import (
    BACKGROUND_RGB,
    EXPRESSION_NAMES,
    IRIS_CENTRES,
    NOSE_TIP,
    FACE_OVAL_POINTS,
    PinholeCamera,
    face_oval_points,
    face_points,
    mouth_points,
    orbit_pose,
    render_head,
    synthetic_clip,
)

FRONT = orbit_pose(0.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "ws"
    write_synthetic_workspace(SyntheticConfig(out, num_frames=8, resolution=64, seed=1))
    return out


def _frames(root: Path):
    """(meta, frame, rgb [H, W, 3], mask [H, W] bool) for every frame of the workspace."""
    meta = json.loads((root / "transforms.json").read_text())
    for frame in meta["frames"]:
        rgb = cv2.imread(str(root / frame["file_path"]))[..., ::-1]
        mask = cv2.imread(str(root / frame["mask_path"]), cv2.IMREAD_UNCHANGED) > 127
        yield meta, frame, rgb, mask


def _project(meta: dict, camera_to_world: np.ndarray, point: np.ndarray) -> tuple:
    """Continuous pixel coordinates (u, v) of a world point [3]."""
    local = np.linalg.inv(camera_to_world) @ np.append(point, 1.0)  # [4], OpenGL camera looks down −z
    return meta["cx"] + meta["fx"] * local[0] / -local[2], meta["cy"] - meta["fy"] * local[1] / -local[2]


def _render(expression, resolution: int) -> np.ndarray:
    return render_head(np.array(expression, dtype=float), PinholeCamera.square(resolution, FRONT)).rgb


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.299, 0.587, 0.114])


def test_nose_tip_and_head_centre_project_into_mask_and_face_rect(workspace: Path) -> None:
    above_head = np.array([0.0, 0.135, 0.0])
    for meta, frame, _, mask in _frames(workspace):
        pose = np.array(frame["transform_matrix"])
        x0, y0, x1, y1 = frame["face_rect"]
        for point in (NOSE_TIP, np.zeros(3)):
            u, v = (int(math.floor(c)) for c in _project(meta, pose, point))
            assert mask[v, u]
            assert x0 <= u < x1 and y0 <= v < y1
        u, v = (int(math.floor(c)) for c in _project(meta, pose, above_head))
        assert not mask[v, u]


def test_rects_bound_the_projected_mouth_and_face(workspace: Path) -> None:
    for meta, frame, _, _ in _frames(workspace):
        pose, expression = np.array(frame["transform_matrix"]), np.array(frame["expression"])
        for key, points in (("mouth_rect", mouth_points(expression)), ("face_rect", face_points(expression))):
            pixels = np.array([_project(meta, pose, point) for point in points])  # [M, 2]
            expected = [*np.floor(pixels.min(axis=0)), *np.floor(pixels.max(axis=0)) + 1]
            expected = np.clip(expected, 0, [meta["w"], meta["h"], meta["w"], meta["h"]])
            np.testing.assert_allclose(frame[key], expected, atol=1)
        assert frame["face_rect"][0] <= frame["mouth_rect"][0] < frame["mouth_rect"][2] <= frame["face_rect"][2]
        assert frame["face_rect"][1] <= frame["mouth_rect"][1] < frame["mouth_rect"][3] <= frame["face_rect"][3]


def test_face_oval_lies_on_the_face_for_every_expression() -> None:
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * len(EXPRESSION_NAMES))).reshape(len(EXPRESSION_NAMES), -1).T
    for expression in corners:
        oval = face_oval_points(expression)
        assert oval.shape == (FACE_OVAL_POINTS, 3) and np.isfinite(oval).all()
        assert oval[0, 0] == 0.0 and oval[0, 1] == oval[:, 1].max()  # starts at the top, on the midline


def test_landmark_file_holds_each_frames_projected_oval_inside_mask_and_face_rect(workspace: Path) -> None:
    landmarks = read_workspace(workspace).landmarks
    assert landmarks.kind == "face-oval"
    for position, (meta, frame, _, mask) in enumerate(_frames(workspace)):
        pose, expression = np.array(frame["transform_matrix"]), np.array(frame["expression"])
        expected = np.array([_project(meta, pose, point) for point in face_oval_points(expression)])  # [36, 2]
        oval = landmarks.face_ovals()[position]
        np.testing.assert_allclose(oval, expected, atol=1e-4)
        region = polygon_region(oval, meta["h"], meta["w"])
        x0, y0, x1, y1 = frame["face_rect"]
        rows, cols = np.nonzero(region)
        assert region.sum() > 0.1 * mask.sum() and mask[region].mean() > 0.98
        assert x0 <= cols.min() and cols.max() < x1 and y0 <= rows.min() and rows.max() < y1


def test_opening_the_jaw_darkens_the_mouth() -> None:
    resolution = 96
    x0, y0, x1, y1 = PinholeCamera.square(resolution, FRONT).pixel_rect(mouth_points(np.array([1.0, 0, 0, 0])))
    closed, half, opened = (_luma(_render([jaw, 0, 0, 0], resolution)[y0:y1, x0:x1]) for jaw in (0.0, 0.5, 1.0))
    assert opened.mean() < half.mean() < closed.mean() and opened.mean() < 0.9 * closed.mean()
    dark = [int((luma < 60).sum()) for luma in (closed, half, opened)]
    assert dark[0] < dark[1] < dark[2] and dark[2] > 3 * max(dark[0], 4)


def test_blinking_hides_the_irises() -> None:
    def iris_pixels(blink: float) -> int:
        rgb = _render([0, 0, 0, blink], 128).astype(int)
        return int((rgb[..., 2] > rgb[..., 0] + 40).sum())

    assert iris_pixels(0.0) >= 10
    assert iris_pixels(1.0) == 0


def test_irises_appear_where_the_eyes_project() -> None:
    pose = orbit_pose(math.radians(20.0), math.radians(8.0), math.radians(3.0))
    camera = PinholeCamera.square(128, pose)
    meta = {"cx": camera.cx, "cy": camera.cy, "fx": camera.fx, "fy": camera.fy}
    rgb = render_head(np.zeros(4), camera).rgb.astype(int)
    for centre in IRIS_CENTRES:
        u, v = (int(math.floor(c)) for c in _project(meta, pose, centre))
        red, _, blue = rgb[v, u]
        assert blue >= red  # pupil or iris; skin and sclera are redder than blue


def test_mask_is_head_and_the_rest_is_background(workspace: Path) -> None:
    for meta, frame, rgb, mask in _frames(workspace):
        assert 0.1 < mask.mean() < 0.7
        assert np.all(rgb[~mask] == BACKGROUND_RGB)
        assert not np.any(np.all(rgb[mask] == BACKGROUND_RGB, axis=-1))
        # Every head pixel's ray passes within the format's 0.16 m head radius of the origin.
        pose = np.array(frame["transform_matrix"])
        rows, cols = np.nonzero(mask)
        x, y = (cols + 0.5 - meta["cx"]) / meta["fx"], (meta["cy"] - rows - 0.5) / meta["fy"]
        local = np.stack([x, y, -np.ones(len(rows))], 1)  # [P, 3]
        dirs = local @ pose[:3, :3].T
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        centre = pose[:3, 3]
        assert np.linalg.norm(centre - (dirs @ centre)[:, None] * dirs, axis=1).max() < 0.16


def test_camera_poses_are_rigid_and_look_at_the_head(workspace: Path) -> None:
    for meta, frame, _, _ in _frames(workspace):
        pose = np.array(frame["transform_matrix"])
        rotation, centre = pose[:3, :3], pose[:3, 3]
        np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-9)
        assert np.linalg.det(rotation) == pytest.approx(1.0)
        np.testing.assert_array_equal(pose[3], [0, 0, 0, 1])
        assert np.linalg.norm(centre) == pytest.approx(0.6)
        np.testing.assert_allclose(-rotation[:, 2], -centre / np.linalg.norm(centre), atol=1e-9)
        assert _project(meta, pose, np.zeros(3)) == pytest.approx((meta["cx"], meta["cy"]))


def test_trajectories_are_smooth_and_span_each_coefficient() -> None:
    clip = synthetic_clip(60, seed=0)
    assert clip.expressions.shape == (60, len(EXPRESSION_NAMES))
    assert clip.expressions.min(axis=0).max() < 0.05 and clip.expressions.max(axis=0).min() > 0.95
    assert np.abs(np.diff(clip.expressions, axis=0)).max() < 0.3
    yaw = np.degrees(np.arctan2(clip.camera_to_world[:, 0, 3], clip.camera_to_world[:, 2, 3]))
    assert np.abs(yaw).max() == pytest.approx(25.0, abs=0.5)
    assert np.abs(np.diff(yaw)).max() < 8.0


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    roots = [tmp_path / name for name in ("a", "b", "c")]
    for root, seed in zip(roots, (3, 3, 4)):
        write_synthetic_workspace(SyntheticConfig(root, num_frames=3, resolution=32, seed=seed))
    files = sorted(path.relative_to(roots[0]) for path in roots[0].rglob("*") if path.is_file())
    assert len(files) == 9  # marker, transforms.json, landmarks.npz, 3 images, 3 masks
    for name in files:
        assert (roots[0] / name).read_bytes() == (roots[1] / name).read_bytes()
    assert (roots[0] / "transforms.json").read_bytes() != (roots[2] / "transforms.json").read_bytes()


def _run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["nerfblend-synthetic", *args])
    entrypoint()


def test_cli_writes_and_rewrites_its_own_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "demo"
    _run_cli(monkeypatch, "--output-dir", str(out), "--num-frames", "5", "--resolution", "32")
    assert len(json.loads((out / "transforms.json").read_text())["frames"]) == 5
    assert len(list((out / "images").iterdir())) == len(list((out / "masks").iterdir())) == 5
    _run_cli(monkeypatch, "--output-dir", str(out), "--num-frames", "3", "--resolution", "32")
    assert len(json.loads((out / "transforms.json").read_text())["frames"]) == 3
    assert sorted(path.name for path in (out / "images").iterdir()) == ["00000.png", "00001.png", "00002.png"]


def test_cli_refuses_a_foreign_folder_without_touching_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "transforms.json").write_text("my own data")
    with pytest.raises(SystemExit) as exit_info:
        _run_cli(monkeypatch, "--output-dir", str(out), "--num-frames", "2", "--resolution", "32")
    assert exit_info.value.code != 0
    assert str(out) in capsys.readouterr().err.replace("\n", "")
    assert [path.name for path in out.iterdir()] == ["transforms.json"]
    assert (out / "transforms.json").read_text() == "my own data"
