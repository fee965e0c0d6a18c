"""The visual hull: cells every view sees as background are carved, cells any view sees as head or few
views see are kept; and the model keeps carved cells empty through occupancy updates."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.engine.callbacks import TrainingCallbackAttributes
from stub_datamanager import StubDataManager

from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGridConfig
from nerfblend_ns.rendering.visual_hull import VisualHullConfig, reduced_silhouettes, training_hull
from conftest import look_at_camera

AABB = torch.tensor([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])
SIZE = 64
AXES = [np.array(p, float) for p in ([4, 0, 0], [-4, 0, 0], [0, 4, 0.01], [0, -4, 0.01], [0, 0, 4], [0, 0, -4])]
"""Six views from the axes, 4 units from the centre of the box (y views tilted off the up vector)."""


def _cameras(focal: float) -> Cameras:
    poses = torch.tensor(np.stack([look_at_camera(p)[:3] for p in AXES]), dtype=torch.float32)  # [6, 3, 4]
    count = poses.shape[0]
    return Cameras(
        camera_to_worlds=poses, fx=torch.full((count, 1), focal), fy=torch.full((count, 1), focal),
        cx=torch.full((count, 1), SIZE / 2), cy=torch.full((count, 1), SIZE / 2), width=SIZE, height=SIZE,
    )


def _sphere_masks(cameras: Cameras, radius: float) -> torch.Tensor:
    """[N, S, S] pixels whose ray meets a sphere of `radius` at the origin (found by ray casting)."""
    rays = cameras.generate_rays(camera_indices=torch.arange(len(cameras))[:, None])  # [S, S, N] bundles
    origins, directions = rays.origins, rays.directions  # [S, S, N, 3]
    along = -(origins * directions).sum(-1, keepdim=True)
    closest = (origins + along * directions).norm(dim=-1)  # [S, S, N]
    return (closest < radius).permute(2, 0, 1)


def _hull(cameras: Cameras, masks: torch.Tensor, min_views: int = 3, fraction: float = 1.0, dilation: int = 0):
    config = VisualHullConfig(enabled=True, mask_size=SIZE, dilation=dilation, min_views=min_views, background_fraction=fraction)
    return training_hull(config, AABB, 4, cameras, masks)  # [4, 4, 4], cell centres at ±0.25 and ±0.75


def test_a_cell_every_view_sees_as_background_is_carved_and_the_head_is_kept():
    cameras = _cameras(focal=SIZE)
    allowed = _hull(cameras, _sphere_masks(cameras, radius=0.5))
    assert allowed[1:3, 1:3, 1:3].all()  # the 8 cells around the centre, inside the sphere's hull
    corners = allowed[[0, 0, 0, 0, 3, 3, 3, 3], [0, 0, 3, 3, 0, 0, 3, 3], [0, 3, 0, 3, 0, 3, 0, 3]]
    assert not corners.any()  # (±0.75, ±0.75, ±0.75) lies outside the sphere in every view


def test_a_cell_that_one_view_sees_as_head_is_kept():
    cameras = _cameras(focal=SIZE)
    masks = _sphere_masks(cameras, radius=0.5)
    masks[4] = True  # the view from +z sees head everywhere
    assert _hull(cameras, masks).all()
    assert not _hull(cameras, masks, fraction=5 / 6)[0, 0, 0]  # unless a fraction below 1 outvotes it


def test_cells_seen_by_too_few_views_are_kept():
    cameras = _cameras(focal=SIZE)
    background = torch.zeros(6, SIZE, SIZE, dtype=torch.bool)
    assert not _hull(cameras, background, min_views=6).any()  # all six see every cell as background
    assert _hull(cameras, background, min_views=7).all()
    # A long focal length: each view sees the central cells only, the corners of the box none.
    narrow = _cameras(focal=6 * SIZE)
    allowed = _hull(narrow, background, min_views=1)
    assert not allowed[1:3, 1:3, 1:3].any() and allowed[0, 0, 0] and allowed[3, 3, 3]


def test_silhouettes_are_pooled_then_dilated():
    masks = torch.zeros(1, 16, 16, dtype=torch.bool)
    masks[0, 5, 9] = True  # one head pixel: in reduced pixel (1, 2) at 4× reduction
    reduced = reduced_silhouettes(masks, size=4, dilation=0)
    assert reduced.shape == (1, 4, 4) and reduced[0].nonzero().tolist() == [[1, 2]]
    grown = reduced_silhouettes(masks, size=4, dilation=1)
    assert grown[0].sum().item() == 9 and grown[0, 0:3, 1:4].all()
    with pytest.raises(ValueError, match="at least one frame"):
        reduced_silhouettes(torch.zeros(0, 4, 4, dtype=torch.bool), 4, 0)


def test_the_model_keeps_carved_cells_empty_through_occupancy_updates():
    cameras = _cameras(focal=SIZE)
    masks = _sphere_masks(cameras, radius=0.5)
    config = NerfBlendModelConfig(
        grid=BlendedHashGridConfig(num_levels=2, log2_hashmap_size=6, max_resolution=16, implementation="torch"),
        decoder=DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=8, color_hidden_dim=16),
        occupancy=OccupancyGridConfig(
            resolution=4, update_interval=1, warmup_steps=4, threshold=-1.0,
            visual_hull=VisualHullConfig(enabled=True, mask_size=SIZE, dilation=0, min_views=3),
        ),
        perceptual_loss="off",
    )
    coefficients = torch.tensor([[0.0], [1.0]])
    metadata = {"expression_names": ["open"], "expr_min": coefficients.min(0).values,
                "expr_max": coefficients.max(0).values, "expressions": coefficients}
    model = config.setup(scene_box=SceneBox(AABB.view(2, 3)), num_train_data=6, metadata=metadata)
    datamanager = StubDataManager(cameras, masks)
    attributes = TrainingCallbackAttributes(optimizers=None, grad_scaler=None, pipeline=SimpleNamespace(datamanager=datamanager), trainer=None)
    callbacks = model.get_training_callbacks(attributes)
    expected = _hull(cameras, masks)
    for step in range(2):
        for callback in callbacks:
            callback.run_callback_at_location(step, callback.where_to_run[0])
        # A threshold below every opacity: the update alone would mark every cell occupied.
        assert torch.equal(model.occupancy_grid.binaries[0], expected)
