"""The frame cache, where every training frame is decoded once, refuses a frame cut short."""

import json

import cv2
import pytest

from nerfblend_ns.data.frame_cache import FrameCache
from nerfblend_ns.data.head_dataset import HeadDataset
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError


def _as_jpeg(workspace):
    """The workspace with its frames stored as JPEG, as the tracker writes them."""
    meta = json.loads((workspace / "transforms.json").read_text())
    for frame in meta["frames"]:
        png = workspace / frame["file_path"]
        cv2.imwrite(str(png.with_suffix(".jpg")), cv2.imread(str(png)))
        frame["file_path"] = frame["file_path"].replace(".png", ".jpg")
    (workspace / "transforms.json").write_text(json.dumps(meta))
    return workspace


def _train_dataset(workspace) -> HeadDataset:
    outputs = NerfBlendDataParserConfig(data=workspace, test_frames=4).setup().get_dataparser_outputs(split="train")
    return HeadDataset(outputs)


def test_caches_whole_jpeg_frames(workspace):
    cache = FrameCache.load(_train_dataset(_as_jpeg(workspace)), workers=2)
    assert len(cache) == 12 and cache.head_masks.any()


def test_a_truncated_jpeg_frame_is_refused_by_name(workspace):
    _as_jpeg(workspace)
    frame = workspace / "images" / "00005.jpg"
    data = frame.read_bytes()
    frame.write_bytes(data[:-40])  # into the pixel data, past the header
    dataset = _train_dataset(workspace)  # the header is whole: the parser's size check passes
    with pytest.raises(WorkspaceError, match=r"00005.jpg: truncated image"):
        FrameCache.load(dataset, workers=2)
    assert frame.read_bytes() == data[:-40]
