"""The pieces of `nerfblend-render summary`: the coefficient blend, the enlargement and the PSNR labels.

The subcommand itself runs on a tiny trained avatar in tests/scripts/test_render.py.
"""

import math

import numpy as np
import torch

from nerfblend_ns.commands.render_modes.summary import blend_between, enlarged, psnr_8bit


def test_blend_walks_linearly_from_each_test_frame_to_the_next():
    coefficients = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 2.0]])
    expected = torch.tensor([[0.0, 0.0], [0.5, 1.0], [1.0, 2.0], [2.0, 2.0], [3.0, 2.0]])
    assert torch.allclose(blend_between(coefficients, 2), expected)
    assert torch.equal(blend_between(coefficients, 1), coefficients)
    assert torch.equal(blend_between(coefficients[:1], 4), coefficients[:1])
    assert blend_between(coefficients, 4).shape == (9, 2)


def test_enlarging_repeats_pixels_to_the_least_factor_that_reaches_the_width():
    image = np.arange(2 * 128 * 3, dtype=np.uint8).reshape(2, 128, 3)
    grown = enlarged(image, 384)
    assert grown.shape == (6, 384, 3)
    assert np.array_equal(grown[::3, ::3], image) and np.array_equal(grown[2, 2], image[0, 0])
    assert enlarged(image, 385).shape == (8, 512, 3)
    assert enlarged(image, 100).shape == image.shape


def test_psnr_is_the_protocol_s_on_8_bit_images():
    truth = np.full((2, 3, 3), 255, np.uint8)
    prediction = np.full((2, 3, 3), 204, np.uint8)  # 0.2 below everywhere: MSE 0.04
    assert math.isclose(psnr_8bit(prediction, truth), -10 * math.log10(0.04), rel_tol=1e-5)
