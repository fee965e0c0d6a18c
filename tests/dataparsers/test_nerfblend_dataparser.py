import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from nerfblend_ns.dataparsers.nerfblend_dataparser import DataParserOptionError
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.dataparsers.workspace_layout import HEAD_RADIUS_M
from parsing_helpers import parse


def test_splits_cameras_and_expressions(workspace):
    train, val, test = (parse(workspace, split, test_frames=4, val_frames=2) for split in ("train", "val", "test"))
    assert len(train.image_filenames) == 12 and len(test.image_filenames) == 4 and len(val.image_filenames) == 2
    assert train.image_filenames[0].name == "00000.png" and test.image_filenames[0].name == "00012.png"
    expressions = test.cameras.metadata["expr"]
    assert expressions.shape == (4, 3)
    assert expressions[:, 0].tolist() == [12.0, 13.0, 14.0, 15.0]
    assert expressions[0].tolist() == [12.0, 112.0, 212.0]
    assert val.metadata["frame_indices"].tolist() == [12, 15]
    assert test.metadata["expression_names"] == ["coef0", "coef1", "coef2"]


def test_min_max_come_from_training_frames_only(workspace):
    for split in ("train", "test"):
        outputs = parse(workspace, split, test_frames=4)
        assert outputs.metadata["expr_min"].tolist() == [0.0, 100.0, 200.0]
        assert outputs.metadata["expr_max"].tolist() == [11.0, 111.0, 211.0]


def test_fixed_normalisation_scales_translations_and_keeps_rotations(workspace):
    outputs = parse(workspace)
    meta = json.loads((workspace / "transforms.json").read_text())
    original = torch.tensor(meta["frames"][0]["transform_matrix"], dtype=torch.float32)
    camera = outputs.cameras.camera_to_worlds[0]
    assert torch.allclose(camera[:, :3], original[:3, :3])
    assert torch.allclose(camera[:, 3], original[:3, 3] / HEAD_RADIUS_M)
    assert outputs.dataparser_scale == pytest.approx(1 / HEAD_RADIUS_M)
    assert outputs.scene_box.aabb.tolist() == [[-1, -1, -1], [1, 1, 1]]
    assert parse(workspace, head_radius=0.5).cameras.camera_to_worlds[0, :, 3].allclose(original[:3, 3] / 0.5)


def test_intrinsics_rects_and_masks(workspace):
    outputs = parse(workspace)
    cameras = outputs.cameras
    assert cameras.fx[0].item() == pytest.approx(28.8) and cameras.cx[0].item() == 12.0
    assert cameras.width[0].item() == 24 and cameras.height[0].item() == 24
    assert outputs.metadata["mouth_rects"][0].tolist() == pytest.approx([9.6, 14.4, 14.4, 18.0])
    assert outputs.metadata["head_mask_filenames"][3] == workspace / "masks" / "00003.png"


def test_per_frame_intrinsics_override(workspace, edit_transforms):
    edit_transforms(workspace, lambda meta: meta["frames"][1].update(fx=50.0))
    cameras = parse(workspace).cameras
    assert cameras.fx[1].item() == 50.0 and cameras.fx[0].item() == pytest.approx(28.8)


def test_camera_projects_a_known_point(workspace):
    """A world point ahead of camera 0 lands where the pinhole model puts it (OpenGL axes)."""
    cameras = parse(workspace).cameras
    c2w = cameras.camera_to_worlds[0]
    point_camera = torch.tensor([0.1, -0.05, -1.0])  # in front of the camera: −z
    point_world = c2w[:, :3] @ point_camera + c2w[:, 3]
    rays = cameras.generate_rays(camera_indices=0, keep_shape=True)
    u = cameras.cx[0] + cameras.fx[0] * 0.1 / 1.0
    v = cameras.cy[0] - cameras.fy[0] * -0.05 / 1.0
    direction = rays.directions[int(v), int(u)]
    to_point = torch.nn.functional.normalize(point_world - rays.origins[int(v), int(u)], dim=0)
    assert torch.dot(direction, to_point) > 0.999


def _digest(root: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())).hexdigest()


