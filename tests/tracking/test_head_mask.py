"""Head mask: the person segmentation cut below the chin, shoulders and detached parts removed."""

import numpy as np

from nerfblend_ns.tracking.face_landmarks import CHEEKS, CHIN, FOREHEAD, NOSE_TIP
from nerfblend_ns.tracking.face_regions import face_rect, mouth_rect
from nerfblend_ns.tracking.head_mask import head_mask

SIZE = 200


def _landmarks(tilt_deg: float = 0.0) -> np.ndarray:
    """[478, 2] a face centred at (100, 90), 80 px long and 70 px wide, rotated in the image by tilt."""
    points = np.zeros((478, 2))
    points[FOREHEAD], points[CHIN] = (0.0, -40.0), (0.0, 40.0)
    points[CHEEKS[0]], points[CHEEKS[1]] = (-35.0, 0.0), (35.0, 0.0)
    points[NOSE_TIP] = (0.0, 5.0)
    angle = np.radians(tilt_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T + (100.0, 90.0)


def _person() -> np.ndarray:
    """Confidence [S, S]: a head disc, shoulders across the bottom, and a detached blob (a hand) on the left."""
    rows, cols = np.mgrid[:SIZE, :SIZE] + 0.5
    head = (cols - 100) ** 2 + (rows - 85) ** 2 < 50**2
    shoulders = rows > 150
    neck = (np.abs(cols - 100) < 25) & (rows > 120)
    hand = (cols - 15) ** 2 + (rows - 60) ** 2 < 10**2
    return (head | shoulders | neck | hand).astype(np.float32)


def test_mask_keeps_head_and_upper_neck_and_drops_shoulders_and_detached_parts():
    mask = head_mask(_person(), _landmarks(), neck_length=0.25, neck_half_width=0.4)
    assert mask[85, 100] and mask[40, 100]  # face and top of the head
    assert mask[145, 100]  # neck, 15 px below the chin (the cut is 20 px below)
    assert not mask[175, 100]  # lower neck / chest, below the cut
    assert not mask[160, 20] and not mask[160, 180]  # shoulders beside the neck band
    assert not mask[60, 15]  # the hand does not touch the head
    assert mask.sum() > 0.9 * np.pi * 50**2


def test_cut_is_perpendicular_to_a_tilted_face_axis():
    landmarks = _landmarks(30.0)
    mask = head_mask(np.ones((SIZE, SIZE), np.float32), landmarks, neck_length=0.25, neck_half_width=0.4)
    chin = landmarks[CHIN]
    up = (landmarks[FOREHEAD] - chin) / 80.0
    across = np.array([-up[1], up[0]])

    def kept(point: np.ndarray) -> bool:
        return bool(mask[int(point[1]), int(point[0])])

    assert kept(chin - 15 * up)  # on the neck, along the tilted axis
    assert not kept(chin - 15 * up + 35 * across)  # below the chin, beyond the neck's half-width (28 px)
    assert kept(chin + 3 * up + 60 * across)  # just above the tilted chin line, far to the side
    assert not kept(chin - 3 * up + 60 * across)  # just below it


def test_no_person_gives_an_empty_mask():
    assert not head_mask(np.zeros((SIZE, SIZE), np.float32), _landmarks()).any()


def test_mouth_and_face_rects_lie_inside_the_image():
    points = np.random.default_rng(0).uniform(-20, 220, (478, 2))
    for rect in (mouth_rect(points, SIZE), face_rect(points, SIZE)):
        assert 0 <= rect[0] < rect[2] <= SIZE and 0 <= rect[1] < rect[3] <= SIZE
