"""The registered methods: `nerfblend` (the paper's configuration) and `nerfblend-small` (CPU smoke runs)."""

from dataclasses import dataclass
from typing import Tuple

import torch
from nerfstudio.configs.base_config import MachineConfig, ViewerConfig
from nerfstudio.engine.optimizers import AdamOptimizerConfig
from nerfstudio.engine.schedulers import ExponentialDecaySchedulerConfig
from nerfstudio.engine.trainer import TrainerConfig
from nerfstudio.pipelines.base_pipeline import VanillaPipelineConfig
from nerfstudio.plugins.types import MethodSpecification

from nerfblend_ns.data.nerfblend_datamanager import NerfBlendDataManagerConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, DecoderConfig
from nerfblend_ns.models.loss_schedule import LossScheduleConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig


@dataclass
class AdamBetasOptimizerConfig(AdamOptimizerConfig):
    """Adam with configurable betas (hash grids train best with β2 = 0.99)."""

    betas: Tuple[float, float] = (0.9, 0.99)
    """Adam's running-average coefficients."""


def _optimizers(encoding_lr: float, mlp_lr: float, steps: int) -> dict:
    def group(lr: float, weight_decay: float) -> dict:
        return {
            "optimizer": AdamBetasOptimizerConfig(lr=lr, eps=1e-15, weight_decay=weight_decay),
            "scheduler": ExponentialDecaySchedulerConfig(lr_final=lr / 10, max_steps=steps),
        }

    return {"encoding": group(encoding_lr, 0.0), "mlp": group(mlp_lr, 1e-6)}


def _machine() -> MachineConfig:
    # nerfstudio defaults to CUDA; without a GPU the methods still start, on the CPU.
    return MachineConfig(device_type="cuda" if torch.cuda.is_available() else "cpu")


PAPER_STEPS = 40000

nerfblend_method = MethodSpecification(
    config=TrainerConfig(
        method_name="nerfblend",
        steps_per_eval_batch=500,
        steps_per_eval_image=1000,
        steps_per_eval_all_images=10000,
        steps_per_save=2000,
        max_num_iterations=PAPER_STEPS,
        machine=_machine(),
        pipeline=VanillaPipelineConfig(
            datamanager=NerfBlendDataManagerConfig(),
            model=NerfBlendModelConfig(occupancy_update_interval=32, eval_num_rays_per_chunk=1 << 15),
        ),
        optimizers=_optimizers(encoding_lr=1e-2, mlp_lr=1e-3, steps=PAPER_STEPS),
        viewer=ViewerConfig(num_rays_per_chunk=1 << 15),
        vis="viewer",
    ),
    description="NeRFBlendShape head avatar driven by expression coefficients (paper configuration, GPU).",
)

SMALL_STEPS = 300

nerfblend_small_method = MethodSpecification(
    config=TrainerConfig(
        method_name="nerfblend-small",
        steps_per_eval_batch=20,
        steps_per_eval_image=1000,
        steps_per_eval_all_images=100000,
        steps_per_save=100,
        max_num_iterations=SMALL_STEPS,
        machine=_machine(),
        pipeline=VanillaPipelineConfig(
            datamanager=NerfBlendDataManagerConfig(frames_per_batch=2, rays_per_frame=256, lpips_patch_size=16),
            model=NerfBlendModelConfig(
                grid=BlendedHashGridConfig(num_levels=8, log2_hashmap_size=12, max_resolution=256),
                decoder=DecoderConfig(hidden_dim=32, geometry_features=15, color_hidden_dim=32),
                losses=LossScheduleConfig(mask_stage_end=150, patch_stage_start=250),
                occupancy_resolution=32,
                occupancy_update_interval=8,
                occupancy_warmup_steps=16,
                render_step_size=2 * 3**0.5 / 128,
                eval_num_rays_per_chunk=1 << 13,
            ),
        ),
        optimizers=_optimizers(encoding_lr=1e-2, mlp_lr=1e-3, steps=SMALL_STEPS),
        viewer=ViewerConfig(num_rays_per_chunk=1 << 13),
        vis="viewer",
    ),
    description="A small nerfblend for CPU smoke runs and tests (fewer levels, smaller tables and grid).",
)
