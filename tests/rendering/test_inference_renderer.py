"""The inference renderer: what a launch is given is what a captured frame is keyed on, and its step is
the training step times its scale."""

import pytest
import torch

import nerfblend_ns.rendering.inference_renderer as inference_renderer
from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, NerfBlendField
from nerfblend_ns.rendering.camera_rays import pinhole_parameters, pixel_centres, tile_order
from nerfblend_ns.rendering.inference_renderer import InferenceRenderer, InferenceRendererConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGrid, OccupancyGridConfig
from nerfblend_ns.rendering.render_settings import RenderSettings

AABB = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])


def _renderer(**options) -> InferenceRenderer:
    field = NerfBlendField(
        AABB, CoefficientSegments.linear(1), BlendedHashGridConfig(num_levels=2, log2_hashmap_size=6, max_resolution=16, implementation="torch"),
        DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=8, color_hidden_dim=16),
    )
    grid = OccupancyGrid(AABB, OccupancyGridConfig(resolution=8, training_step_size=0.02, near_plane=0.1, far_plane=7.0))
    grid.binaries.fill_(True)
    return InferenceRenderer(InferenceRendererConfig(**options), field, grid)


def test_settings_come_from_both_configs_and_the_render_step_is_a_multiple_of_the_training_step():
    renderer = _renderer(step_scale=3.0, alpha_threshold=0.2, early_stop_eps=0.05, half_precision=False)
    assert renderer.settings == RenderSettings(
        step_size=pytest.approx(0.06), near_plane=0.1, far_plane=7.0, alpha_threshold=0.2, early_stop_eps=0.05,
        half_precision=False,
    )


def test_the_settings_a_frame_is_launched_with_are_those_its_graph_key_holds(monkeypatch):
    launched = []
    torch_path = inference_renderer.render_rays_torch

    def recording(*args, **kwargs):
        launched.append(args[7])  # `settings`, the argument both render paths take in that place
        return torch_path(*args, **kwargs)

    monkeypatch.setattr(inference_renderer, "render_rays_torch", recording)
    renderer = _renderer(step_scale=1.5, alpha_threshold=0.3, expression_grid=False)
    camera = _camera(size=8)
    renderer.render_pinhole(camera, torch.zeros(1, 1), 8, 8, rays_per_chunk=40)
    assert len(launched) == 2 and all(settings == renderer.settings for settings in launched)
    order = tile_order(8, 8, torch.device("cpu"))
    intrinsics, camera_to_world = pinhole_parameters(camera)
    inputs = (torch.zeros(1, 1), intrinsics, camera_to_world, renderer.occupancy_grid.binaries)
    key = renderer.frame_graph_key(inputs, order, pixel_centres(order, 8), 40)
    settings_key = launched[0].key()
    assert any(key[i : i + len(settings_key)] == settings_key for i in range(len(key)))


def _camera(size: int):
    from nerfstudio.cameras.cameras import Cameras

    camera_to_world = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0]])
    return Cameras(camera_to_worlds=camera_to_world[None], fx=float(size), fy=float(size), cx=size / 2, cy=size / 2,
                   width=size, height=size)
