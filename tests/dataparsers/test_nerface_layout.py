"""NerFACE data sets as published, and detection among all layouts."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import look_at_camera

from nerfblend_ns.dataparsers.frame_files import read_head_mask
from nerfblend_ns.dataparsers.layouts import detect_layout
from nerfblend_ns.dataparsers.nerface_layout import HEAD_RADIUS
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from parsing_helpers import edit_split, parse

WIDTH, HEIGHT, COEFFICIENTS = 32, 24, 76
SPLIT_SIZES = {"train": 6, "val": 2, "test": 3}
FX, FY, CX, CY = 30.0, 31.0, 0.45, 0.55  # CX, CY as fractions of the image size
BBOX = [0.2, 0.8, 0.25, 0.75]  # y0, y1, x0, x1
HEAD_POINT = np.array([0.02, -0.03, 0.04])
"""A point on the face, in NerFACE's head-fixed world."""
HOLE, SPECKLE, STRAY = np.s_[8:12, 14:18], np.s_[2, 29], np.s_[1:5, 1:5]
"""Head pixels the colour of the wall, a lone noisy wall pixel, and something else that moves."""


def camera_to_world(index: int) -> np.ndarray:
    """OpenGL camera-to-world about 0.5 from the origin, as the exporter's scaling puts it."""
    angle = 0.3 * np.sin(index + 1)
    return look_at_camera(np.array([0.5 * np.sin(angle), 0.05, 0.5 * np.cos(angle)]))


def wall() -> np.ndarray:
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    return np.stack([xx * 7 % 256, yy * 9 % 256, np.full_like(xx, 100)], -1).astype(np.uint8)  # [H, W, 3] RGB


def person() -> np.ndarray:
    """Head and shoulders [H, W]: a disc on a block that leaves the image at the bottom."""
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    head = (xx - WIDTH / 2) ** 2 + (yy - 10) ** 2 < 7**2
    shoulders = (yy >= 17) & (np.abs(xx - WIDTH / 2) < 11)
    return head | shoulders


def frame_image(index: int) -> np.ndarray:
    image = wall()
    image[person()] = (220, 170, 140 - index)
    image[HOLE] = wall()[HOLE]
    image[SPECKLE] = 255 - wall()[SPECKLE]
    image[STRAY] = (0, 255, 0)
    noise = np.random.default_rng(index).integers(-6, 7, image.shape)  # video compression noise
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def write_nerface(root: Path, fx_sign: float = -1.0) -> Path:
    """A subject folder as published: split folders of PNG frames, the background and three split files."""
    (root / "bg").mkdir(parents=True)
    cv2.imwrite(str(root / "bg" / "00050.png"), wall()[..., ::-1])
    index = 0
    for split, count in SPLIT_SIZES.items():
        (root / split).mkdir()
        frames = []
        for number in range(count):
            cv2.imwrite(str(root / split / f"f_{number:04d}.png"), frame_image(index)[..., ::-1])
            frames.append(
                {
                    "file_path": f"./{split}/f_{number:04d}",
                    "bbox": BBOX,
                    "transform_matrix": camera_to_world(index).tolist(),
                    "expression": [index + 0.001 * k for k in range(COEFFICIENTS)],
                }
            )
            index += 1
        meta = {
            "camera_angle_x": 2 * np.arctan(WIDTH / (2 * fx_sign * FX)),
            "intrinsics": [fx_sign * FX, FY, CX, CY],
            "frames": frames,
        }
        (root / f"transforms_{split}.json").write_text(json.dumps(meta))
    return root


@pytest.fixture
def nerface(tmp_path: Path) -> Path:
    return write_nerface(tmp_path / "nerface")


def test_detected_and_forced(nerface):
    assert detect_layout(nerface) == "nerface"
    assert parse(nerface, layout="nerface").metadata["layout"] == "nerface"
    with pytest.raises(WorkspaceError, match="transforms_train.json: the top level has no 'w'"):
        parse(nerface, layout="insta")


