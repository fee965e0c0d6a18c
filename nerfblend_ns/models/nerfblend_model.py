"""The NeRFBlendShape model: blended hash grids, expression-aware occupancy grid, staged losses."""

from dataclasses import dataclass, field
from functools import partial
from typing import Dict, List, Literal, Optional, Tuple, Type

import torch
from jaxtyping import Bool, Float, Int
from nerfacc import OccGridEstimator
from nerfstudio.cameras.camera_optimizers import CameraOptimizer, CameraOptimizerConfig
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import OrientedBox
from nerfstudio.engine.callbacks import TrainingCallback, TrainingCallbackAttributes, TrainingCallbackLocation
from nerfstudio.models.base_model import Model, ModelConfig
from nerfstudio.utils import colormaps
from torch import Tensor
from torch.nn import Parameter

from nerfblend_ns.checkpoint_weights import require_trained_weights
from nerfblend_ns.encodings.lookup_implementation import triton_available
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, DecoderConfig, NerfBlendField
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white, image_metrics, require_finite
from nerfblend_ns.models.basis_penalty import basis_table_l1
from nerfblend_ns.models.distributed_sync import broadcast_occupancy
from nerfblend_ns.models.expression_augmentation import augment_expressions
from nerfblend_ns.models.expression_resolution import EXTRAPOLATE_KEY, ResolvedExpression, resolve_camera_expression
from nerfblend_ns.models.loss_schedule import LossScheduleConfig, composite, staged_losses
from nerfblend_ns.models.occupancy_density import occupancy_density_fn
from nerfblend_ns.perceptual import load_lpips_vgg
from nerfblend_ns.rendering.camera_rays import (
    pinhole_parameters,
    pinhole_rays,
    pixel_centres,
    single_pinhole_size,
    tile_order,
)
from nerfblend_ns.rendering.expression_grid import expression_grid
from nerfblend_ns.rendering.front_to_back import render_front_to_back
from nerfblend_ns.rendering.fused_rendering import current_kernel_weights, render_rays_fused, unsupported_reason
from nerfblend_ns.rendering.graph_replay import GraphCache
from nerfblend_ns.rendering.occupancy_ray_marching import march_rays
from nerfblend_ns.rendering.packed_volume_rendering import RenderedRays, render_packed
from nerfblend_ns.rendering.visual_hull import VisualHullConfig, training_hull
from nerfblend_ns.viewer.expression_controls import ExpressionControls


