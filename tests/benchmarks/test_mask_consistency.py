"""Mask outlines against the consensus hull: a sphere seen by a ring of cameras, with exact masks and with
masks whose outline moves from frame to frame."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from nerfblend_ns.benchmarks.mask_consistency import MaskConsistencyConfig, mask_consistency, outline_offsets
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.dataparsers.tracked_sequence import SequenceFrame, TrackedSequence
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

SIZE, FOCAL, SPHERE, DISTANCE = 96, 120.0, 0.08, 0.35


def _disc(radius: float, size: int = 64) -> np.ndarray:
    rows, columns = np.mgrid[:size, :size]
    return (rows - size / 2 + 0.5) ** 2 + (columns - size / 2 + 0.5) ** 2 <= radius**2


def test_offsets_are_signed_pixels_from_the_silhouette_edge():
    # Pixel circles: along the diagonals an 8-connected outline is a pixel closer than along the axes.
    rows, offsets = outline_offsets(_disc(20), _disc(17))
    assert len(rows) > 0 and abs(offsets.mean() - 3.0) < 0.4 and np.all((offsets >= 1.9) & (offsets <= 3.5)), offsets
    _, inward = outline_offsets(_disc(14), _disc(17))
    assert abs(inward.mean() + 3.0) < 0.4 and np.all((inward <= -1.9) & (inward >= -3.5)), inward
    assert np.all(np.abs(outline_offsets(_disc(17), _disc(17))[1]) <= 0.5)


def _look_at(yaw: float, pitch: float) -> np.ndarray:
    position = DISTANCE * np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    z = position / np.linalg.norm(position)  # OpenGL: the camera looks down -z
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    pose[:3, 3] = position
    return pose


def _sphere_mask(pose: np.ndarray) -> np.ndarray:
    rows, columns = np.mgrid[:SIZE, :SIZE] + 0.5
    directions = np.stack([(columns - SIZE / 2) / FOCAL, -(rows - SIZE / 2) / FOCAL, -np.ones_like(rows)], axis=-1) @ pose[:3, :3].T
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    origin = pose[:3, 3]
    along = -(directions @ origin)  # ray parameter of the point closest to the sphere's centre
    closest = origin + along[..., None] * directions
    return (np.linalg.norm(closest, axis=-1) < SPHERE) & (along > 0)


def _sequence(tmp_path: Path, outline_noise_px: int) -> TrackedSequence:
    frames = []
    intrinsics = PinholeIntrinsics(SIZE, SIZE, FOCAL, FOCAL, SIZE / 2, SIZE / 2)
    for index, (yaw, pitch) in enumerate((y, p) for y in np.radians(np.linspace(-40, 40, 8)) for p in np.radians([-10, 10])):
        pose = _look_at(yaw, pitch)
        mask = _sphere_mask(pose).astype(np.uint8)
        if outline_noise_px:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * outline_noise_px + 1,) * 2)
            mask = cv2.dilate(mask, kernel) if index % 2 else cv2.erode(mask, kernel)
        path = tmp_path / f"mask_{index:02d}.png"
        cv2.imwrite(str(path), mask * 255)
        frames.append(SequenceFrame(path, path, pose, np.zeros(1), intrinsics, face_rect=(0.0, 0.0, SIZE, SIZE)))
    return TrackedSequence("nerfblend", tmp_path / "transforms.json", ["a"], frames, head_radius=0.12)


@pytest.mark.parametrize("noise", [0, 3])
def test_masks_of_one_rigid_shape_agree_with_their_consensus_and_moving_outlines_do_not(tmp_path, noise):
    # At the default tolerance one view of 16 that sees background carves a cell: the consensus of exact
    # masks is the sphere's own hull, whose outline in every view is the sphere's.
    scores = mask_consistency(_sequence(tmp_path, noise), MaskConsistencyConfig(resolution=64, upper_head=0.5))
    assert scores["frames"] == 16 and scores["cell_px"] < 1.5
    if noise == 0:
        assert scores["upper_mean_abs_px"] < 0.5 and scores["outline_mean_abs_px"] < 0.5, scores
        assert scores["consensus_only_area"] < 0.02 and scores["mask_only_area"] < 0.02, scores
    else:
        # Half the masks 3 px too large, half 3 px too small: the consensus follows the small ones, and the
        # large ones reach 6 px outside it.
        assert scores["upper_mean_abs_px"] > 1.5 and scores["outline_mean_abs_px"] > 1.5, scores
        assert scores["upper_mean_signed_px"] > 1.5 and scores["mask_only_area"] > 0.05, scores


def test_too_few_frames_or_an_empty_mask_are_errors_naming_the_data(tmp_path):
    sequence = _sequence(tmp_path, 0)
    with pytest.raises(ValueError, match="transforms.json: the masks of the 4 frames agree on no cell"):
        mask_consistency(sequence, MaskConsistencyConfig(resolution=32), frames=[0, 1, 2, 3])
    cv2.imwrite(str(sequence.frames[5].mask_path), np.zeros((SIZE, SIZE), np.uint8))
    with pytest.raises(WorkspaceError, match="mask_05.png.*empty"):
        mask_consistency(sequence, MaskConsistencyConfig(resolution=32))
