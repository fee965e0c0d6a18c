"""Per-frame lists, PSNR spread, the test − training gap, the picture's frame choice and the face region of a frame."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nerfblend_ns.benchmarks.fidelity_scores import (
    FACE_OVAL,
    FACE_RECT_ELLIPSE,
    NO_FACE_REGION,
    FrameScore,
    face_region,
    face_region_kind,
    generalisation_gap,
    psnr_spread,
    summarize,
    worst_and_median,
)
from nerfblend_ns.metrics.face_region import ellipse_region


def test_psnr_spread_is_median_tenth_percentile_and_minimum():
    spread = psnr_spread([30.0, 10.0, 20.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0])
    # Sorted 10..110 in steps of 10: the 10th percentile lies at position 1.0, i.e. 20.
    assert spread == {"median": 60.0, "p10": pytest.approx(20.0), "min": 10.0}


def _frame(index: int, psnr: float, face_psnr=None) -> FrameScore:
    face = None if face_psnr is None else {"psnr": face_psnr, "ssim": 0.5, "lpips": 0.2}
    return FrameScore(index, {"psnr": psnr, "ssim": 0.9, "l1": 0.1, "mse": 10 ** (-psnr / 10)}, face)


def test_summary_lists_every_frame_and_averages_faces_over_frames_that_have_one():
    scores = [_frame(0, 20.0, 15.0), _frame(2, 30.0, None), _frame(4, 25.0, 17.0)]
    summary = summarize(scores, per_frame=True)
    assert summary["frames"] == 3 and summary["face_frames"] == 2
    assert summary["frame_indices"] == [0, 2, 4]
    assert summary["per_frame_psnr"] == [20.0, 30.0, 25.0]
    assert summary["per_frame_face_psnr"] == [15.0, None, 17.0]
    assert summary["full"]["psnr"] == pytest.approx(25.0) and summary["full"]["median"] == 25.0
    assert summary["full"]["min"] == 20.0 and summary["full"]["p10"] == pytest.approx(21.0)
    assert summary["face"]["psnr"] == pytest.approx(16.0) and summary["face"]["min"] == 15.0
    assert "per_frame_psnr" not in summarize(scores, per_frame=False)
    assert summarize([_frame(0, 20.0)], per_frame=False)["face"] == {}


def test_summary_averages_the_outline_share_of_the_error():
    scores = [_frame(0, 20.0), _frame(1, 22.0)]
    scores[0].silhouette = {"error_share": 0.8, "band_fraction": 0.03}
    scores[1].silhouette = {"error_share": 0.6, "band_fraction": 0.05}
    silhouette = summarize(scores, per_frame=False)["silhouette"]
    assert silhouette == {"error_share": pytest.approx(0.7), "band_fraction": pytest.approx(0.04)}
    assert summarize([_frame(0, 20.0)], per_frame=False)["silhouette"] == {}


def test_gap_is_test_minus_training_for_scores_both_have():
    test = summarize([_frame(0, 20.0, 14.0)], per_frame=False)
    train = summarize([_frame(0, 26.0, 19.0), _frame(1, 28.0, 21.0)], per_frame=False)
    gap = generalisation_gap(test, train)
    assert gap["full"]["psnr"] == pytest.approx(-7.0) and gap["face"]["psnr"] == pytest.approx(-6.0)
    assert gap["full"]["ssim"] == pytest.approx(0.0)
    assert generalisation_gap(test, summarize([_frame(0, 26.0)], per_frame=False))["face"] == {}


def test_worst_then_median_frames():
    psnrs = [25.0, 12.0, 30.0, 18.0, 22.0, 11.0, 27.0, 24.0, 20.0]
    # Sorted positions: 5 (11), 1 (12), 3 (18), 8 (20), 4 (22), 7 (24), 0 (25), 6 (27), 2 (30).
    assert worst_and_median(psnrs, 3) == [5, 1, 3, 8, 4, 7]
    assert worst_and_median(psnrs, 1) == [5, 4]
    assert worst_and_median([20.0, 10.0, 15.0, 12.0], 3) == [1, 3, 2, 0]  # fewer than twice as many frames


def _dataset(ovals=None, rects=None, kind=None):
    return SimpleNamespace(
        face_ovals=None if ovals is None else torch.tensor(ovals, dtype=torch.float32),
        face_rects=torch.tensor(rects, dtype=torch.float32),
        metadata={"landmark_kind": kind},
    )


def test_face_region_comes_from_the_oval_else_the_face_box_else_nothing():
    square = [[[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]]]
    with_oval = _dataset(square, [[0.0, 0.0, 8.0, 8.0]], "face-oval")
    assert face_region_kind(with_oval) == FACE_OVAL
    assert face_region(with_oval, 0, 8, 8).sum() == 16

    nan = float("nan")
    boxes = _dataset(None, [[1.0, 1.0, 7.0, 5.0], [nan] * 4])
    assert face_region_kind(boxes) == FACE_RECT_ELLIPSE
    np.testing.assert_array_equal(face_region(boxes, 0, 8, 8), ellipse_region([1.0, 1.0, 7.0, 5.0], 8, 8))
    assert face_region(boxes, 1, 8, 8) is None
    assert face_region_kind(_dataset(None, [[nan] * 4])) == NO_FACE_REGION

    off_image = _dataset([[[20.0, 20.0], [30.0, 20.0], [30.0, 30.0]]], [[0.0, 0.0, 8.0, 8.0]], "face-oval")
    assert face_region(off_image, 0, 8, 8) is None