@dataclass
class NerfBlendModelConfig(ModelConfig):
    """NeRFBlendShape (Gao et al. 2022): one hash grid per expression basis, blended by the coefficients."""

    _target: Type = field(default_factory=lambda: NerfBlendModel)
    grid: BlendedHashGridConfig = field(default_factory=BlendedHashGridConfig)
    """Hash-grid size of every basis."""
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    """MLPs decoding features into density and colour."""
    losses: LossScheduleConfig = field(default_factory=LossScheduleConfig)
    """Training stages and loss weights."""
    basis_l1_weight: float = 1.0
    """Weight of mean|H_k| over the basis tables (not the neutral one), added to every step's loss as the
    authors' code does (the paper omits it); 0 turns it off. A field without basis tables has no such term."""
    occupancy_resolution: int = 128
    """Cells per axis of the occupancy grid over the scene box."""
    occupancy_update_interval: int = 16
    """Steps between occupancy-grid updates."""
    occupancy_warmup_steps: int = 256
    """Steps during which every update re-evaluates all cells."""
    occupancy_threshold: float = 0.01
    """Opacity σ·Δt above which a cell counts as occupied."""
    occupancy_chunk: int = 1 << 20
    """Density evaluations per chunk of an occupancy update (bounds its memory: ~3 GB at the paper's size)."""
    occupancy_half_precision: bool = True
    """Evaluate the occupancy update's MLPs under float16 autocast on CUDA, as the paper's code does;
    its (K + 1)·N MLP evaluations dominate an update. Off: float32."""
    visual_hull: VisualHullConfig = field(default_factory=VisualHullConfig)
    """Empty space carved from the occupancy grid by the training frames' head masks."""
    expression_aware_occupancy: bool = True
    """Build the grid from the max density over h0 and h0 + ŵ_i·h_i (paper §3.3); off: neutral head only."""
    render_step_size: Optional[float] = None
    """Marching step in scene units when training (default: box diagonal / 1000)."""
    render_step_scale: float = 2.0
    """Rendering outside training marches this many training steps at a time. The trained density rises
    over ~100 steps through the skin, so coarser steps draw nearly the same image (README, Speed)."""
    alpha_threshold: float = 0.01
    """Samples with opacity below this are skipped when rendering; training keeps them, so that a field
    that became transparent everywhere still gets gradients."""
    render_half_precision: bool = True
    """Evaluate the MLPs under float16 autocast when rendering on CUDA (training stays float32)."""
    render_early_stop_eps: float = 1e-3
    """Transmittance under which rendering ends a ray: the colour it leaves out is at most this fraction, a
    quarter of an 8-bit level (the marching of training stops at 1e-4)."""
    render_expression_grid: bool = True
    """When rendering rays of one expression a second time in a row (a viewer's next frame), march only the
    cells that expression fills (the training grid's cells whose centre is occupied at it, grown by one
    cell) rather than the union over all bases."""
    render_fused: bool = True
    """Render on CUDA with the fused Triton kernel (march, encode, decode and composite in one pass) where
    the field allows it; off: nerfacc's marching and front-to-back evaluation with torch operators."""
    render_cuda_graph: bool = True
    """Render a pinhole camera's frame with the fused kernel by replaying a CUDA graph (captured once per
    image size and settings): one launch instead of a few dozen operators queued one by one from Python."""
    near_plane: float = 0.05
    """Nearest distance from the camera at which samples are taken."""
    far_plane: float = 1000.0
    """Farthest distance from the camera at which samples are taken."""
    camera_optimizer: CameraOptimizerConfig = field(default_factory=lambda: CameraOptimizerConfig(mode="off"))
    """Per-frame pose corrections learned with the model (nerfstudio's optimiser; SO3xR3 as nerfacto uses);
    they need gradients with respect to sample positions, which only grid.implementation torch gives."""
    clamp_expressions: bool = True
    """Clamp coefficients to the per-dimension range seen in training, as the paper's code does."""
    expression_noise: float = 0.0
    """Training only: Gaussian noise added to each frame's coefficients, its standard deviation this fraction
    of each dimension's training range (0: off)."""
    expression_dropout: float = 0.0
    """Training only: probability that each coefficient of a frame is set to 0 (neutral) for a step."""
    perceptual_loss: Literal["auto", "required", "off"] = "auto"
    """LPIPS(VGG) on patches: auto uses it when its weights are available, required fails without them.
    Evaluation reports LPIPS whenever the weights are available, also with the loss off (an ablation)."""


def _midpoints(
    origins: Float[Tensor, "r 3"], directions: Float[Tensor, "r 3"], t_starts: Tensor, t_ends: Tensor, ray_indices: Tensor
) -> Float[Tensor, "s 3"]:
    return origins[ray_indices] + directions[ray_indices] * ((t_starts + t_ends) / 2)[:, None]