BAD_INPUTS = {
    "missing image": (lambda root, meta: (root / "images" / "00002.png").unlink(), "00002.png", "not found"),
    "overflowing coefficient": (
        lambda root, meta: meta["frames"][14]["expression"].__setitem__(1, 1e30), "transforms.json",
        "frame 14 (00014.png) expression coefficient 1 is 1e+30, beyond ±1000",
    ),
    "sentinel coefficient": (
        lambda root, meta: meta["frames"][3]["expression"].__setitem__(0, -9999), "transforms.json", "frame 3",
    ),
    "truncated mask": (
        lambda root, meta: (root / "masks" / "00005.png").write_bytes((root / "masks" / "00005.png").read_bytes()[:-30]),
        "00005.png", "truncated mask image",
    ),
    "missing mask": (lambda root, meta: (root / "masks" / "00003.png").unlink(), "00003.png", "not found"),
    "unreadable image": (lambda root, meta: (root / "images" / "00001.png").write_bytes(b"not a png"), "00001.png", "unreadable"),
    "unreadable mask": (lambda root, meta: (root / "masks" / "00001.png").write_bytes(b"junk"), "00001.png", "unreadable"),
    "empty mask": (
        lambda root, meta: cv2.imwrite(str(root / "masks" / "00004.png"), np.zeros((24, 24), np.uint8)),
        "00004.png", "empty",
    ),
    "mask of wrong size": (
        lambda root, meta: cv2.imwrite(str(root / "masks" / "00005.png"), np.full((12, 24), 255, np.uint8)),
        "00005.png", "24×12",
    ),
    "image of wrong size": (
        lambda root, meta: cv2.imwrite(str(root / "images" / "00006.png"), np.zeros((20, 24, 3), np.uint8)),
        "00006.png", "24×20",
    ),
    "expression length": (lambda root, meta: meta["frames"][2]["expression"].pop(), "transforms.json", "frame 2 'expression' has length 2, expected 3"),
    "NaN coefficient": (lambda root, meta: meta["frames"][3]["expression"].__setitem__(1, float("nan")), "transforms.json", "NaN"),
    "infinite coefficient": (lambda root, meta: meta["frames"][3]["expression"].__setitem__(1, float("inf")), "transforms.json", "NaN or infinite"),
    "non-rigid transform": (
        lambda root, meta: meta["frames"][1]["transform_matrix"][0].__setitem__(0, 2.0), "transforms.json", "frame 1 'transform_matrix' is not rigid"
    ),
    "reflection": (
        lambda root, meta: [row.__setitem__(0, -row[0]) for row in meta["frames"][1]["transform_matrix"][:3]],
        "transforms.json", "not rigid",
    ),
    "bad transform shape": (lambda root, meta: meta["frames"][0].update(transform_matrix=[[1, 0, 0]]), "transforms.json", "shape"),
    "missing key": (lambda root, meta: meta["frames"][0].pop("mask_path"), "transforms.json", "frame 0 has no 'mask_path'"),
    "missing intrinsics": (lambda root, meta: meta.pop("fx"), "transforms.json", "no 'fx'"),
    "empty rect": (lambda root, meta: meta["frames"][0].update(mouth_rect=[5, 5, 5, 9]), "transforms.json", "mouth_rect"),
    "repeated coefficient name": (
        lambda root, meta: meta.update(expression_names=["coef0", "coef1", "coef0"]), "transforms.json",
        "expression names repeat (coef0)",
    ),
    "empty coefficient name": (
        lambda root, meta: meta.update(expression_names=["coef0", " ", "coef2"]), "transforms.json", "expression name 1 is empty",
    ),
    "two frames on one image": (
        lambda root, meta: meta["frames"][5].update(file_path="images/00002.png"), "transforms.json",
        "frames 2 and 5 both use images/00002.png",
    ),
    "number as a string": (lambda root, meta: meta.update(w="24"), "transforms.json", "'w' is not numeric"),
    "boolean coefficient": (
        lambda root, meta: meta["frames"][2]["expression"].__setitem__(0, True), "transforms.json",
        "frame 2 'expression' is not numeric",
    ),
    "null coefficient": (
        lambda root, meta: meta["frames"][2]["expression"].__setitem__(0, None), "transforms.json",
        "frame 2 'expression' is not numeric",
    ),
    "mouth box outside the image": (
        lambda root, meta: meta["frames"][2].update(mouth_rect=[-500, -500, -400, -400]), "transforms.json",
        "00002.png: its mouth_rect [-500.0, -500.0, -400.0, -400.0] lies outside its 24×24 image",
    ),
    "fractional width": (lambda root, meta: meta.update(w=24.5), "transforms.json", "'w' must be a whole number of pixels, got 24.5"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_and_problem_and_touches_nothing(workspace, case):
    change, file_name, problem = BAD_INPUTS[case]
    meta = json.loads((workspace / "transforms.json").read_text(encoding="utf-8"))
    change(workspace, meta)
    (workspace / "transforms.json").write_text(json.dumps(meta))
    before = _digest(workspace)
    with pytest.raises(WorkspaceError) as error:
        for split in ("train", "test"):
            parse(workspace, split, test_frames=4)
    assert file_name in str(error.value) and problem in str(error.value)
    assert _digest(workspace) == before


def test_malformed_json(workspace):
    (workspace / "transforms.json").write_text('{"frames": [}')
    with pytest.raises(WorkspaceError, match=r"transforms.json: malformed json at line 1"):
        parse(workspace)


def test_json_nested_beyond_the_parser_names_the_file(workspace):
    text = (workspace / "transforms.json").read_text().rstrip()
    (workspace / "transforms.json").write_text(text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(WorkspaceError, match="transforms.json: nested too deeply"):
        parse(workspace)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("head_radius", 0.0, "head-radius 0.0: must be a positive number"),
        ("head_radius", -0.16, "head-radius -0.16: must be a positive number"),
        ("head_radius", float("nan"), "head-radius nan"),
        ("test_fraction", -0.5, "test-fraction -0.5: must be between 0 and 1"),
        ("test_fraction", float("nan"), "test-fraction nan"),
        ("test_frames", -3, "test-frames -3: must be ≥ 0"),
        ("val_frames", -1, "val-frames -1: must be ≥ 0"),
    ],
)
def test_an_option_out_of_range_is_refused_naming_its_flag(workspace, option, value, message):
    with pytest.raises(DataParserOptionError, match="--pipeline.datamanager.dataparser." + message):
        parse(workspace, **{option: value})


def test_an_explicit_head_radius_sets_the_scale(workspace):
    assert parse(workspace, head_radius=0.5).dataparser_scale == pytest.approx(2.0)


def test_missing_folder_and_unknown_layout(tmp_path):
    with pytest.raises(WorkspaceError, match="data folder not found"):
        parse(tmp_path / "nowhere")
    (tmp_path / "transforms.json").write_text("{}")
    with pytest.raises(WorkspaceError, match="transforms.json: is a file; pass the data folder"):
        parse(tmp_path / "transforms.json")
    with pytest.raises(WorkspaceError, match="no known layout"):
        parse(tmp_path)


@pytest.mark.parametrize("options", [{"test_frames": 16}, {"test_fraction": 0.0}])
def test_empty_split_is_an_error(workspace, options):
    split = "train" if "test_frames" in options else "test"
    with pytest.raises(WorkspaceError, match=f"the {split} split is empty"):
        parse(workspace, split, **options)
