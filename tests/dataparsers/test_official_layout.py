import pytest

from nerfblend_ns.dataparsers.layouts import detect_layout
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.dataparsers.official_layout import HEAD_RADIUS, read_official_release
from nerfblend_ns.face_mesh_landmarks import OUTER_LIP_LANDMARKS
from nerfblend_ns.dataparsers.frame_files import read_head_mask
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

import numpy as np


def test_detected_and_read_in_img_id_order(official_release):
    assert detect_layout(official_release) == "nerfblendshape-release"
    sequence = read_official_release(official_release)
    assert [frame.image_path.name for frame in sequence.frames[:3]] == ["0.jpg", "1.jpg", "2.jpg"]
    assert sequence.num_expressions == 46
    assert sequence.frames[5].expression[0] == pytest.approx(0.05)
    assert sequence.background_path == official_release / "bc.jpg"
    assert sequence.head_radius == pytest.approx(0.06 / 0.33)


def test_mouth_rect_bounds_the_lip_landmarks(official_release):
    sequence = read_official_release(official_release)
    landmarks = np.loadtxt(official_release / "ori_imgs" / "3.lms")
    lips = landmarks[list(OUTER_LIP_LANDMARKS)]
    x0, y0, x1, y1 = sequence.frames[3].mouth_rect
    assert x0 <= lips[:, 0].min() and x1 >= lips[:, 0].max() and y0 <= lips[:, 1].min() and y1 >= lips[:, 1].max()
    assert sequence.frames[3].face_rect == pytest.approx((*landmarks.min(0), *landmarks.max(0)))


def test_parsing_blue_is_the_head(official_release):
    mask = read_head_mask(official_release / "parsing" / "0.png", "parsing")
    assert mask[12, 12] and not mask[0, 0]


def test_release_test_count_falls_back_to_fraction_on_a_short_clip(official_release):
    parser = NerfBlendDataParserConfig(data=official_release).setup()
    test = parser.get_dataparser_outputs(split="test")
    assert len(test.image_filenames) == 2  # 12 frames × 0.125 rounds to 2: 500 does not fit
    assert test.cameras.metadata["expr"].shape == (2, 46)
    assert test.cameras.camera_to_worlds[0, 2, 3].item() == pytest.approx(1.5 / HEAD_RADIUS)


def test_malformed_landmarks(official_release):
    (official_release / "ori_imgs" / "4.lms").write_text("1 2\n3 4\n")
    with pytest.raises(WorkspaceError, match=r"4.lms: expected 478"):
        read_official_release(official_release)
