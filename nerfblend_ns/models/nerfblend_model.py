"""The NeRFBlendShape model: wires the blended field, the occupancy grid and the renderer; holds the losses."""

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import ClassVar, Dict, List, Literal, Optional, Tuple, Type

import torch
from jaxtyping import Float, Int
from nerfstudio.cameras.camera_optimizers import CameraOptimizer
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import OrientedBox
from nerfstudio.engine.callbacks import TrainingCallback, TrainingCallbackAttributes, TrainingCallbackLocation
from nerfstudio.models.base_model import Model, ModelConfig
from nerfstudio.utils import colormaps
from torch import Tensor
from torch.nn import Parameter

from nerfblend_ns.checkpoint_weights import require_trained_weights
from nerfblend_ns.data.patch_sampling import PatchSampling
from nerfblend_ns.expression_space import COEFFICIENTS_KEY, EXTRAPOLATE_KEY, ExpressionSpace
from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, NerfBlendField
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white, image_metrics, require_finite
from nerfblend_ns.models.basis_penalty import basis_table_l1
from nerfblend_ns.models.centred_pose_corrections import CentredCameraOptimizerConfig
from nerfblend_ns.models.coefficient_augmentation import augment_coefficients
from nerfblend_ns.models.frame_colour import FrameColour, FrameColourConfig
from nerfblend_ns.models.hidden_density import occupied_cell_points, points_behind_surfaces, step_opacity_penalty
from nerfblend_ns.models.loss_schedule import LossScheduleConfig, staged_losses
from nerfblend_ns.models.mirrored_frames import mirror_frames, mirror_permutation, mirrored_range
from nerfblend_ns.models.renamed_fields import RENAMED_MODEL_FIELDS, renamed_expression_buffers
from nerfblend_ns.models.seen_cells import SeenCells
from nerfblend_ns.perceptual import load_lpips_vgg
from nerfblend_ns.rendering.camera_rays import single_pinhole_size
from nerfblend_ns.rendering.inference_renderer import InferenceRenderer, InferenceRendererConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGrid, OccupancyGridConfig
from nerfblend_ns.rendering.packed_volume_rendering import (
    RenderedRays,
    composite,
    render_packed,
    sample_positions,
    transmittance_before,
)
from nerfblend_ns.viewer.expression_controls import ExpressionControls


