"""The consensus outline on the procedural head, whose geometry is known: exact masks stay as they are, a
blob that a few frames' masks add above the ears is voted away, masks below the ear line are untouched, and
the result is one head-fixed shape (voting again changes nothing)."""

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.synthetic.procedural_head import PinholeCamera, orbit_pose, render_head
from nerfblend_ns.tracking.masks.consensus_outline import ConsensusOutlineConfig, consensus_outline, upper_head_pixels

SIZE = 128
CONFIG = ConsensusOutlineConfig(enabled=True, resolution=80)
"""4 mm cells, about 1.3 px in these views: coarse enough for a fast test."""


@pytest.fixture(scope="module")
def views():
    """(masks [N, S, S], camera-to-world [N, 4, 4], intrinsics) of the neutral head from 24 views."""
    angles = [(yaw, pitch, roll) for yaw in np.linspace(-30, 30, 8) for pitch, roll in ((-8, 3), (0, -3), (8, 0))]
    masks, poses = [], []
    for yaw, pitch, roll in angles:
        camera = PinholeCamera.square(SIZE, orbit_pose(*(math.radians(angle) for angle in (yaw, pitch, roll))))
        masks.append(render_head(np.zeros(4), camera).mask)
        poses.append(camera.camera_to_world)
    lens = PinholeCamera.square(SIZE, np.eye(4))
    return np.stack(masks), np.stack(poses), PinholeIntrinsics(SIZE, SIZE, lens.fx, lens.fy, lens.cx, lens.cy)


def test_exact_masks_of_one_head_keep_their_outline(views):
    masks, poses, intrinsics = views
    result = consensus_outline(masks, poses, intrinsics, CONFIG)
    assert abs(result.area_ratio - 1.0) < 0.02 and result.changed_fraction < 0.03, result
    assert result.masks.shape == masks.shape and result.masks.dtype == bool


def test_a_blob_some_masks_add_above_the_ears_is_voted_away_and_the_ear_line_bounds_the_change(views):
    masks, poses, intrinsics = views
    noisy = masks.copy()
    blobs = np.zeros_like(masks)
    for frame in range(0, len(masks), 4):  # a quarter of the frames: hair flying off, background taken for hair
        rows, columns = np.nonzero(masks[frame] & upper_head_pixels(poses[frame], intrinsics))
        top = rows.argmin()
        cv2.circle(blobs[frame].view(np.uint8), (int(columns[top]) + 4 * (frame % 3 - 1), int(rows[top])), 6, 1, -1)
        noisy[frame] |= blobs[frame]
    # Pixels a cell's footprint from the head (beyond 2 px): a footprint's edge may keep a rim within that.
    near = np.stack([cv2.dilate(mask.view(np.uint8), np.ones((5, 5), np.uint8)) > 0 for mask in masks])
    added = blobs & ~near
    result = consensus_outline(noisy, poses, intrinsics, CONFIG).masks
    assert added.sum() > 150 and (result & added).sum() < 0.02 * added.sum()
    for frame in range(len(masks)):
        lower = ~upper_head_pixels(poses[frame], intrinsics)
        assert np.array_equal(result[frame][lower], noisy[frame][lower])
    assert (result ^ masks).sum() < 0.03 * masks.sum()


def test_the_consensus_is_one_head_fixed_shape(views):
    # Masks that are views of one shape agree with their own consensus: voting again moves their outlines by
    # a fraction of a pixel (a footprint's edge, not the frame-to-frame wander that was voted away).
    masks, poses, intrinsics = views
    once = consensus_outline(masks, poses, intrinsics, CONFIG).masks
    twice = consensus_outline(once, poses, intrinsics, CONFIG).masks
    outline = sum((mask ^ (cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)).sum() for mask in once)
    assert (once ^ twice).sum() / outline < 0.5


def test_the_ear_line_follows_the_head_when_it_turns_and_rolls():
    lens = PinholeCamera.square(SIZE, np.eye(4))
    intrinsics = PinholeIntrinsics(SIZE, SIZE, lens.fx, lens.fy, lens.cx, lens.cy)
    for yaw, roll in ((0, 0), (25, 0), (0, 30), (-20, -25)):
        camera = PinholeCamera.square(SIZE, orbit_pose(math.radians(yaw), 0.0, math.radians(roll)))
        upper = upper_head_pixels(camera.camera_to_world, intrinsics)
        crown, chin = camera.project(np.array([[0.0, 0.09, 0.0], [0.0, -0.1, 0.06]]))  # [2, 2] pixels (x, y)
        assert upper[int(crown[1]), int(crown[0])] and not upper[int(chin[1]), int(chin[0])]
        # The line turns with the head: its direction is the image of the head's left-right axis.
        ears = camera.project(np.array([[-0.08, -0.01, 0.0], [0.08, -0.01, 0.0]]))
        rows, columns = np.nonzero(upper ^ np.roll(upper, 1, axis=0))  # where the side changes down a column
        inside = (columns > 5) & (columns < SIZE - 5) & (rows > 0)
        slope = np.polyfit(columns[inside], rows[inside], 1)[0]
        assert slope == pytest.approx((ears[1, 1] - ears[0, 1]) / (ears[1, 0] - ears[0, 0]), abs=0.02)


def test_bad_requests_are_clear_errors(views):
    masks, poses, intrinsics = views
    with pytest.raises(ValueError, match="one 128×128 mask per pose"):
        consensus_outline(masks[:, :64], poses, intrinsics, CONFIG)
    with pytest.raises(ValueError, match="one 128×128 mask per pose"):
        consensus_outline(masks, poses[:-1], intrinsics, CONFIG)
    with pytest.raises(ValueError, match="at least 8"):
        consensus_outline(masks[:5], poses[:5], intrinsics, CONFIG)
    with pytest.raises(ValueError, match="even"):
        consensus_outline(masks, poses, intrinsics, ConsensusOutlineConfig(enabled=True, resolution=81))


def test_poses_that_disagree_with_the_masks_show_as_change_far_from_the_outlines(views):
    masks, poses, intrinsics = views
    assert consensus_outline(masks, poses, intrinsics, CONFIG).far_change_fraction < 0.05
    # Every other camera 25 % nearer or farther than the masks were seen from: the shape lands off the heads.
    wrong = poses.copy()
    wrong[:, :3, 3] *= np.where(np.arange(len(poses)) % 2, 0.75, 1.25)[:, None]
    assert consensus_outline(masks, wrong, intrinsics, CONFIG).far_change_fraction > 0.5


def test_a_wrong_pose_moves_the_outline_no_farther_than_max_shift_px(views):
    masks, poses, intrinsics = views
    wrong = poses.copy()
    wrong[::2, :3, 3] *= 0.8  # every other camera 20 % nearer: the shape seen from there is too large
    free = consensus_outline(masks, wrong, intrinsics, replace(CONFIG, max_shift_px=0)).masks
    limited = consensus_outline(masks, wrong, intrinsics, replace(CONFIG, max_shift_px=2)).masks
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for mask, unlimited, kept in zip(masks, free, limited):
        band = (cv2.dilate(mask.view(np.uint8), reach) > 0) & ~(cv2.erode(mask.view(np.uint8), reach) > 0)
        assert not ((kept ^ mask) & ~band).any()
    assert ((free ^ masks) & ~np.stack([cv2.dilate(m.view(np.uint8), reach) > 0 for m in masks])).sum() > 100
