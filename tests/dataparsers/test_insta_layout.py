"""INSTA data sets as the metrical-tracker export writes them."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import look_at_camera

from nerfblend_ns.dataparsers.frame_files import read_head_mask
from nerfblend_ns.dataparsers.insta_layout import HEAD_RADIUS_M
from nerfblend_ns.dataparsers.layouts import detect_layout
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from parsing_helpers import edit_split, parse

SIZE, FRAMES, TEST, VAL, COEFFICIENTS = 32, 10, 3, 2, 100
FL_X, FL_Y, CX, CY = 40.0, 42.0, 15.0, 17.5
OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])
HEAD_POINT = np.array([0.03, -0.02, 0.05])
"""A point on the face, in FLAME's head-fixed world (metres)."""
CLOTH_RED = 90


def opencv_camera_to_world(index: int) -> np.ndarray:
    """What the exporter writes: the inverse of the tracker's OpenCV [R|t], about 1 m from the head."""
    angle = 0.4 * np.sin(index)
    opengl = look_at_camera(np.array([0.9 * np.sin(angle), 0.1, 0.9 * np.cos(angle)]))
    return opengl @ OPENGL_TO_OPENCV


def head_disc() -> np.ndarray:
    yy, xx = np.mgrid[:SIZE, :SIZE]
    return (xx - SIZE / 2) ** 2 + (yy - SIZE / 2) ** 2 < (SIZE / 3) ** 2  # [S, S]


def write_insta(root: Path, matte: bool = True) -> Path:
    """A subject folder as published: RGBA frames (or RGB where `matte` is off), text coefficients,
    red-coded face parsing, and each split file listing its frames out of order."""
    for folder in ("images", "seg_mask", "flame/exp", "meshes"):
        (root / folder).mkdir(parents=True)
    disc = head_disc()
    frames = []
    for index in range(FRAMES):
        frame_id = f"{index:05d}"
        rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
        rgba[disc] = (120, 150, 200 - index, 255)  # BGRA
        cv2.imwrite(str(root / "images" / f"{frame_id}.png"), rgba if matte else rgba[..., :3])
        parsing = np.zeros((SIZE, SIZE, 3), np.uint8)
        parsing[disc, 2] = 250  # skin, in the red channel of a BGR write
        parsing[-4:, :, 2] = CLOTH_RED
        cv2.imwrite(str(root / "seg_mask" / f"{frame_id}.png"), parsing)
        np.savetxt(root / "flame" / "exp" / f"{frame_id}.txt", index + 0.01 * np.arange(COEFFICIENTS), fmt="%.8f")
        frames.append(
            {
                "transform_matrix": opencv_camera_to_world(index).tolist(),
                "file_path": f"images/{frame_id}.png",
                "mesh_path": f"meshes/{frame_id}.obj",
                "exp_path": f"flame/exp/{frame_id}.txt",
                "depth_path": f"depth/{frame_id}.png",
                "seg_mask_path": f"seg_mask/{frame_id}.png",
            }
        )
    top_level = {
        "w": SIZE, "h": SIZE, "cx": CX, "cy": CY, "fl_x": FL_X, "fl_y": FL_Y,
        "camera_angle_x": 2 * np.arctan(SIZE / (2 * FL_X)), "camera_angle_y": 2 * np.arctan(SIZE / (2 * FL_Y)),
        "integer_depth_scale": 0.001,
    }
    rng = np.random.default_rng(0)
    for split, listed in (("train", frames[:-TEST]), ("test", frames[-TEST:]), ("val", frames[-VAL:])):
        shuffled = [listed[i] for i in rng.permutation(len(listed))]
        (root / f"transforms_{split}.json").write_text(json.dumps(top_level | {"frames": shuffled}))
    return root


@pytest.fixture
def insta(tmp_path: Path) -> Path:
    return write_insta(tmp_path / "insta")


def test_detected_and_forced(insta):
    assert detect_layout(insta) == "insta"
    assert parse(insta, layout="insta").metadata["layout"] == "insta"
    with pytest.raises(WorkspaceError, match=r"\.png\.png: image file not found"):
        parse(insta, layout="nerface")  # NerFACE appends .png to file_path


def test_published_splits_are_used_as_given_in_id_order(insta):
    names = {split: [p.name for p in parse(insta, split).image_filenames] for split in ("train", "val", "test")}
    assert names["train"] == [f"{i:05d}.png" for i in range(FRAMES - TEST)]
    assert names["test"] == [f"{i:05d}.png" for i in range(FRAMES - TEST, FRAMES)]
    assert names["val"] == [f"{i:05d}.png" for i in range(FRAMES - VAL, FRAMES)]
    assert parse(insta, "test", test_frames=1, test_fraction=0.5).metadata["frame_indices"].tolist() == [7, 8, 9]


