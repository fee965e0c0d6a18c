"""Head mask: the default chin-line rule (the person cut below the chin, shoulders and detached parts removed) on a
flat synthetic person, and the opt-in head-volume rule (person pixels bounded by head-fixed volumes and the face
oval) on the procedural head, whose geometry is known."""

import math

import numpy as np
import pytest

from nerfblend_ns.synthetic.procedural_head import (
    NOSE_TIP,
    Ellipsoid,
    PinholeCamera,
    face_oval_points,
    orbit_pose,
    render_head,
)
from nerfblend_ns.face_mesh_landmarks import CHEEKS, CHIN, FACE_OVAL, FOREHEAD
from nerfblend_ns.face_mesh_landmarks import NOSE_TIP as NOSE_TIP_LANDMARK
from nerfblend_ns.tracking.face.face_regions import face_rect, mouth_rect
from nerfblend_ns.tracking.masks.head_mask import (
    HeadMaskConfig,
    chin_line_mask,
    face_oval_region,
    head_mask,
    head_volume_mask,
)
from nerfblend_ns.tracking.masks.mask_volume import MaskVolumeConfig

RESOLUTION = 160
NEUTRAL = np.zeros(4)
TORSO = Ellipsoid(np.array([0.0, -0.27, -0.02]), np.array([0.2, 0.12, 0.11]))
"""Shoulders and chest under the procedural head's neck, in the head frame."""
SKULL = Ellipsoid(np.array([0.0, 0.019, -0.008]), np.array([0.079, 0.103, 0.093]))
"""The procedural head's hair ellipsoid, which holds its skull."""


def _landmarks(camera: PinholeCamera, expression: np.ndarray) -> np.ndarray:
    """[478, 2] the face oval and the nose tip of the procedural head as the camera sees them (others at the nose)."""
    points = np.repeat(camera.project(NOSE_TIP[None]), 478, axis=0)
    points[list(FACE_OVAL)] = camera.project(face_oval_points(expression))
    return points


def _torso_pixels(camera: PinholeCamera, head_pixels: np.ndarray) -> np.ndarray:
    """[H, W] pixels that see the torso and not the head."""
    origin, dirs = camera.rays()
    t_near, t_far = TORSO.interval(origin, dirs)
    return ((t_near < t_far) & (t_far > 0)).reshape(head_pixels.shape) & ~head_pixels


def _neck_point_facing(camera: PinholeCamera, height: float) -> np.ndarray:
    """[3] the point of the procedural head's neck (radius 4.2 cm about x = 0, z = −1.5 cm) nearest the camera."""
    towards = camera.camera_to_world[[0, 2], 3] - np.array([0.0, -0.015])
    x, z = 0.042 * towards / np.linalg.norm(towards) + np.array([0.0, -0.015])
    return np.array([x, height, z])


def _skull_above_cut(camera: PinholeCamera, head_pixels: np.ndarray) -> np.ndarray:
    """[H, W] head pixels whose ray meets the skull above the head cut plane.

    The procedural skull reaches 3 cm lower than a person's behind the jaw; there the cut rightly leaves it out.
    """
    origin, dirs = camera.rays()
    t_near, t_far = SKULL.interval(origin, dirs)
    points = origin + np.where(t_near < t_far, t_near, 0.0)[:, None] * dirs
    above = (t_near < t_far) & (points[:, 1] > MaskVolumeConfig().head_cut_y)
    return above.reshape(head_pixels.shape) & head_pixels


def _frame(yaw_deg: float, pitch_deg: float, expression: np.ndarray = NEUTRAL):
    camera = PinholeCamera.square(RESOLUTION, orbit_pose(math.radians(yaw_deg), math.radians(pitch_deg), 0.0))
    render = render_head(expression, camera)
    torso = _torso_pixels(camera, render.mask)
    person = (render.mask | torso).astype(np.float32)
    return camera, render, torso, person


POSES = [(0.0, 0.0), (35.0, 0.0), (-60.0, 5.0), (90.0, 0.0), (0.0, 25.0), (20.0, -20.0)]


