"""The silhouette band against a brute-force reference, and the share of the error it holds."""

import itertools

import numpy as np
import pytest
import torch

from nerfblend_ns.metrics.silhouette_band import silhouette_band, silhouette_error


def _band_reference(mask: np.ndarray, half_width: int) -> np.ndarray:
    """A pixel is in the band when its square neighbourhood, clipped to the image, holds both values."""
    h, w = mask.shape
    band = np.zeros_like(mask)
    for y, x in itertools.product(range(h), range(w)):
        window = mask[max(0, y - half_width) : y + half_width + 1, max(0, x - half_width) : x + half_width + 1]
        band[y, x] = window.any() and not window.all()
    return band


@pytest.mark.parametrize("half_width", [1, 3])
def test_band_matches_brute_force_on_a_random_blob(half_width):
    rng = np.random.default_rng(0)
    mask = np.zeros((24, 20), dtype=bool)
    mask[5:19, 4:15] = True
    mask[rng.random(mask.shape) < 0.05] ^= True  # ragged outline and holes, as a segmenter's
    band = silhouette_band(torch.from_numpy(mask), half_width).numpy()
    np.testing.assert_array_equal(band, _band_reference(mask, half_width))


def test_a_mask_without_boundary_has_no_band():
    assert not silhouette_band(torch.ones(8, 8, dtype=torch.bool)).any()
    assert not silhouette_band(torch.zeros(8, 8, dtype=torch.bool)).any()


def _frame_and_mask():
    mask = torch.zeros(32, 32, 1)
    mask[8:24, 8:24] = 1.0
    truth = torch.full((32, 32, 3), 1.0)
    truth[8:24, 8:24] = 0.3
    return truth, mask


def test_error_on_the_outline_only_is_all_in_the_band():
    truth, mask = _frame_and_mask()
    prediction = truth.clone()
    prediction[8:24, 8] = 1.0  # the outline one pixel off on the left
    scores = silhouette_error(prediction, truth, mask, half_width=2)
    assert scores["error_share"] == pytest.approx(1.0)
    # Band: the 16×16 square's outline ±2 px, i.e. the 20×20 square less the 12×12 inside.
    assert scores["band_fraction"] == pytest.approx((20 * 20 - 12 * 12) / (32 * 32))


def test_error_inside_the_head_is_outside_the_band_and_a_perfect_frame_shares_nothing():
    truth, mask = _frame_and_mask()
    prediction = truth.clone()
    prediction[14:18, 14:18] = 1.0
    assert silhouette_error(prediction, truth, mask, half_width=2)["error_share"] == pytest.approx(0.0)
    prediction[8, 8:24] = 1.0  # add the same squared error per pixel on 16 outline pixels
    assert silhouette_error(prediction, truth, mask, half_width=2)["error_share"] == pytest.approx(0.5)
    assert silhouette_error(truth, truth, mask)["error_share"] == 0.0