def test_a_head_point_projects_where_the_tracker_put_it(insta):
    """The tracker's OpenCV projection of a head point and our camera's ray through that pixel agree."""
    cameras = parse(insta).cameras
    for index in range(FRAMES - TEST):
        world_to_camera = np.linalg.inv(opencv_camera_to_world(index))
        x, y, z = world_to_camera[:3, :3] @ HEAD_POINT + world_to_camera[:3, 3]
        assert z > 0  # in front of an OpenCV camera
        pixel = torch.tensor([[FL_Y * y / z + CY, FL_X * x / z + CX]])  # (row, column)
        ray = cameras.generate_rays(camera_indices=torch.tensor([[index]]), coords=pixel)
        to_point = torch.from_numpy(HEAD_POINT / HEAD_RADIUS_M).float() - ray.origins[0]
        assert torch.linalg.norm(torch.linalg.cross(to_point, ray.directions[0])) < 1e-4
        assert torch.dot(to_point, ray.directions[0]) > 0


def test_intrinsics_scale_and_cameras_are_rigid(insta):
    outputs = parse(insta)
    cameras = outputs.cameras
    assert cameras.fx[0].item() == FL_X and cameras.fy[0].item() == FL_Y
    assert cameras.cx[0].item() == CX and cameras.cy[0].item() == CY
    assert cameras.width[0].item() == SIZE and cameras.height[0].item() == SIZE
    assert outputs.dataparser_scale == pytest.approx(1 / HEAD_RADIUS_M)
    rotation = cameras.camera_to_worlds[:, :, :3]
    assert torch.allclose(rotation.transpose(1, 2) @ rotation, torch.eye(3).expand(len(rotation), 3, 3), atol=1e-5)
    assert torch.allclose(torch.linalg.det(rotation), torch.ones(len(rotation)), atol=1e-5)
    assert parse(insta, head_radius=0.5).dataparser_scale == pytest.approx(2.0)


def test_flame_coefficients_and_names(insta):
    train, test = parse(insta), parse(insta, "test")
    assert train.cameras.metadata["expr"].shape == (FRAMES - TEST, COEFFICIENTS)
    assert test.cameras.metadata["expr"][0, :3].tolist() == pytest.approx([7.0, 7.01, 7.02])
    names = train.metadata["expression_names"]
    assert len(names) == COEFFICIENTS and names[0] == "flame_exp_000" and names[-1] == "flame_exp_099"
    assert test.metadata["expr_min"][0].item() == 0.0 and test.metadata["expr_max"][0].item() == FRAMES - TEST - 1


def test_alpha_is_the_head_mask(insta):
    outputs = parse(insta)
    assert outputs.metadata["mask_encoding"] == "alpha"
    assert outputs.metadata["head_mask_filenames"][2] == insta / "images" / "00002.png"
    assert np.array_equal(read_head_mask(insta / "images" / "00002.png", "alpha"), head_disc())


def test_frames_without_alpha_use_the_face_parsing(tmp_path):
    root = write_insta(tmp_path / "rgb", matte=False)
    outputs = parse(root)
    assert outputs.metadata["mask_encoding"] == "parsing-red"
    assert outputs.metadata["head_mask_filenames"][2] == root / "seg_mask" / "00002.png"
    mask = read_head_mask(root / "seg_mask" / "00002.png", "parsing-red")
    assert np.array_equal(mask, head_disc() & (np.arange(SIZE) < SIZE - 4)[:, None])  # clothing is not head


def _rewrite_exp(name: str, text: str):
    return lambda root: (root / "flame" / "exp" / name).write_text(text)


BAD_INPUTS = {
    "missing coefficient file": (lambda root: (root / "flame" / "exp" / "00004.txt").unlink(), "00004.txt", "not found"),
    "wrong coefficient count": (_rewrite_exp("00003.txt", "0.5\n" * 99), "00003.txt", "holds 99 coefficients, expected 100"),
    "NaN coefficient": (_rewrite_exp("00005.txt", "0.5\n" * 50 + "nan\n" + "0.5\n" * 49), "00005.txt", "NaN"),
    "malformed coefficients": (_rewrite_exp("00001.txt", "zero\n" * 100), "00001.txt", "malformed coefficients"),
    "image without alpha": (
        lambda root: cv2.imwrite(str(root / "images" / "00006.png"), np.full((SIZE, SIZE, 3), 99, np.uint8)),
        "00006.png", "no alpha channel",
    ),
    "empty matte": (
        lambda root: cv2.imwrite(str(root / "images" / "00002.png"), np.zeros((SIZE, SIZE, 4), np.uint8)),
        "00002.png", "mask is empty",
    ),
    "non-rigid transform": (
        lambda root: edit_split(root, "train", lambda meta: meta["frames"][1]["transform_matrix"][0].__setitem__(0, 3.0)),
        "transforms_train.json", "frame 1 'transform_matrix' is not rigid",
    ),
    "missing intrinsics": (
        lambda root: edit_split(root, "val", lambda meta: meta.pop("fl_y")), "transforms_val.json", "no 'fl_y'"
    ),
    "missing split file": (lambda root: (root / "transforms_test.json").unlink(), "transforms_test.json", "file not found"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_the_file(insta, case):
    change, file_name, problem = BAD_INPUTS[case]
    change(insta)
    with pytest.raises(WorkspaceError) as error:
        for split in ("train", "test"):
            parse(insta, split, layout="insta")
    assert file_name in str(error.value) and problem in str(error.value)
