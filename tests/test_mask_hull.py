"""The visual hull's geometry: grid cells, pinhole projection, which points the masks leave to the head,
computed everywhere or coarse to fine, and the silhouette of a set of cells in a view."""

import numpy as np
import pytest
import torch

from nerfblend_ns import mask_hull
from nerfblend_ns.mask_hull import cell_centres, consensus_cells, hull_silhouette, project_to_pixels, shell_cells, visual_hull
from conftest import look_at_camera

SIZE = 64
INTRINSICS = torch.tensor([[SIZE, SIZE, SIZE / 2, SIZE / 2]], dtype=torch.float32)  # [1, 4]
FRONT = torch.tensor(look_at_camera(np.array([0.0, 0.0, 4.0]))[:3], dtype=torch.float32)[None]  # [1, 3, 4]


def test_cell_centres_follow_the_occupancy_grids_indexing():
    centres = cell_centres(torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]), 4)
    assert centres[0, 1, 3].tolist() == [-0.75, -0.25, 0.75]


def test_projection_puts_x_right_y_down_and_depth_in_front():
    points = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 6.0]])
    x, y, depth = project_to_pixels(points, INTRINSICS, FRONT)
    assert torch.allclose(x[0, :3], torch.tensor([32.0, 48.0, 32.0])) and torch.allclose(y[0, :3], torch.tensor([32.0, 32.0, 16.0]))
    assert depth[0].tolist() == [4.0, 4.0, 4.0, -2.0]


def test_a_point_behind_a_camera_is_not_seen_by_it():
    # A point behind the camera projects to the image centre if the depth's sign is ignored.
    points = torch.tensor([[0.0, 0.0, 6.0], [0.0, 0.0, 0.0]])
    background = torch.zeros(1, SIZE, SIZE, dtype=torch.bool)
    allowed = visual_hull(points, INTRINSICS, torch.tensor([[SIZE, SIZE]]), FRONT, background, min_views=1,
                          background_fraction=1.0)
    assert allowed.tolist() == [True, False]


def test_unseen_points_are_kept_only_on_request():
    points = torch.tensor([[0.0, 0.0, 6.0]])  # behind the only camera
    masks = torch.ones(1, SIZE, SIZE, dtype=torch.bool)
    args = (points, INTRINSICS, torch.tensor([[SIZE, SIZE]]), FRONT, masks, 1, 1.0)
    assert visual_hull(*args).tolist() == [True] and visual_hull(*args, keep_unseen=False).tolist() == [False]


def test_the_silhouette_of_a_square_of_cells_is_its_image_without_gaps():
    # Cells of 0.1 units centred every 0.1 units over a 1 × 1 square at depth 4: 1.6 px apart, their
    # footprints together the image square [23.2, 40.8) in x and y.
    grid = torch.stack(torch.meshgrid(torch.linspace(-0.5, 0.5, 11), torch.linspace(-0.5, 0.5, 11), indexing="ij"), -1)
    points = torch.cat((grid.reshape(-1, 2), torch.zeros(121, 1)), dim=1)
    silhouette = hull_silhouette(points, INTRINSICS[0], FRONT[0], SIZE, SIZE, cell_size=0.1)
    rows, columns = np.nonzero(silhouette)
    assert (rows.min(), rows.max(), columns.min(), columns.max()) == (23, 40, 23, 40)
    assert silhouette[23:41, 23:41].all() and silhouette.sum() == 18 * 18


def test_cells_beyond_the_image_border_cover_only_the_pixels_inside_it():
    # The square of the test above moved 30 px to the right: its footprints end at the image's last column.
    grid = torch.stack(torch.meshgrid(torch.linspace(-0.5, 0.5, 11), torch.linspace(-0.5, 0.5, 11), indexing="ij"), -1)
    points = torch.cat((grid.reshape(-1, 2), torch.zeros(121, 1)), dim=1) + torch.tensor([30.0 * 4 / SIZE, 0.0, 0.0])
    silhouette = hull_silhouette(points, INTRINSICS[0], FRONT[0], SIZE, SIZE, cell_size=0.1)
    assert silhouette[23:41, 53:].all() and silhouette.sum() == 18 * (SIZE - 53)


