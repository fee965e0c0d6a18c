"""Small workspaces written on disk by the tests, in each supported layout."""

import json
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest


def look_at_camera(position: np.ndarray) -> np.ndarray:
    """OpenGL camera-to-world [4, 4] at `position`, looking at the origin, +y up."""
    back = position / np.linalg.norm(position)
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    matrix = np.eye(4)
    matrix[:3, 0], matrix[:3, 1], matrix[:3, 2], matrix[:3, 3] = right, up, back, position
    return matrix


def _disc_image(size: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    mask = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (size / 3) ** 2  # [S, S]
    image = np.full((size, size, 3), 40, np.uint8)
    image[mask] = (200, 150 + index % 50, 120)
    return image, mask


def write_workspace(root: Path, num_frames: int = 16, num_coefficients: int = 3, size: int = 24) -> Path:
    """A valid nerfblend workspace: expression k of frame i is i + 100·k, so splits are recognisable."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    frames = []
    for index in range(num_frames):
        image, mask = _disc_image(size, index)
        cv2.imwrite(str(root / "images" / f"{index:05d}.png"), image[..., ::-1])
        cv2.imwrite(str(root / "masks" / f"{index:05d}.png"), mask.astype(np.uint8) * 255)
        angle = 0.3 * np.sin(index)
        frames.append(
            {
                "file_path": f"images/{index:05d}.png",
                "mask_path": f"masks/{index:05d}.png",
                "transform_matrix": look_at_camera(np.array([0.6 * np.sin(angle), 0.05, 0.6 * np.cos(angle)])).tolist(),
                "expression": [float(index + 100 * k) for k in range(num_coefficients)],
                "mouth_rect": [size * 0.4, size * 0.6, size * 0.6, size * 0.75],
                "face_rect": [size * 0.2, size * 0.2, size * 0.8, size * 0.8],
            }
        )
    meta = {
        "w": size, "h": size, "fx": size * 1.2, "fy": size * 1.2, "cx": size / 2, "cy": size / 2,
        "expression_names": [f"coef{k}" for k in range(num_coefficients)],
        "frames": frames,
    }
    (root / "transforms.json").write_text(json.dumps(meta))
    return root


def write_official_release(root: Path, num_frames: int = 12, num_coefficients: int = 46, size: int = 24) -> Path:
    """A subject folder in the official NeRFBlendShape release layout, frames listed out of order."""
    for folder in ("head_imgs", "parsing", "ori_imgs"):
        (root / folder).mkdir(parents=True)
    frames = []
    for image_id in range(num_frames):
        image, mask = _disc_image(size, image_id)
        cv2.imwrite(str(root / "head_imgs" / f"{image_id}.jpg"), image[..., ::-1])
        parsing = np.zeros((size, size, 3), np.uint8)
        parsing[mask] = (0, 0, 255)  # RGB blue: head
        parsing[~mask] = (255, 0, 0)  # any other class
        cv2.imwrite(str(root / "parsing" / f"{image_id}.png"), parsing[..., ::-1])
        landmarks = np.random.default_rng(image_id).uniform(size * 0.3, size * 0.7, (478, 2))
        np.savetxt(root / "ori_imgs" / f"{image_id}.lms", landmarks, "%f")
        frames.append(
            {
                "img_id": image_id,
                "transform_matrix": look_at_camera(np.array([0.1, 0.0, 1.5])).tolist(),
                "exp_ori": [0.01 * image_id] * num_coefficients,
                "exp": [0.0] * 4,
            }
        )
    cv2.imwrite(str(root / "bc.jpg"), np.full((size, size, 3), 90, np.uint8))
    meta = {"h": size, "w": size, "fx": 30.0, "fy": 30.0, "cx": size / 2, "cy": size / 2, "frames": frames[::-1]}
    (root / "transforms.json").write_text(json.dumps(meta))
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def tiny_avatar(tmp_path_factory):
    """A tiny trained run and its copy of known geometry (tests/avatar_runs.py), shared by the session."""
    from avatar_runs import train_tiny_avatar  # here, not at the top: it loads nerfstudio, which most tests skip

    return train_tiny_avatar(tmp_path_factory.mktemp("avatar"))


@pytest.fixture
def official_release(tmp_path: Path) -> Path:
    return write_official_release(tmp_path / "release")


@pytest.fixture
def edit_transforms() -> Callable:
    """Rewrites a workspace's transforms.json through a function of its parsed content."""

    def edit(root: Path, change: Callable[[dict], None]) -> Path:
        path = root / "transforms.json"
        meta = json.loads(path.read_text())
        change(meta)
        path.write_text(json.dumps(meta))
        return path

    return edit
