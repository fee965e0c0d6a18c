"""The worst-frame picture: ground truth | labelled prediction | error heat map, the face region outlined."""

import numpy as np

from nerfblend_ns.benchmarks.error_picture import ERROR_SCALE, error_heat_map, error_rows


def test_heat_map_is_dark_without_error_and_bright_at_the_scale():
    truth = np.full((8, 8, 3), 100, np.uint8)
    same = error_heat_map(truth, truth)
    assert same.shape == (8, 8, 3) and same.max() < 10
    off = truth.copy()
    off[:, 4:] += int(round(ERROR_SCALE * 255))
    heat = error_heat_map(truth, off)
    assert (heat[:, 4:].astype(int).sum(axis=2) > 3 * 150).all() and (heat[:, :4] == same[:, :4]).all()


def test_rows_stack_frames_with_three_columns_and_label_the_prediction_only():
    truths = [np.full((64, 64, 3), 120, np.uint8) for _ in range(2)]
    predictions = [truth.copy() for truth in truths]
    region = np.zeros((64, 64), bool)
    region[20:40, 20:40] = True
    picture = error_rows(truths, predictions, ["worst: PSNR 12.34", "median: PSNR 20.00"], [region, None])
    assert picture.shape == (128, 192, 3)
    assert (picture[:64, :64] == 120).all()  # ground truth untouched
    assert (picture[:64, 64:128] != 120).any()  # text written on the prediction
    heat = picture[:64, 128:]
    assert (heat[19:41, 19:41] != heat[0, 0]).any() and (heat[30, 30] == heat[0, 0]).all()  # outline only
    assert (picture[64:, 128:] == picture[64, 128]).all()  # no region: no outline


def test_a_label_of_two_lines_writes_the_second_below_the_first():
    truth = np.full((512, 512, 3), 120, np.uint8)
    one = error_rows([truth], [truth.copy()], ["worst: PSNR 12.34"])[:, 512:1024]
    two = error_rows([truth], [truth.copy()], ["worst: PSNR 12.34\nfrom training: coefficients 0.34"])[:, 512:1024]
    written_rows = lambda picture: np.nonzero((picture != 120).any(axis=(1, 2)))[0]  # noqa: E731
    assert written_rows(one).max() < 30 and 30 < written_rows(two).max() < 50
    assert (two[: written_rows(one).max() + 1] == one[: written_rows(one).max() + 1]).all()
