"""Rendering outside training: rays of a batch and frames of a pinhole camera, through the fused kernel
where it can run (optionally replayed as a CUDA graph), through torch operators elsewhere.

The four render paths of the project and where each lives (docs/architecture.md):
training marching (the model, with gradients), torch windows (`render_rays_torch`), fused
(`render_rays_fused`) and fused replayed as a CUDA graph (`render_pinhole` with `cuda_graph`).
"""

from dataclasses import dataclass
from functools import partial
from typing import Dict, Optional, Tuple

import torch
from jaxtyping import Bool, Float, Int
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor

from nerfblend_ns.encodings.lookup_implementation import triton_available
from nerfblend_ns.fields.nerfblend_field import NerfBlendField
from nerfblend_ns.rendering.camera_rays import pinhole_parameters, pinhole_rays, pixel_centres, tile_order
from nerfblend_ns.rendering.fused_rendering import current_kernel_weights, render_rays_fused, unsupported_reason
from nerfblend_ns.rendering.graph_replay import GraphCache
from nerfblend_ns.rendering.occupancy_grid import DensityFn, OccupancyGrid
from nerfblend_ns.rendering.packed_volume_rendering import RenderedRays
from nerfblend_ns.rendering.render_settings import RenderSettings
from nerfblend_ns.rendering.torch_rendering import render_rays_torch


@dataclass
class InferenceRendererConfig:
    """How the model renders outside training (evaluation, the viewer, `nerfblend-render`)."""

    step_scale: float = 2.0
    """Marching step as a multiple of the training step. The trained density rises over ~100 training steps
    through the skin, so coarser steps draw nearly the same image (docs/speed.md)."""
    alpha_threshold: float = 0.01
    """Samples with opacity below this are skipped; training keeps them, so that a field that became
    transparent everywhere still gets gradients."""
    half_precision: bool = True
    """Evaluate the MLPs under float16 autocast on CUDA (training stays float32)."""
    early_stop_eps: float = 1e-3
    """Transmittance under which a ray ends: the colour it leaves out is at most this fraction, a quarter of
    an 8-bit level (the marching of training stops at 1e-4)."""
    expression_grid: bool = True
    """When rendering rays of one expression a second time in a row (a viewer's next frame), march only the
    cells that expression fills rather than the union over all bases (`OccupancyGrid.expression_binaries`)."""
    fused: bool = True
    """Render on CUDA with the fused Triton kernel (march, encode, decode and composite in one pass) where
    the field allows it; off: marching and front-to-back evaluation with torch operators."""
    cuda_graph: bool = True
    """Render a pinhole camera's frame with the fused kernel by replaying a CUDA graph (captured once per
    image size and settings): one launch instead of a few dozen operators queued one by one from Python."""


