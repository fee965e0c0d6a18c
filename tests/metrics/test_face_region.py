"""Face-region scores on frames with a known error, and why no head mask can raise them."""

import numpy as np
import pytest
import torch

from nerfblend_ns.metrics.face_region import LPIPS_MIN_SIZE, ellipse_region, polygon_region, region_metrics
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white, image_metrics

SIZE = 64


def _oval(centre=(32.0, 30.0), radii=(14.0, 18.0), points: int = 36) -> np.ndarray:
    angle = 2 * np.pi * np.arange(points) / points
    return np.column_stack([centre[0] + radii[0] * np.sin(angle), centre[1] - radii[1] * np.cos(angle)])


def _textured_image(seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    smooth = np.kron(rng.uniform(0.2, 0.8, (SIZE // 8, SIZE // 8, 3)), np.ones((8, 8, 1)))
    return torch.from_numpy(smooth + rng.uniform(-0.05, 0.05, (SIZE, SIZE, 3))).float()  # [H, W, 3]


def test_polygon_region_takes_the_pixels_whose_centre_is_inside():
    square = np.array([[2.0, 3.0], [6.0, 3.0], [6.0, 5.0], [2.0, 5.0]])  # pixel centres x 2.5..5.5, y 3.5..4.5
    region = polygon_region(square, 8, 8)
    expected = np.zeros((8, 8), bool)
    expected[3:5, 2:6] = True
    np.testing.assert_array_equal(region, expected)


def test_oval_polygon_and_inscribed_ellipse_agree_in_area():
    oval = polygon_region(_oval(points=360), SIZE, SIZE)
    ellipse = ellipse_region([18.0, 12.0, 46.0, 48.0], SIZE, SIZE)
    assert abs(int(oval.sum()) - np.pi * 14 * 18) < 0.03 * np.pi * 14 * 18
    assert (oval ^ ellipse).sum() < 0.03 * oval.sum()


def test_error_inside_the_oval_is_measured_exactly_and_error_outside_is_not_seen():
    image = _textured_image()
    region = torch.from_numpy(polygon_region(_oval(), SIZE, SIZE))
    inside = image.clone()
    inside[region] += 0.1  # the image stays below 0.85 + 0.1: nothing is clamped
    scores = region_metrics(inside, image, region, None)
    assert scores["psnr"] == pytest.approx(20.0, abs=1e-3)
    assert scores["ssim"] < 0.99

    far = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    far[:, :6] = True  # more than an SSIM window away from the oval
    outside = image.clone()
    outside[far] = 1.0 - outside[far]
    clean = region_metrics(outside, image, region, None)
    assert clean["psnr"] == pytest.approx(100.0) and clean["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert image_metrics(outside, image, None)["psnr"] < 20.0  # the full frame does see it


def test_lpips_sees_the_region_box_with_equal_pixels_outside_the_region():
    image = _textured_image()
    region = torch.from_numpy(polygon_region(_oval(radii=(20.0, 22.0)), SIZE, SIZE))  # wider than LPIPS_MIN_SIZE
    prediction = 1.0 - image  # wrong everywhere
    seen = []

    def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        seen.append((a, b))
        return (a - b).abs().mean(dim=(1, 2, 3))

    region_metrics(prediction, image, region, distance)
    a, b = seen[0]
    rows, cols = torch.nonzero(region, as_tuple=True)
    assert a.shape[2:] == (int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1)
    crop = region[int(rows.min()) : int(rows.max()) + 1, int(cols.min()) : int(cols.max()) + 1]
    differs = (a - b).abs().sum(dim=1)[0] > 0
    assert torch.equal(differs, crop)

    tiny = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    tiny[60:63, 1:4] = True  # near a corner: the box grows inside the image
    seen.clear()
    region_metrics(prediction, image, tiny, distance)
    assert seen[0][0].shape[2:] == (LPIPS_MIN_SIZE, LPIPS_MIN_SIZE)


def test_a_smaller_head_mask_cannot_raise_the_face_score():
    """A model that reproduces the masked training targets exactly scores perfectly on the full frame
    under any mask; inside the face oval it is compared with the captured image, so cutting the mask
    into the face costs face PSNR instead of making the face easier."""
    image = _textured_image()
    region = torch.from_numpy(polygon_region(_oval(), SIZE, SIZE))
    yy, xx = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing="ij")
    face_psnr, full_psnr = [], []
    for radius in (30.0, 16.0, 10.0):  # from a mask around the whole head to one cutting into the oval
        mask = (((xx - 32) ** 2 + (yy - 30) ** 2) < radius**2).float()[..., None]  # [H, W, 1]
        on_white = ground_truth_on_white(image, mask)
        full_psnr.append(image_metrics(on_white, on_white, None)["psnr"])
        face_psnr.append(region_metrics(on_white, image, region, None)["psnr"])
    assert full_psnr == [pytest.approx(100.0)] * 3
    assert face_psnr[0] == pytest.approx(100.0)
    assert face_psnr[0] > face_psnr[1] > face_psnr[2]


def test_empty_region_is_an_error():
    image = _textured_image()
    with pytest.raises(ValueError, match="no pixels"):
        region_metrics(image, image, torch.zeros(SIZE, SIZE, dtype=torch.bool), None)
