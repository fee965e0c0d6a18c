"""Holes of a mask: enclosed background is filled, background reaching the border is not."""

import numpy as np

from nerfblend_ns.mask_holes import filled_holes


def test_enclosed_background_is_filled_and_background_at_the_border_is_kept():
    mask = np.zeros((9, 9), bool)
    mask[1:8, 1:8] = True
    mask[3:5, 3:5] = False  # a hole
    mask[5, 0:3] = False  # a notch reaching the border
    filled = filled_holes(mask)
    assert filled[3:5, 3:5].all() and not filled[5, 0] and not filled[0].any()
    assert np.array_equal(filled & ~mask, np.pad(np.ones((2, 2), bool), ((3, 4), (3, 4))))


def test_a_diagonal_gap_does_not_join_a_hole_to_the_outside():
    # 4-connected background: a hole touching the outside only at a corner is still a hole.
    mask = np.ones((5, 5), bool)
    mask[0, :] = mask[:, 0] = False
    mask[2, 2] = False
    mask[1, 1] = True
    assert filled_holes(mask)[2, 2]