class InferenceRenderer:
    """Renders `field` through `occupancy_grid` as `config` says; holds the caches of frames (pixel tiles,
    captured graphs). Not a module: it owns no parameters or buffers, only references to the model's."""

    def __init__(self, config: InferenceRendererConfig, field: NerfBlendField, occupancy_grid: OccupancyGrid) -> None:
        self.config = config
        self.field = field
        self.occupancy_grid = occupancy_grid
        # Per image size and device, made once: pixel indices in tile order and their centres.
        self._pixel_tiles: Dict[tuple, Tuple[Tensor, Tensor]] = {}
        self._frame_graphs = GraphCache()

    @property
    def settings(self) -> RenderSettings:
        """What every launch reads, made from the configs as they are now (they may change between renders)."""
        grid = self.occupancy_grid
        return RenderSettings(
            step_size=grid.training_step_size * self.config.step_scale,
            near_plane=grid.config.near_plane,
            far_plane=grid.config.far_plane,
            alpha_threshold=self.config.alpha_threshold,
            early_stop_eps=self.config.early_stop_eps,
            half_precision=self.config.half_precision,
        )

    def renders_fused(self, like: Tensor) -> bool:
        """Whether rays on `like`'s device go through the fused kernel."""
        return (
            self.config.fused and like.is_cuda and triton_available()
            and self.occupancy_grid.binaries.shape[0] == 1 and unsupported_reason(self.field) is None
        )

    def render_rays(
        self,
        origins: Float[Tensor, "r 3"],
        directions: Float[Tensor, "r 3"],
        tables: Float[Tensor, "b p f"],
        table_index: Int[Tensor, "r"],
        binaries: Bool[Tensor, "1 x y z"],
        in_tile_order: bool = False,
    ) -> RenderedRays:
        """Rays through the grid `binaries`, each in its blended table `tables[table_index]`; `in_tile_order`:
        the rays are a camera's in `tile_order`."""
        render = render_rays_fused if self.renders_fused(origins) else render_rays_torch
        return render(
            self.field, tables, table_index, origins, directions, binaries[0], self.occupancy_grid.aabbs[0],
            self.settings, coherent=in_tile_order,
        )

    def render_batch(
        self,
        origins: Float[Tensor, "r 3"],
        directions: Float[Tensor, "r 3"],
        coefficients: Float[Tensor, "b k"],
        tables: Float[Tensor, "b p f"],
        table_index: Int[Tensor, "r"],
    ) -> RenderedRays:
        """Rays of a batch whose expressions are the rows of `coefficients`, blended as `tables`."""
        return self.render_rays(origins, directions, tables, table_index, self._binaries(coefficients, tables))

    def _binaries(
        self, coefficients: Float[Tensor, "b k"], tables: Optional[Float[Tensor, "b p f"]] = None
    ) -> Bool[Tensor, "1 x y z"]:
        """The grid to march for the expressions `coefficients` (blended as `tables`, made here if needed)."""
        if not self.config.expression_grid:
            return self.occupancy_grid.binaries

        def density_fn() -> DensityFn:
            return self._density_fn(self.field.blend(coefficients) if tables is None else tables)

        return self.occupancy_grid.expression_binaries(coefficients, density_fn)

    def _density_fn(self, tables: Float[Tensor, "1 p f"]) -> DensityFn:
        """Density in the one blended table `tables`, at the render's precision."""

        def density(positions: Float[Tensor, "n 3"]) -> Float[Tensor, "n 1"]:
            table_index = torch.zeros(positions.shape[0], dtype=torch.long, device=positions.device)
            enabled = self.config.half_precision and positions.is_cuda
            with torch.autocast("cuda", dtype=torch.float16, enabled=enabled):
                return self.field.density(positions, tables, table_index)

        return density

    def render_pinhole(
        self, camera: Cameras, coefficients: Float[Tensor, "1 k"], height: int, width: int, rays_per_chunk: int
    ) -> Dict[str, Tensor]:
        """A pinhole camera's image at `coefficients`: its rays made on the device in tile order (no host
        waits, no sort), one blended table and one grid for the frame, chunks of `rays_per_chunk` rays;
        outputs [H, W, C] on the camera's device, as nerfstudio returns them."""
        device = coefficients.device
        key = (height, width, device)
        if key not in self._pixel_tiles:
            order = tile_order(height, width, device)
            self._pixel_tiles[key] = (order, pixel_centres(order, width))
        order, centres = self._pixel_tiles[key]
        intrinsics, camera_to_world = pinhole_parameters(camera)
        binaries = self._binaries(coefficients)
        inputs = (coefficients, intrinsics.to(device), camera_to_world.to(device), binaries)
        frame = partial(self._pinhole_frame, order, centres, rays_per_chunk)
        if self.config.cuda_graph and self.renders_fused(coefficients):
            outputs = self._frame_graphs(self.frame_graph_key(inputs, order, centres, rays_per_chunk), frame, inputs)
        else:
            outputs = frame(*inputs)
        return {name: value.view(height, width, -1).to(camera.device) for name, value in outputs.items()}

    def _pinhole_frame(
        self,
        order: Int[Tensor, "n"],
        centres: Float[Tensor, "n 2"],
        rays_per_chunk: int,
        coefficients: Float[Tensor, "1 k"],
        intrinsics: Float[Tensor, "4"],
        camera_to_world: Float[Tensor, "3 4"],
        binaries: Bool[Tensor, "1 x y z"],
    ) -> Dict[str, Tensor]:
        """Outputs of the pixels `order` (centres `centres`) in raster order, [N, C] each; device work only,
        so that it can be captured as a CUDA graph."""
        tables = self.field.blend(coefficients)
        chunks = []
        for start in range(0, order.shape[0], rays_per_chunk):
            origins, directions = pinhole_rays(intrinsics, camera_to_world, centres[start : start + rays_per_chunk])
            table_index = torch.zeros(origins.shape[0], dtype=torch.long, device=origins.device)
            chunks.append(self.render_rays(origins, directions, tables, table_index, binaries, True).outputs())
        outputs = {}
        for name in chunks[0]:
            values = torch.cat([chunk[name] for chunk in chunks])  # [N, C] in tile order
            outputs[name] = torch.empty_like(values).index_copy_(0, order, values)
        return outputs

    def frame_graph_key(
        self, inputs: Tuple[Tensor, ...], order: Tensor, centres: Tensor, rays_per_chunk: int
    ) -> tuple:
        """What a captured frame depends on besides its inputs: the settings it was launched with and the
        addresses of the tensors it reads (tables, kernel weights, pixels, boxes)."""
        settings = self.settings
        weights = current_kernel_weights(self.field, torch.float16 if settings.half_precision else torch.float32)
        encoding = self.field.encoding
        read = (encoding.tables, encoding.level_table, self.field.aabb, self.occupancy_grid.aabbs, order, centres)
        shapes = tuple(tuple(value.shape) for value in inputs)
        return (
            rays_per_chunk, encoding.implementation, *settings.key(), *shapes,
            *(value.data_ptr() for value in (*read, *weights)),
        )