@pytest.mark.parametrize("yaw_deg, pitch_deg", POSES)
def test_head_volume_mask_holds_the_head_and_neither_neck_nor_torso_as_the_head_turns(yaw_deg, pitch_deg):
    camera, render, torso, person = _frame(yaw_deg, pitch_deg)
    landmarks = _landmarks(camera, NEUTRAL)
    mask = head_volume_mask(person, landmarks, camera.camera_to_world, camera)
    assert torso.sum() > 500 and render.neck.sum() > 300  # the frame does show a torso and a neck
    assert not (mask & torso).any()
    assert (mask & render.neck).sum() <= 0.05 * render.neck.sum()  # at most the jaw line's margin
    skull = _skull_above_cut(camera, render.mask & ~render.neck)
    assert skull.sum() > 2000 and (mask & skull).sum() >= 0.99 * skull.sum()
    face = face_oval_region(landmarks, mask.shape) & render.mask
    assert face.sum() > 300 and not (face & ~mask).any()


def test_kept_neck_ends_at_the_head_fixed_neck_plane():
    config = MaskVolumeConfig(keep_neck=True, neck_cut_y=-0.12)
    for yaw_deg, pitch_deg in POSES:
        camera, render, torso, person = _frame(yaw_deg, pitch_deg)
        mask = head_volume_mask(person, _landmarks(camera, NEUTRAL), camera.camera_to_world, camera, config)
        # The neck cylinder is wider than a neck: seen from above, a sliver of collar shows beside the neck.
        assert (mask & torso).sum() <= 0.02 * mask.sum()
        skull = _skull_above_cut(camera, render.mask & ~render.neck)
        assert (mask & skull).sum() >= 0.99 * skull.sum()
        # Neck points well above / below the plane are kept / dropped. Seen from below, the neck under the plane
        # hides the plane's disc, which is then kept: only the point above the plane is checked there.
        for height, kept in ((-0.10, True), (-0.14, False))[: 1 if pitch_deg > 0 else 2]:
            column, row = np.floor(camera.project(_neck_point_facing(camera, height)[None])[0]).astype(int)
            if 0 <= row < RESOLUTION and 0 <= column < RESOLUTION and render.neck[row, column]:
                assert mask[row, column] == kept, (yaw_deg, pitch_deg, height)


def test_the_cut_moves_with_the_head():
    """Hair hanging beside the face is cut where it crosses the head-fixed plane, whatever the head's roll."""
    rows, cols = np.mgrid[:RESOLUTION, :RESOLUTION] + 0.5
    for roll_deg in (0.0, 25.0, -25.0):
        pose = orbit_pose(0.0, 0.0, math.radians(roll_deg))
        camera = PinholeCamera.square(RESOLUTION, pose)
        person = np.ones((RESOLUTION, RESOLUTION), np.float32)  # a person that fills the frame: long hair everywhere
        mask = head_volume_mask(person, _landmarks(camera, NEUTRAL), pose, camera)
        # A strand 9 cm beside the head's axis, from well above to well below the cut, at the ears' depth.
        heights = np.linspace(-0.11, 0.0, 23)
        strand = np.column_stack([np.full_like(heights, 0.09), heights, np.full_like(heights, -0.015)])
        pixels = np.floor(camera.project(strand)).astype(int)
        kept = mask[pixels[:, 1], pixels[:, 0]]
        # The volume's image is its outline, whose front edge lies nearer the camera than the strand: the cut
        # reaches the strand within 1.5 cm of the plane.
        cut = MaskVolumeConfig().head_cut_y
        assert kept[heights > cut + 0.015].all() and not kept[heights < cut - 0.015].any(), roll_deg
        assert mask[int(rows.mean()), int(cols.mean())]


def test_detached_parts_and_empty_person_give_no_mask_pixels():
    camera, render, torso, person = _frame(0.0, 0.0)
    hand = np.zeros_like(person)
    hand[5:25, 5:25] = 1.0  # inside the head volume's image, not touching the head
    mask = head_volume_mask(np.maximum(person, hand), _landmarks(camera, NEUTRAL), camera.camera_to_world, camera)
    assert not mask[5:25, 5:25].any() and mask.any()
    assert not head_volume_mask(np.zeros_like(person), _landmarks(camera, NEUTRAL), camera.camera_to_world, camera).any()


def test_holes_inside_the_head_are_filled():
    camera, render, torso, person = _frame(0.0, 0.0)
    eye = np.floor(camera.project(np.array([[0.028, 0.012, 0.08]]))[0]).astype(int)
    person[eye[1] - 3 : eye[1] + 4, eye[0] - 3 : eye[0] + 4] = 0.0  # the segmenter misses an eye
    mask = head_volume_mask(person, _landmarks(camera, NEUTRAL), camera.camera_to_world, camera)
    assert mask[eye[1] - 3 : eye[1] + 4, eye[0] - 3 : eye[0] + 4].all()