def test_a_folder_fitting_two_layouts_asks_for_one(nerface):
    edit_split(nerface, "train", lambda meta: meta.update(fl_x=FX))
    with pytest.raises(WorkspaceError, match=r"several layouts \(insta, nerface\).*--pipeline.datamanager.dataparser.layout"):
        parse(nerface)
    assert parse(nerface, layout="nerface").metadata["layout"] == "nerface"


def test_published_splits_are_used_as_given(nerface):
    indices = {split: parse(nerface, split, test_frames=1).metadata["frame_indices"].tolist() for split in SPLIT_SIZES}
    assert indices == {"train": [0, 1, 2, 3, 4, 5], "val": [6, 7], "test": [8, 9, 10]}
    assert parse(nerface, "val").image_filenames[1] == nerface / "val" / "f_0001.png"


@pytest.mark.parametrize("fx_sign", [-1.0, 1.0])
def test_a_head_point_lands_where_nerface_casts_its_ray(tmp_path, fx_sign):
    """NerFACE's ray through a pixel and ours agree in every frame; a negative fx mirrors the world in x."""
    cameras = parse(write_nerface(tmp_path / "data", fx_sign)).cameras
    expected = HEAD_POINT * (np.array([-1.0, 1.0, 1.0]) if fx_sign < 0 else 1.0) / HEAD_RADIUS
    for index in range(SPLIT_SIZES["train"]):
        world_to_camera = np.linalg.inv(camera_to_world(index))
        x, y, z = world_to_camera[:3, :3] @ HEAD_POINT + world_to_camera[:3, 3]
        depth = -z  # in front of an OpenGL camera
        column, row = WIDTH * CX + fx_sign * FX * x / depth, HEIGHT * CY - FY * y / depth  # NerFACE's pixel coordinates
        pixel_centre = torch.tensor([[row + 0.5, column + 0.5]])
        ray = cameras.generate_rays(camera_indices=torch.tensor([[index]]), coords=pixel_centre)
        to_point = torch.from_numpy(expected).float() - ray.origins[0]
        assert torch.linalg.norm(torch.linalg.cross(to_point, ray.directions[0])) < 1e-4
        assert torch.dot(to_point, ray.directions[0]) > 0
    rotation = cameras.camera_to_worlds[:, :, :3]
    assert torch.allclose(torch.linalg.det(rotation), torch.ones(len(rotation)), atol=1e-5)


def test_intrinsics_take_the_focal_length_magnitude_and_centre_pixels(nerface):
    outputs = parse(nerface)
    cameras = outputs.cameras
    assert cameras.fx[0].item() == FX and cameras.fy[0].item() == FY
    assert cameras.cx[0].item() == pytest.approx(WIDTH * CX + 0.5) and cameras.cy[0].item() == pytest.approx(HEIGHT * CY + 0.5)
    assert cameras.width[0].item() == WIDTH and cameras.height[0].item() == HEIGHT
    assert outputs.dataparser_scale == pytest.approx(1 / HEAD_RADIUS)
    assert outputs.metadata["face_rects"][0].tolist() == pytest.approx([0.25 * WIDTH, 0.2 * HEIGHT, 0.75 * WIDTH, 0.8 * HEIGHT])
    assert torch.isnan(outputs.metadata["mouth_rects"]).all()


def test_without_intrinsics_the_field_of_view_gives_them(nerface):
    for split in SPLIT_SIZES:
        edit_split(nerface, split, lambda meta: meta.update(intrinsics=[]))
    cameras = parse(nerface).cameras
    assert cameras.fx[0].item() == pytest.approx(FX) and cameras.fy[0].item() == pytest.approx(FX)
    assert cameras.cx[0].item() == WIDTH / 2 + 0.5 and cameras.cy[0].item() == HEIGHT / 2 + 0.5