@dataclass
class NerfBlendModelConfig(ModelConfig):
    """NeRFBlendShape (Gao et al. 2022): one hash grid per expression basis, blended by the coefficients."""

    _target: Type = field(default_factory=lambda: NerfBlendModel)
    renamed_fields: ClassVar[Dict[str, str]] = RENAMED_MODEL_FIELDS
    grid: BlendedHashGridConfig = field(default_factory=BlendedHashGridConfig)
    """Hash-grid size of every basis."""
    coefficient_segments: int = 1
    """Equal pieces each coefficient's training range is cut into, each with its own basis table: the blend
    bends at the knots between them (1: the paper's blend, linear in each coefficient)."""
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    """MLPs decoding features into density and colour."""
    losses: LossScheduleConfig = field(default_factory=LossScheduleConfig)
    """Training stages and loss weights."""
    basis_l1_weight: float = 1.0
    """Weight of mean|H_k| over the basis tables (not the neutral one), added to every step's loss as the
    authors' code does (the paper omits it); 0 turns it off. A field without basis tables has no such term."""
    hidden_density_weight: float = 0.0
    """Weight of the mean opacity over one marching step at random points of `hidden_density_region` (0: off; the
    nerfblend method sets 0.01), for space that every training ray stops before (behind the head)."""
    hidden_density_points: int = 1 << 14
    """Random points that the hidden-density term evaluates each step."""
    hidden_density_region: Literal["occupied", "behind_surface", "unseen"] = "occupied"
    """Where the hidden-density term draws its points: anywhere in the occupied cells; on this step's training
    rays behind the depth at which they turned opaque; or in the occupied cells that no training ray has lately
    reached with over half its light left (both of the latter leave every surface the frames see to the colour
    loss)."""
    hidden_density_margin: float = 0.1
    """behind_surface only: how far beyond a ray's depth its points begin, in scene units (the head's radius is 1,
    so 0.1 is 16 mm)."""
    hidden_density_window: int = 256
    """unseen only: training steps for which a cell that a ray reached stays exempt from the term."""
    occupancy: OccupancyGridConfig = field(default_factory=OccupancyGridConfig)
    """The occupancy grid, its updates, its visual hull and the marching through it (the training step)."""
    renderer: InferenceRendererConfig = field(default_factory=InferenceRendererConfig)
    """Rendering outside training (evaluation, the viewer, nerfblend-render), with its own step."""
    camera_optimizer: CentredCameraOptimizerConfig = field(default_factory=lambda: CentredCameraOptimizerConfig(mode="off"))
    """Per-frame pose corrections learned with the model (nerfstudio's optimiser, held to zero mean; SO3xR3 as nerfacto uses)."""
    frame_colour: FrameColourConfig = field(default_factory=FrameColourConfig)
    """Per-frame colour transforms (exposure, white balance) of the training frames; renders use the identity."""
    clamp_coefficients: bool = True
    """Clamp coefficients to the per-dimension range seen in training, as the paper's code does."""
    coefficient_noise: float = 0.0
    """Training only: Gaussian noise added to each frame's coefficients, its standard deviation this fraction
    of each dimension's training range (0: off)."""
    coefficient_dropout: float = 0.0
    """Training only: probability that each coefficient of a frame is set to 0 (neutral) for a step (the
    nerfblend method sets 0.1)."""
    mirror_probability: float = 0.0
    """Training only: probability that a frame's rays are reflected through the head frame's x = 0 plane (the
    face's plane of symmetry) with its Left and Right coefficients swapped, so that each side of the head also
    learns from the views of the other (0: off)."""
    mirror_supervision: Literal["colour", "opacity"] = "colour"
    """What a mirrored frame's rays are held to: their pixels' colours, or only the head mask's opacity (for a head
    lit from one side, whose shading a mirror puts on the wrong side)."""
    perceptual_loss: Literal["auto", "required", "off"] = "auto"
    """LPIPS(VGG) on patches: auto uses it when its weights are available, required fails without them.
    Evaluation reports LPIPS whenever the weights are available, also with the loss off (an ablation)."""


def _check_settings(config: NerfBlendModelConfig) -> None:
    """Refuses settings out of range, naming the flag, before anything is built."""
    # The command line checks these choices; a config written in Python does not.
    for name in ("hidden_density_region", "mirror_supervision"):
        choices = typing.get_args(NerfBlendModelConfig.__annotations__[name])
        if getattr(config, name) not in choices:
            flag = "--pipeline.model." + name.replace("_", "-")
            raise ValueError(f"{flag} {getattr(config, name)!r}: must be one of {', '.join(choices)}")
    if config.coefficient_segments < 1:
        raise ValueError(f"--pipeline.model.coefficient-segments {config.coefficient_segments}: must be at least 1")
    if not config.hidden_density_margin >= 0.0:
        raise ValueError(f"--pipeline.model.hidden-density-margin {config.hidden_density_margin}: must be 0 or more")
    if config.hidden_density_window < 1:
        raise ValueError(f"--pipeline.model.hidden-density-window {config.hidden_density_window}: must be at least 1")
    if not 0.0 <= config.mirror_probability <= 1.0:
        raise ValueError(f"--pipeline.model.mirror-probability {config.mirror_probability}: must be between 0 and 1")