def test_the_shell_is_the_kept_cells_beside_a_cell_that_is_not_kept():
    kept = torch.zeros(6, 6, 6, dtype=torch.bool)
    kept[1:5, 1:5, 1:5] = True
    shell = shell_cells(kept)
    assert shell[1:5, 1:5, 1:5].sum() == 4**3 - 2**3 and not shell[2:4, 2:4, 2:4].any() and not (shell & ~kept).any()
    assert shell_cells(torch.ones(3, 3, 3, dtype=torch.bool)).sum() == 26  # the grid's border counts as outside


def _sphere_views(radius: float):
    """(intrinsics [6, 4], image sizes [6, 2], camera-to-world [6, 3, 4], masks [6, S, S]) of a sphere at the origin
    seen from six directions 4 units away."""
    positions = ([4, 0.3, 0], [-4, 0, 0.5], [0.2, 4, 0.01], [0, -4, 0.3], [0.6, 0, 4], [0, 0.4, -4])
    poses = np.stack([look_at_camera(np.array(p, float))[:3] for p in positions])  # [6, 3, 4]
    rows, columns = np.mgrid[:SIZE, :SIZE] + 0.5
    local = np.stack([(columns - SIZE / 2) / SIZE, -(rows - SIZE / 2) / SIZE, -np.ones_like(rows)], -1)  # [S, S, 3]
    masks = []
    for pose in poses:
        directions = local @ pose[:, :3].T
        directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
        along = -(directions @ pose[:, 3])
        masks.append(np.linalg.norm(pose[:, 3] + along[..., None] * directions, axis=-1) < radius)
    count = len(poses)
    return (INTRINSICS.repeat(count, 1), torch.tensor([[SIZE, SIZE]] * count, dtype=torch.float32),
            torch.tensor(poses, dtype=torch.float32), torch.from_numpy(np.stack(masks)))


@pytest.mark.parametrize("coarsest", [40, 8])  # 16³ then 32³; 8³, 16³ then 32³
def test_the_consensus_computed_coarse_to_fine_is_the_hull_computed_everywhere(coarsest, monkeypatch):
    monkeypatch.setattr(mask_hull, "COARSEST_RESOLUTION", coarsest)
    intrinsics, sizes, poses, masks = _sphere_views(0.6)
    aabb = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])
    everywhere = visual_hull(cell_centres(aabb, 32), intrinsics, sizes, poses, masks, 6, 0.2, keep_unseen=False)
    coarse_to_fine = consensus_cells(aabb, 32, intrinsics, sizes, poses, masks, 6, 0.2)
    assert 1000 < everywhere.sum() < 32**3 / 4 and torch.equal(coarse_to_fine, everywhere)
    with pytest.raises(ValueError, match="even"):
        consensus_cells(aabb, 31, intrinsics, sizes, poses, masks, 6, 0.2)


def test_the_silhouette_of_a_solid_seen_obliquely_has_no_pinholes():
    # A ball of cells seen along a diagonal: its surface cells meet at corners only, which left pinholes
    # (11 here) inside the silhouette until enclosed holes were filled.
    centres = cell_centres(torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]), 24)
    kept = centres.norm(dim=-1) < 0.8
    diagonal = torch.tensor(look_at_camera(np.array([2.5, 2.0, 2.2]))[:3], dtype=torch.float32)
    silhouette = hull_silhouette(centres[shell_cells(kept)], INTRINSICS[0], diagonal, SIZE, SIZE, cell_size=2.0 / 24)
    rows, columns = np.nonzero(silhouette)
    box = silhouette[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    assert silhouette.sum() > 500
    assert not np.any(~box[1:-1, 1:-1] & box[:-2, 1:-1] & box[2:, 1:-1] & box[1:-1, :-2] & box[1:-1, 2:])