class NerfBlendModel(Model):
    """Renders a head at the expression carried by each ray's `metadata["expr"]`."""

    config: NerfBlendModelConfig

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        # nerfstudio retries a failed strict load without strictness: refuse a checkpoint of another model first.
        require_trained_weights(self, state_dict)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def populate_modules(self):
        super().populate_modules()
        metadata = self.kwargs.get("metadata") or {}
        missing = [key for key in ("expression_names", "expr_min", "expr_max", "expressions") if key not in metadata]
        if missing:
            raise ValueError(f"nerfblend needs the nerfblend-data dataparser; its metadata lacks {', '.join(missing)}")
        self.expression_names: List[str] = list(metadata["expression_names"])
        self.register_buffer("expr_min", metadata["expr_min"].float().clone())
        self.register_buffer("expr_max", metadata["expr_max"].float().clone())
        self.register_buffer("train_expressions", metadata["expressions"].float().clone())
        self.expression_controls = ExpressionControls(
            self.expression_names, self.expr_min, self.expr_max, self.train_expressions
        )
        aabb = self.scene_box.aabb.float()
        self.field = self.build_field(aabb, len(self.expression_names))
        self.occupancy_grid = OccGridEstimator(
            roi_aabb=aabb.flatten(), resolution=self.config.occupancy_resolution, levels=1
        )
        # Camera refinement: a pose correction per training frame, applied to training rays (get_outputs).
        if self.config.camera_optimizer.mode != "off" and self.config.grid.implementation != "torch" and (
            torch.cuda.is_available() and triton_available()
        ):
            raise ValueError(
                "camera_optimizer needs gradients with respect to sample positions, which the Triton lookup does "
                "not give: set --pipeline.model.grid.implementation torch"
            )
        self.camera_optimizer: CameraOptimizer = self.config.camera_optimizer.setup(
            num_cameras=self.num_train_data, device="cpu"
        )
        self.step_size = self.config.render_step_size or float((aabb[1] - aabb[0]).norm()) / 1000.0
        self.step = 0
        self._render_grid_cache: Optional[Tuple[tuple, Optional[Tensor]]] = None
        # Per image size and device, made once: pixel indices in tile order and their centres.
        self._pixel_tiles: Dict[tuple, Tuple[Tensor, Tensor]] = {}
        self._frame_graphs = GraphCache()
        perceptual, _ = load_lpips_vgg(required=self.config.perceptual_loss == "required")
        # Kept out of the module tree: frozen weights do not belong in checkpoints or optimisers,
        # and a checkpoint must load on a machine without them.
        object.__setattr__(self, "perceptual", perceptual)

    def build_field(self, aabb: Float[Tensor, "2 3"], num_expressions: int) -> NerfBlendField:
        """The radiance field; variants of the method override this with a field of the same interface."""
        return NerfBlendField(aabb, num_expressions, self.config.grid, self.config.decoder)

    def get_param_groups(self) -> Dict[str, List[Parameter]]:
        encoding = list(self.field.encoding.parameters())
        known = {id(p) for p in encoding}
        groups = {"encoding": encoding, "mlp": [p for p in self.field.parameters() if id(p) not in known]}
        self.camera_optimizer.get_param_groups(param_groups=groups)
        return groups

    def _perceptual_on_device(self):
        if self.perceptual is not None:
            self.perceptual.to(self.device)
        return self.perceptual

    def get_training_callbacks(self, training_callback_attributes: TrainingCallbackAttributes) -> List[TrainingCallback]:
        datamanager = training_callback_attributes.pipeline.datamanager

        def begin_step(step: int) -> None:
            self.step = step
            if hasattr(datamanager, "sample_patches"):
                datamanager.sample_patches = self.config.losses.stage(step) == 3

        # Visual hull: cells outside the head in the training views stay empty through every update.
        allowed = None
        if self.config.visual_hull.enabled:
            allowed = training_hull(
                self.config.visual_hull, self.occupancy_grid.aabbs[0], self.config.occupancy_resolution,
                datamanager.train_dataset.cameras, datamanager.frame_cache.head_masks,
            ).to(self.occupancy_grid.binaries.device)
            self.occupancy_grid.binaries &= allowed

        def update_occupancy(step: int) -> None:
            self.occupancy_grid.update_every_n_steps(
                step=step,
                occ_eval_fn=occupancy_density_fn(
                    self.field, self.expr_max, self.step_size, self.config.expression_aware_occupancy,
                    self.config.occupancy_chunk, self.config.occupancy_half_precision,
                ),
                occ_thre=self.config.occupancy_threshold,
                warmup_steps=self.config.occupancy_warmup_steps,
                n=self.config.occupancy_update_interval,
            )
            if allowed is not None:
                self.occupancy_grid.binaries &= allowed
            broadcast_occupancy(self.occupancy_grid)

        return [
            TrainingCallback([TrainingCallbackLocation.BEFORE_TRAIN_ITERATION], begin_step, update_every_num_iters=1),
            # Runs on update steps only, so that the grid's broadcast to the other ranks follows each update.
            TrainingCallback(
                [TrainingCallbackLocation.BEFORE_TRAIN_ITERATION], update_occupancy,
                update_every_num_iters=self.config.occupancy_update_interval,
            ),
        ]

    def prepare_expressions(self, expressions: Float[Tensor, "r k"]) -> Float[Tensor, "r k"]:
        if self.config.clamp_expressions:
            return torch.minimum(torch.maximum(expressions, self.expr_min), self.expr_max)
        return expressions

    def get_outputs(self, ray_bundle: RayBundle) -> Dict[str, Tensor]:
        if "expr" not in ray_bundle.metadata:
            raise ValueError("nerfblend rays need metadata['expr'] (per-ray expression coefficients)")
        # Rays of no training frame (a test frame's pose fit) keep their pose.
        if self.training and ray_bundle.camera_indices is not None:
            self.camera_optimizer.apply_to_raybundle(ray_bundle)
        num_rays = len(ray_bundle)
        origins = ray_bundle.origins.reshape(-1, 3)
        directions = ray_bundle.directions.reshape(-1, 3)
        expressions = ray_bundle.metadata["expr"].reshape(num_rays, -1).float()
        if not ray_bundle.metadata.get(EXTRAPOLATE_KEY, False):
            expressions = self.prepare_expressions(expressions)
        # One blended table per run of rays sharing an expression, not per ray. Rays come grouped by
        # frame, so runs need no sort; a full unique sorts the [R, K] rows (2-3 ms per batch on an H100).
        unique_expressions, frame_of_ray = torch.unique_consecutive(expressions, dim=0, return_inverse=True)
        # Per frame, not per ray: one blended table per frame either way.
        if self.training and (self.config.expression_noise > 0 or self.config.expression_dropout > 0):
            unique_expressions = augment_expressions(
                unique_expressions, self.expr_min, self.expr_max, self.config.expression_noise, self.config.expression_dropout
            )
        tables = self.field.blend(unique_expressions)  # [B, P, F]
        if not self.training:
            grid = self._render_grid(unique_expressions, tables)
            rendered = self._render(origins, directions, tables, frame_of_ray, grid)
            return self._outputs(rendered)

        def sigma_fn(t_starts: Tensor, t_ends: Tensor, ray_indices: Tensor) -> Tensor:
            positions = _midpoints(origins, directions, t_starts, t_ends, ray_indices)
            return self.field.density(positions, tables, frame_of_ray[ray_indices]).squeeze(-1)

        with torch.no_grad():
            ray_indices, t_starts, t_ends = march_rays(
                self.occupancy_grid, origins, directions, self.step_size, self.config.near_plane,
                self.config.far_plane, stratified=True, sigma_fn=sigma_fn,
            )
        rgb, density = self.field(
            _midpoints(origins, directions, t_starts, t_ends, ray_indices), directions[ray_indices], tables,
            frame_of_ray[ray_indices],
        )
        return self._outputs(render_packed(t_starts, t_ends, rgb, density.squeeze(-1), ray_indices, num_rays))

    def _render(
        self,
        origins: Float[Tensor, "r 3"],
        directions: Float[Tensor, "r 3"],
        tables: Float[Tensor, "b p f"],
        table_index: Int[Tensor, "r"],
        grid: Bool[Tensor, "1 x y z"],
        in_tile_order: bool = False,
    ) -> RenderedRays:
        """Renders rays outside training through the occupancy `grid` (`_render_grid`), each in its blended
        table `tables[table_index]`; `in_tile_order`: the rays are a camera's in `tile_order`."""
        if self._renders_fused(origins):
            return render_rays_fused(
                self.field, tables, table_index, origins, directions, grid[0], self.occupancy_grid.aabbs[0],
                coherent=in_tile_order, **self._fused_settings(),
            )
        ray_indices, t_starts, t_ends = march_rays(
            self.occupancy_grid, origins, directions, self.render_step, self.config.near_plane,
            self.config.far_plane, stratified=False, binaries=grid,
        )

        def field_fn(ids: Tensor) -> Tuple[Tensor, Tensor]:
            rays = ray_indices[ids]
            positions = _midpoints(origins, directions, t_starts[ids], t_ends[ids], rays)
            with self._render_precision(origins):
                rgb, density = self.field(positions, directions[rays], tables, table_index[rays])
            return rgb, density.squeeze(-1)

        return render_front_to_back(
            ray_indices, t_starts, t_ends, origins.shape[0], field_fn, self.config.alpha_threshold,
            self.config.render_early_stop_eps,
        )

    @staticmethod
    def _outputs(rendered: RenderedRays) -> Dict[str, Tensor]:
        return {
            "rgb": composite(rendered.premultiplied, rendered.opacity, torch.ones_like(rendered.premultiplied)),
            "rgb_premultiplied": rendered.premultiplied,
            "accumulation": rendered.opacity,
            "depth": rendered.depth,
            "num_samples_per_ray": rendered.evaluated[:, None].float(),
        }

    def _renders_fused(self, like: Tensor) -> bool:
        return (
            self.config.render_fused and like.is_cuda and triton_available()
            and self.occupancy_grid.binaries.shape[0] == 1 and unsupported_reason(self.field) is None
        )

    def _fused_settings(self) -> Dict[str, object]:
        """The fused kernel's settings outside training: what `_render` launches it with, and so what a
        captured frame has baked in (`_frame_graph_key`)."""
        return {
            "step_size": self.render_step,
            "near_plane": self.config.near_plane,
            "far_plane": self.config.far_plane,
            "alpha_threshold": self.config.alpha_threshold,
            "early_stop_eps": self.config.render_early_stop_eps,
            "half_precision": self.config.render_half_precision,
        }

    def _render_precision(self, like: Tensor) -> torch.autocast:
        return torch.autocast("cuda", dtype=torch.float16, enabled=self.config.render_half_precision and like.is_cuda)

    @property
    def render_step(self) -> float:
        """Marching step of rendering outside training."""
        return self.step_size * self.config.render_step_scale

    def _render_grid(
        self, expressions: Float[Tensor, "b k"], tables: Optional[Float[Tensor, "b p f"]] = None
    ) -> Bool[Tensor, "levels x y z"]:
        """Grid a render marches: the one expression's grid, or the training grid for several expressions
        (or with the option off). `tables`: the expressions' blend, made here if needed and not given.

        Building a grid costs a 512² frame about as much as it saves (README, Speed), so an expression gets
        one when it is rendered a second time in a row (a viewer's next frame; the next chunk of rays that
        nerfstudio hands over chunk by chunk): a video whose expression changes every frame marches the
        training grid. The last grid is kept while the expression and the training grid stay the same.
        """
        trained = self.occupancy_grid.binaries
        if not self.config.render_expression_grid or expressions.shape[0] != 1 or trained.shape[0] != 1:
            return trained
        key = (self.step, trained.data_ptr(), expressions.cpu().numpy().tobytes())
        if self._render_grid_cache is None or self._render_grid_cache[0] != key:
            self._render_grid_cache = (key, None)
            return trained
        if self._render_grid_cache[1] is None:
            tables = self.field.blend(expressions) if tables is None else tables
            frame_index = torch.zeros(1, dtype=torch.long, device=tables.device)

            def density(positions: Tensor) -> Tensor:
                with self._render_precision(positions):
                    return self.field.density(positions, tables, frame_index.expand(positions.shape[0]))

            grid = expression_grid(
                trained[0], self.occupancy_grid.aabbs[0], density, self.step_size, self.config.occupancy_threshold
            )
            self._render_grid_cache = (key, grid[None])
        return self._render_grid_cache[1]

    def _targets(self, batch: Dict, outputs: Dict[str, Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        image = batch["image"].to(self.device)[..., :3].float()
        head_mask = batch["head_mask"].to(self.device).float()
        # Training batches bring a random background; evaluation rays use the protocol's white.
        background = batch["background"].to(self.device).float() if "background" in batch else torch.ones_like(image)
        target = image * head_mask + background * (1.0 - head_mask)
        prediction = composite(outputs["rgb_premultiplied"], outputs["accumulation"], background)
        return prediction, target, head_mask

    def get_metrics_dict(self, outputs, batch) -> Dict[str, Tensor]:
        prediction, target, _ = self._targets(batch, outputs)
        mse = torch.mean((prediction.detach() - target) ** 2)
        metrics = {
            "psnr": -10.0 * torch.log10(mse.clamp(min=1e-10)),
            "samples_per_ray": outputs["num_samples_per_ray"].mean(),
        }
        self.camera_optimizer.get_metrics_dict(metrics)
        return metrics

    def get_loss_dict(self, outputs, batch, metrics_dict=None) -> Dict[str, Tensor]:
        prediction, target, head_mask = self._targets(batch, outputs)
        losses = staged_losses(
            self.config.losses, self.step, prediction, target, outputs["accumulation"], head_mask,
            int(batch.get("num_patches", 0)), int(batch.get("patch_size", 0)),
            None if self.config.perceptual_loss == "off" else self._perceptual_on_device(),
        )
        tables = self.field.encoding.tables  # [K+1, P, F]
        if self.config.basis_l1_weight > 0 and tables.shape[0] > 1:
            losses["basis_l1"] = self.config.basis_l1_weight * basis_table_l1(tables)
        if self.training:
            self.camera_optimizer.get_loss_dict(losses)
        return losses

    @torch.no_grad()
    def get_outputs_for_camera(self, camera: Cameras, obb_box: Optional[OrientedBox] = None) -> Dict[str, Tensor]:
        resolved = resolve_camera_expression(
            camera, self.train_expressions, self.expr_min, self.expr_max, self.expression_controls.active_expression()
        )
        height, width = single_pinhole_size(camera)
        if obb_box is None and height * width > 0:
            return self._render_pinhole(camera, resolved, height, width)
        metadata = {
            **(camera.metadata or {}),
            "expr": resolved.coefficients.to(camera.device),
            EXTRAPOLATE_KEY: resolved.extrapolate,
        }
        camera = Cameras(
            camera_to_worlds=camera.camera_to_worlds, fx=camera.fx, fy=camera.fy, cx=camera.cx, cy=camera.cy,
            width=camera.width, height=camera.height, distortion_params=camera.distortion_params,
            camera_type=camera.camera_type, times=camera.times, metadata=metadata,
        )
        return super().get_outputs_for_camera(camera, obb_box=obb_box)

    def _render_pinhole(
        self, camera: Cameras, resolved: ResolvedExpression, height: int, width: int
    ) -> Dict[str, Tensor]:
        """A pinhole camera's image: its rays made on the device in tile order (no host waits, no sort),
        one blended table and one grid for the frame, chunks of `eval_num_rays_per_chunk` rays; outputs on
        the camera's device, as nerfstudio returns them."""
        expressions = resolved.coefficients.to(self.device).float()  # [1, K]
        if not resolved.extrapolate:
            expressions = self.prepare_expressions(expressions)
        key = (height, width, self.device)
        if key not in self._pixel_tiles:
            order = tile_order(height, width, self.device)
            self._pixel_tiles[key] = (order, pixel_centres(order, width))
        order, centres = self._pixel_tiles[key]
        intrinsics, camera_to_world = pinhole_parameters(camera)
        grid = self._render_grid(expressions)
        inputs = (expressions, intrinsics.to(self.device), camera_to_world.to(self.device), grid)
        frame = partial(self._pinhole_frame, order, centres)
        if self.config.render_cuda_graph and self._renders_fused(expressions):
            outputs = self._frame_graphs(self._frame_graph_key(inputs, order, centres), frame, inputs)
        else:
            outputs = frame(*inputs)
        return {name: value.view(height, width, -1).to(camera.device) for name, value in outputs.items()}

    def _pinhole_frame(
        self,
        order: Int[Tensor, "n"],
        centres: Float[Tensor, "n 2"],
        expressions: Float[Tensor, "1 k"],
        intrinsics: Float[Tensor, "4"],
        camera_to_world: Float[Tensor, "3 4"],
        grid: Bool[Tensor, "1 x y z"],
    ) -> Dict[str, Tensor]:
        """Outputs of the pixels `order` (centres `centres`) in raster order, [N, C] each; device work only,
        so that it can be captured as a CUDA graph."""
        tables = self.field.blend(expressions)
        chunk = self.config.eval_num_rays_per_chunk
        chunks = []
        for start in range(0, order.shape[0], chunk):
            origins, directions = pinhole_rays(intrinsics, camera_to_world, centres[start : start + chunk])
            table_index = torch.zeros(origins.shape[0], dtype=torch.long, device=origins.device)
            chunks.append(self._outputs(self._render(origins, directions, tables, table_index, grid, True)))
        outputs = {}
        for name in chunks[0]:
            values = torch.cat([chunk[name] for chunk in chunks])  # [N, C] in tile order
            outputs[name] = torch.empty_like(values).index_copy_(0, order, values)
        return outputs

    def _frame_graph_key(self, inputs: Tuple[Tensor, ...], order: Tensor, centres: Tensor) -> tuple:
        """What a captured frame depends on besides its inputs: the settings it was launched with and the
        addresses of the tensors it reads (tables, kernel weights, pixels, boxes)."""
        fused = self._fused_settings()
        weights = current_kernel_weights(self.field, torch.float16 if fused["half_precision"] else torch.float32)
        encoding = self.field.encoding
        read = (encoding.tables, encoding.level_table, self.field.aabb, self.occupancy_grid.aabbs, order, centres)
        settings = (self.config.eval_num_rays_per_chunk, encoding.implementation, *fused.values())
        shapes = tuple(tuple(value.shape) for value in inputs)
        return (*settings, *shapes, *(value.data_ptr() for value in (*read, *weights)))

    def get_image_metrics_and_images(
        self, outputs: Dict[str, Tensor], batch: Dict[str, Tensor]
    ) -> Tuple[Dict[str, float], Dict[str, Tensor]]:
        image = batch["image"].to(self.device)[..., :3].float()
        ground_truth = ground_truth_on_white(image, batch["head_mask"].to(self.device).float())
        require_finite(self.named_parameters(), outputs["rgb"])
        prediction = outputs["rgb"].clamp(0.0, 1.0)
        metrics = image_metrics(prediction, ground_truth, self._perceptual_on_device())
        images = {
            "img": torch.cat([ground_truth, prediction], dim=1),
            "accumulation": colormaps.apply_colormap(outputs["accumulation"]),
            "depth": colormaps.apply_depth_colormap(outputs["depth"], accumulation=outputs["accumulation"]),
        }
        return metrics, images