class NerfBlendModel(Model):
    """Renders a head at the expression coefficients each ray carries (`metadata[COEFFICIENTS_KEY]`)."""

    config: NerfBlendModelConfig

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        # nerfstudio retries a failed strict load without strictness: refuse a checkpoint of another model first.
        require_trained_weights(self, state_dict)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def populate_modules(self):
        super().populate_modules()
        _check_settings(self.config)
        metadata = self.kwargs.get("metadata") or {}
        self.expression_space = ExpressionSpace.from_metadata(metadata, self.config.clamp_coefficients)
        permutation = None
        if self.config.mirror_probability > 0:
            permutation = mirror_permutation(self.expression_space.names)
            self.expression_space = mirrored_range(self.expression_space, permutation)
        # A buffer, so that it moves with the model instead of being copied to the GPU every step; derived from
        # the names, so not saved.
        self.register_buffer("mirror_permutation", permutation, persistent=False)  # [K] or None when off
        self._register_load_state_dict_pre_hook(renamed_expression_buffers)
        self.expression_controls = ExpressionControls(self.expression_space)
        aabb = self.scene_box.aabb.float()
        self.field = self.build_field(aabb, self.expression_space)
        self.occupancy_grid = OccupancyGrid(aabb, self.config.occupancy)
        self.seen_cells: Optional[SeenCells] = None
        if self.config.hidden_density_weight > 0 and self.config.hidden_density_region == "unseen":
            self.seen_cells = SeenCells(
                self.occupancy_grid.binaries.shape[1:], self.occupancy_grid.aabbs[0], self.config.hidden_density_window
            )
        self.renderer = InferenceRenderer(self.config.renderer, self.field, self.occupancy_grid)
        self.camera_optimizer: CameraOptimizer = self._camera_optimizer()
        # None when off, so that checkpoints of either setting hold only their own weights.
        self.frame_colour = FrameColour(self.num_train_data) if self.config.frame_colour.enabled else None
        self.step = 0
        perceptual, _ = load_lpips_vgg(required=self.config.perceptual_loss == "required")
        # Kept out of the module tree: frozen weights do not belong in checkpoints or optimisers,
        # and a checkpoint must load on a machine without them.
        object.__setattr__(self, "perceptual", perceptual)

    def build_field(self, aabb: Float[Tensor, "2 3"], expression_space: ExpressionSpace) -> NerfBlendField:
        """The radiance field; variants of the method override this with a field of the same interface."""
        segments = CoefficientSegments(expression_space.minimum, expression_space.maximum, self.config.coefficient_segments)
        return NerfBlendField(aabb, segments, self.config.grid, self.config.decoder)

    def _camera_optimizer(self) -> CameraOptimizer:
        """A pose correction per training frame, applied to training rays (`get_outputs`); both lookups pass
        the gradient with respect to sample positions that it learns from."""
        return self.config.camera_optimizer.setup(num_cameras=self.num_train_data, device="cpu")

    def get_param_groups(self) -> Dict[str, List[Parameter]]:
        encoding = list(self.field.encoding.parameters())
        known = {id(p) for p in encoding}
        groups = {"encoding": encoding, "mlp": [p for p in self.field.parameters() if id(p) not in known]}
        self.camera_optimizer.get_param_groups(param_groups=groups)
        if self.frame_colour is not None:
            groups["frame_colour"] = list(self.frame_colour.parameters())
        return groups

    def _perceptual_on_device(self):
        if self.perceptual is not None:
            self.perceptual.to(self.device)
        return self.perceptual

    def get_training_callbacks(self, training_callback_attributes: TrainingCallbackAttributes) -> List[TrainingCallback]:
        datamanager = training_callback_attributes.pipeline.datamanager
        if not isinstance(datamanager, PatchSampling):
            raise TypeError(f"nerfblend trains with a datamanager that samples patches, not {type(datamanager).__name__}")
        if self.config.occupancy.visual_hull.enabled:
            self.occupancy_grid.carve(datamanager.train_dataset.cameras, datamanager.frame_cache.head_masks)

        def begin_step(step: int) -> None:
            self.step = step
            datamanager.set_patch_sampling(self.config.losses.stage(step) == 3)

        def update_occupancy(step: int) -> None:
            self.occupancy_grid.update(step, self.field, self.expression_space.maximum)

        return [
            TrainingCallback([TrainingCallbackLocation.BEFORE_TRAIN_ITERATION], begin_step, update_every_num_iters=1),
            # Runs on update steps only, so that the grid's broadcast to the other ranks follows each update.
            TrainingCallback(
                [TrainingCallbackLocation.BEFORE_TRAIN_ITERATION], update_occupancy,
                update_every_num_iters=self.config.occupancy.update_interval,
            ),
        ]

    def get_outputs(self, ray_bundle: RayBundle) -> Dict[str, Tensor]:
        """Training: marching with gradients (`_render_training`); otherwise the inference renderer."""
        # Rays of no training frame (a test frame's pose fit) keep their pose and their coefficients, and add
        # no training term.
        of_training_frames = self.training and ray_bundle.camera_indices is not None
        if of_training_frames:
            self.camera_optimizer.apply_to_raybundle(ray_bundle)
        origins = ray_bundle.origins.reshape(-1, 3)
        directions = ray_bundle.directions.reshape(-1, 3)
        coefficients = self.expression_space.of_rays(ray_bundle.metadata, len(ray_bundle))  # [R, K]
        # One blended table per run of rays sharing an expression, not per ray. Rays come grouped by
        # frame, so runs need no sort; a full unique sorts the [R, K] rows (2-3 ms per batch on an H100).
        per_table, table_index = torch.unique_consecutive(coefficients, dim=0, return_inverse=True)
        opacity_only: Optional[Tensor] = None  # [R, 1] rays held to the head mask's opacity alone
        if of_training_frames and self.mirror_permutation is not None:
            origins, directions, per_table, mirrored = mirror_frames(
                origins, directions, per_table, table_index, self.mirror_permutation, self.config.mirror_probability
            )
            if self.config.mirror_supervision == "opacity":
                opacity_only = mirrored[table_index][:, None]
        if of_training_frames and (self.config.coefficient_noise > 0 or self.config.coefficient_dropout > 0):
            # Per frame, not per ray: one blended table per frame either way.
            per_table = augment_coefficients(
                per_table, self.expression_space, self.config.coefficient_noise, self.config.coefficient_dropout
            )
        tables = self.field.blend(per_table)  # [B, P, F]
        if self.training:
            rendered = self._render_training(origins, directions, tables, table_index, of_training_frames)
            if self.frame_colour is not None and of_training_frames:
                frames = ray_bundle.camera_indices.reshape(-1)  # [R]
                coloured = self.frame_colour(rendered.premultiplied, rendered.opacity, frames)
                rendered = dataclasses.replace(rendered, premultiplied=coloured)
            if opacity_only is not None:
                # Black against black targets (`_targets`): the colour loss becomes background · |opacity − mask|.
                premultiplied = torch.where(opacity_only, 0.0, rendered.premultiplied)
                rendered = dataclasses.replace(rendered, premultiplied=premultiplied)
        else:
            rendered = self.renderer.render_batch(origins, directions, per_table, tables, table_index)
        outputs = rendered.outputs()
        if opacity_only is not None:
            outputs["opacity_only"] = opacity_only
        if of_training_frames and self.config.hidden_density_weight > 0:
            outputs["hidden_density"] = self._hidden_density(origins, directions, rendered, tables, table_index)
        return outputs

    def _hidden_density(
        self,
        origins: Float[Tensor, "r 3"],
        directions: Float[Tensor, "r 3"],
        rendered: RenderedRays,
        tables: Float[Tensor, "b p f"],
        table_index: Int[Tensor, "r"],
    ) -> Float[Tensor, ""]:
        """The step opacity at random points of the occupied cells, each under one of this step's frames' tables,
        or behind the surfaces this step's rays stopped at, each under its ray's frame's table, or of the occupied
        cells no training ray has lately seen."""
        config, grid = self.config, self.occupancy_grid
        share = 1.0
        if config.hidden_density_region == "behind_surface":
            points, rays = points_behind_surfaces(
                origins, directions, rendered.depth[:, 0], rendered.opacity[:, 0], grid.binaries[0], grid.aabbs[0],
                config.hidden_density_margin, config.hidden_density_points,
            )  # [N, 3], [N]
            point_tables = table_index[rays]
        else:
            points = occupied_cell_points(grid.binaries[0], grid.aabbs[0], config.hidden_density_points)  # [N, 3]
            if self.seen_cells is not None:
                # Points of seen cells count as opacity 0, so that an unseen cell weighs in the term as much as
                # it does among all the occupied cells' points.
                drawn = max(points.shape[0], 1)
                points = points[self.seen_cells.unseen(self.step, points)]
                share = points.shape[0] / drawn
            # Grouped by table, as the lookup sees the rays of a batch.
            point_tables = torch.randint(tables.shape[0], (points.shape[0],), device=points.device).sort().values
        density = self.field.density(points, tables, point_tables).squeeze(-1)  # [N]
        return share * step_opacity_penalty(density, grid.training_step_size)

    @torch.no_grad()
    def occupancy_shares(self) -> Dict[str, float]:
        """Share of the grid's cells that are occupied and, where the hidden-density term draws from the unseen
        cells, share of the occupied cells that are unseen now (what the term reaches)."""
        occupied_cells = self.occupancy_grid.binaries[0]
        shares = {"occupied": occupied_cells.float().mean().item()}
        if self.seen_cells is not None:
            unseen = occupied_cells & self.seen_cells.unseen_cells(self.step)
            shares["unseen_of_occupied"] = unseen.sum().item() / max(int(occupied_cells.sum().item()), 1)
        return shares

    def _render_training(
        self,
        origins: Float[Tensor, "r 3"],
        directions: Float[Tensor, "r 3"],
        tables: Float[Tensor, "b p f"],
        table_index: Int[Tensor, "r"],
        of_training_frames: bool,
    ) -> RenderedRays:
        """Training's rendering: stratified samples through the training grid, hidden ones dropped, then
        every sample through the field with gradients; the samples of training frames' rays mark the cells they
        see (`seen_cells`)."""

        def sigma_fn(t_starts: Tensor, t_ends: Tensor, ray_indices: Tensor) -> Tensor:
            positions = sample_positions(origins, directions, t_starts, t_ends, ray_indices)
            return self.field.density(positions, tables, table_index[ray_indices]).squeeze(-1)

        grid = self.occupancy_grid
        with torch.no_grad():
            ray_indices, t_starts, t_ends = grid.march(
                origins, directions, grid.training_step_size, stratified=True, sigma_fn=sigma_fn
            )
        positions = sample_positions(origins, directions, t_starts, t_ends, ray_indices)
        rgb, density = self.field(positions, directions[ray_indices], tables, table_index[ray_indices])
        sigmas = density.squeeze(-1)  # [S]
        if of_training_frames and self.seen_cells is not None:
            with torch.no_grad():
                transmittance = transmittance_before(t_starts, t_ends, sigmas, ray_indices, origins.shape[0])
            self.seen_cells.observe(self.step, positions, transmittance)
        return render_packed(t_starts, t_ends, rgb, sigmas, ray_indices, origins.shape[0])

    def _targets(self, batch: Dict, outputs: Dict[str, Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        image = batch["image"].to(self.device)[..., :3].float()
        if "opacity_only" in outputs:
            image = torch.where(outputs["opacity_only"], 0.0, image)
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
        if "hidden_density" in outputs:
            losses["hidden_density"] = self.config.hidden_density_weight * outputs["hidden_density"]
        if self.training:
            self.camera_optimizer.get_loss_dict(losses)
            if self.frame_colour is not None:
                losses["frame_colour"] = self.config.frame_colour.identity_weight * self.frame_colour.identity_penalty()
        return losses

    @torch.no_grad()
    def get_outputs_for_camera(self, camera: Cameras, obb_box: Optional[OrientedBox] = None) -> Dict[str, Tensor]:
        coefficients = self.expression_space.for_camera(camera, self.expression_controls.active_coefficients())
        height, width = single_pinhole_size(camera)
        if obb_box is None and height * width > 0:
            return self.renderer.render_pinhole(
                camera, coefficients.to(self.device), height, width, self.config.eval_num_rays_per_chunk
            )
        # Any other camera: nerfstudio's rays, carrying the coefficients already resolved (and clamped).
        ray_bundle = camera.generate_rays(camera_indices=0, keep_shape=True, obb_box=obb_box)
        ray_bundle.metadata[COEFFICIENTS_KEY] = coefficients.to(ray_bundle.origins).expand(*ray_bundle.shape, -1)
        ray_bundle.metadata[EXTRAPOLATE_KEY] = True
        return self.get_outputs_for_camera_ray_bundle(ray_bundle)

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