def test_confidence_of_another_size_is_refused():
    camera, render, torso, person = _frame(0.0, 0.0)
    with pytest.raises(ValueError, match="does not match"):
        head_volume_mask(person[:-1], _landmarks(camera, NEUTRAL), camera.camera_to_world, camera)


# The chin-line rule, on a flat face whose landmarks are placed by hand.
SIZE = 200


def _flat_landmarks(tilt_deg: float = 0.0) -> np.ndarray:
    """[478, 2] a face centred at (100, 90), 80 px long and 70 px wide, rotated in the image by tilt."""
    points = np.zeros((478, 2))
    points[FOREHEAD], points[CHIN] = (0.0, -40.0), (0.0, 40.0)
    points[CHEEKS[0]], points[CHEEKS[1]] = (-35.0, 0.0), (35.0, 0.0)
    points[NOSE_TIP_LANDMARK] = (0.0, 5.0)
    angle = np.radians(tilt_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T + (100.0, 90.0)


def _flat_person() -> np.ndarray:
    """Confidence [S, S]: a head disc, shoulders across the bottom, and a detached blob (a hand) on the left."""
    rows, cols = np.mgrid[:SIZE, :SIZE] + 0.5
    head = (cols - 100) ** 2 + (rows - 85) ** 2 < 50**2
    shoulders = rows > 150
    neck = (np.abs(cols - 100) < 25) & (rows > 120)
    hand = (cols - 15) ** 2 + (rows - 60) ** 2 < 10**2
    return (head | shoulders | neck | hand).astype(np.float32)


def test_chin_line_mask_keeps_head_and_upper_neck_and_drops_shoulders_and_detached_parts():
    mask = chin_line_mask(_flat_person(), _flat_landmarks(), neck_length=0.25, neck_half_width=0.4)
    assert mask[85, 100] and mask[40, 100]  # face and top of the head
    assert mask[145, 100]  # neck, 15 px below the chin (the cut is 20 px below)
    assert not mask[175, 100]  # lower neck / chest, below the cut
    assert not mask[160, 20] and not mask[160, 180]  # shoulders beside the neck band
    assert not mask[60, 15]  # the hand does not touch the head
    assert mask.sum() > 0.9 * np.pi * 50**2


def test_chin_line_cut_is_perpendicular_to_a_tilted_face_axis():
    landmarks = _flat_landmarks(30.0)
    mask = chin_line_mask(np.ones((SIZE, SIZE), np.float32), landmarks, neck_length=0.25, neck_half_width=0.4)
    chin = landmarks[CHIN]
    up = (landmarks[FOREHEAD] - chin) / 80.0
    across = np.array([-up[1], up[0]])

    def kept(point: np.ndarray) -> bool:
        return bool(mask[int(point[1]), int(point[0])])

    assert kept(chin - 15 * up)  # on the neck, along the tilted axis
    assert not kept(chin - 15 * up + 35 * across)  # below the chin, beyond the neck's half-width (28 px)
    assert kept(chin + 3 * up + 60 * across)  # just above the tilted chin line, far to the side
    assert not kept(chin - 3 * up + 60 * across)  # just below it


def test_chin_line_with_no_person_gives_an_empty_mask():
    assert not chin_line_mask(np.zeros((SIZE, SIZE), np.float32), _flat_landmarks(), 0.25, 0.4).any()


def test_the_default_rule_is_the_head_volume_and_the_chin_line_rule_is_chosen_by_name():
    camera, render, torso, person = _frame(0.0, 25.0)
    landmarks = _landmarks(camera, NEUTRAL)  # forehead, chin and cheeks are points of the face oval
    chin_line = chin_line_mask(person, landmarks, neck_length=0.25, neck_half_width=0.4)
    volume = head_volume_mask(person, landmarks, camera.camera_to_world, camera)
    assert HeadMaskConfig().rule == "head-volume"
    assert np.array_equal(head_mask(person, landmarks, camera.camera_to_world, camera), volume)
    chosen = head_mask(person, landmarks, camera.camera_to_world, camera, HeadMaskConfig(rule="chin-line"))
    assert np.array_equal(chosen, chin_line)
    assert (chin_line != volume).sum() > 100  # the two rules differ on this frame: the comparison above means something


def test_mouth_and_face_rects_lie_inside_the_image():
    points = np.random.default_rng(0).uniform(-20, 220, (478, 2))
    for rect in (mouth_rect(points, SIZE), face_rect(points, SIZE)):
        assert 0 <= rect[0] < rect[2] <= SIZE and 0 <= rect[1] < rect[3] <= SIZE