def test_face2face_coefficients_and_names(nerface):
    test = parse(nerface, "test")
    assert test.cameras.metadata["expr"].shape == (3, COEFFICIENTS)
    assert test.cameras.metadata["expr"][0, :2].tolist() == pytest.approx([8.0, 8.001])
    names = test.metadata["expression_names"]
    assert len(names) == COEFFICIENTS and names[0] == "f2f_expr_000" and names[-1] == "f2f_expr_075"
    assert test.metadata["expr_max"][0].item() == SPLIT_SIZES["train"] - 1


@pytest.mark.parametrize("background_scale", [1, 2])
def test_mask_is_the_difference_to_the_background(nerface, background_scale):
    if background_scale != 1:
        plate = cv2.resize(wall(), (WIDTH * background_scale, HEIGHT * background_scale), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(nerface / "bg" / "00050.png"), plate[..., ::-1])
    outputs = parse(nerface)
    assert outputs.metadata["mask_encoding"] == "background-difference"
    assert outputs.metadata["background_filename"] == nerface / "bg" / "00050.png"
    image = outputs.metadata["head_mask_filenames"][3]
    assert image == nerface / "train" / "f_0003.png"
    mask = read_head_mask(image, "background-difference", nerface / "bg" / "00050.png")
    expected = person()
    assert mask[HOLE].all() and not mask[SPECKLE] and not mask[STRAY].any()
    assert (mask & expected).sum() / (mask | expected).sum() > 0.95


def test_masks_folder_overrides_the_background_difference(nerface):
    for split in SPLIT_SIZES:
        (nerface / "masks" / split).mkdir(parents=True)
        for image in (nerface / split).iterdir():
            cv2.imwrite(str(nerface / "masks" / split / image.name), person().astype(np.uint8) * 255)
    (nerface / "bg" / "00050.png").unlink()
    outputs = parse(nerface)
    assert outputs.metadata["mask_encoding"] == "gray"
    assert outputs.metadata["head_mask_filenames"][0] == nerface / "masks" / "train" / "f_0000.png"


BAD_INPUTS = {
    "expression length": (
        lambda root: edit_split(root, "val", lambda meta: meta["frames"][1]["expression"].pop()),
        "transforms_val.json", "frame 1 'expression' has length 75, expected 76",
    ),
    "NaN expression": (
        lambda root: edit_split(root, "test", lambda meta: meta["frames"][2]["expression"].__setitem__(5, float("nan"))),
        "transforms_test.json", "frame 2 'expression' contains NaN",
    ),
    "zero focal length": (
        lambda root: edit_split(root, "train", lambda meta: meta["intrinsics"].__setitem__(1, 0.0)),
        "transforms_train.json", "non-zero",
    ),
    "focal lengths of different signs": (
        lambda root: edit_split(root, "test", lambda meta: meta["intrinsics"].__setitem__(0, FX)),
        "transforms_test.json", "differ in sign",
    ),
    "missing image": (lambda root: (root / "val" / "f_0000.png").unlink(), "f_0000.png", "not found"),
    "missing background": (lambda root: (root / "bg" / "00050.png").unlink(), "00050.png", "background image not found"),
    "frame without head": (
        lambda root: cv2.imwrite(str(root / "train" / "f_0002.png"), wall()[..., ::-1]), "f_0002.png", "mask is empty"
    ),
    "bad bbox": (
        lambda root: edit_split(root, "train", lambda meta: meta["frames"][0].update(bbox=[0.5, 0.4, 0.1, 0.9])),
        "transforms_train.json", "frame 0 'bbox' is empty",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_the_file(nerface, case):
    change, file_name, problem = BAD_INPUTS[case]
    change(nerface)
    with pytest.raises(WorkspaceError) as error:
        for split in SPLIT_SIZES:
            parse(nerface, split)
    assert file_name in str(error.value) and problem in str(error.value)
