import numpy as np
import pytest

from nerfblend_ns.dataparsers.splits import split_indices


def test_default_fraction_holds_out_the_end_of_the_video():
    splits = split_indices(1000, None, 0.125, 8)
    assert splits["train"].tolist() == list(range(875))
    assert splits["test"].tolist() == list(range(875, 1000))
    assert len(splits["val"]) == 8
    assert splits["val"][0] == 875 and splits["val"][-1] == 999
    assert set(splits["val"]) <= set(splits["test"])
    assert np.all(np.diff(splits["val"]) > 0)


def test_count_overrides_fraction():
    splits = split_indices(1500, 500, 0.125, 8)
    assert len(splits["test"]) == 500 and splits["test"][0] == 1000
    assert len(splits["train"]) == 1000


def test_tiny_clip_keeps_one_test_frame_and_val_within_test():
    splits = split_indices(5, None, 0.125, 8)
    assert splits["test"].tolist() == [4]
    assert splits["val"].tolist() == [4]
    assert splits["train"].tolist() == [0, 1, 2, 3]


def test_zero_test_frames_gives_empty_test_and_val():
    splits = split_indices(10, 0, 0.125, 8)
    assert len(splits["test"]) == 0 and len(splits["val"]) == 0 and len(splits["train"]) == 10


def test_negative_count_is_rejected():
    with pytest.raises(ValueError, match="test_frames"):
        split_indices(10, -1, 0.125, 8)
