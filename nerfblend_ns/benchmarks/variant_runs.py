"""One benchmark variant trained for a wall-clock budget: its curve, its size and its renders of chosen frames."""

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from nerfblend_ns.benchmarks.held_out_renders import evenly_spaced, render_dataset_frames
from nerfblend_ns.benchmarks.render_speed import compare_render_option, square_cameras
from nerfblend_ns.benchmarks.timed_training import TimedRun, build_trainer, train_with_checkpoints
from nerfblend_ns.benchmarks.variants import Variant


@dataclass
class VariantResult:
    """What the comparison keeps of one variant's run."""

    key: str
    """Its benchmark key."""
    label: str
    """Its name in plots and pictures."""
    method: str
    """The registered method it trains."""
    overrides: Dict[str, Any]
    """Config overrides it trained with: the benchmark's common ones and those that make it an ablation."""
    parameters: int
    """Trainable parameters of the model."""
    lpips_loss: bool
    """Whether the LPIPS term is on, i.e. enabled and its weights available (it acts only in the patch stage)."""
    loss_stages: List[int]
    """Training stage (1 mask, 2 colour, 3 patches + LPIPS) reached at each checkpoint."""
    run: TimedRun
    """Its checkpoints, step time and memory."""
    evaluated_frames: List[int]
    """Test-split indices whose metrics are averaged at each checkpoint."""
    pictured_frames: List[int]
    """Test-split indices rendered into the comparison picture."""
    render: Dict[str, Any]
    """Render speed of the trained model on test cameras, with the per-expression grid and the training
    grid, and the PSNR between the two (empty when not measured)."""


def run_variant(
    key: str,
    variant: Variant,
    small: bool,
    data: Path,
    runs_dir: Path,
    minutes: List[float],
    eval_frames: int,
    picture_frames: int,
    max_steps: Optional[int],
    common_overrides: Optional[Dict[str, Any]] = None,
    render_frames: int = 0,
    render_size: int = 512,
) -> Tuple[VariantResult, List[np.ndarray], List[np.ndarray]]:
    """(the variant's result, ground truths, its predictions), pictured frames as [H, W, 3] uint8.

    The scored and pictured frames are spread evenly over the test split, so every variant trained
    on the same data gets the same ones. `common_overrides` apply to every variant (e.g. shorter
    loss stages); the variant's own overrides win where both set a field.
    """
    spec = variant.small if small else variant.method
    overrides = {**(common_overrides or {}), **variant.overrides}
    trainer = build_trainer(spec.config, data, runs_dir / key, overrides)
    model = trainer.pipeline.model
    test_count = len(trainer.pipeline.datamanager.eval_dataset)
    evaluated, pictured = evenly_spaced(test_count, eval_frames), evenly_spaced(test_count, picture_frames)
    run = train_with_checkpoints(trainer, minutes, evaluated, max_steps)
    ground_truths, predictions = render_dataset_frames(trainer, trainer.pipeline.datamanager.eval_dataset, pictured)
    render = {}
    if render_frames:
        cameras = square_cameras(trainer.pipeline.datamanager.eval_dataset.cameras, evenly_spaced(test_count, render_frames), render_size)
        render = compare_render_option(
            model, cameras, model.config.eval_num_rays_per_chunk, "expression_grid",
            {"expression_grid": True, "training_grid": False},
        )
    result = VariantResult(
        key=key,
        label=variant.label,
        method=spec.config.method_name,
        overrides=overrides,
        parameters=sum(p.numel() for p in model.parameters()),
        lpips_loss=model.config.perceptual_loss != "off" and model.perceptual is not None,
        # The step index of the last step taken is steps - 1.
        loss_stages=[model.config.losses.stage(checkpoint.steps - 1) for checkpoint in run.checkpoints],
        run=run,
        evaluated_frames=evaluated,
        pictured_frames=pictured,
        render=render,
    )
    return result, ground_truths, predictions


def release_device_memory() -> None:
    """Frees what a finished trainer held, so that the next variant's peak memory is its own."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
