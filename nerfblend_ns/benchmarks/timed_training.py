"""Trains a registered method and scores the test split at fixed wall-clock times.

Training time excludes the evaluations, so that the curve reads as "quality after t minutes of
training" however many checkpoints are taken.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from nerfstudio.engine.callbacks import TrainingCallbackLocation
from nerfstudio.engine.trainer import Trainer
from nerfstudio.plugins.registry import discover_methods


@dataclass
class Checkpoint:
    """Test-split quality after a given amount of training."""

    minutes: float
    steps: int
    metrics: Dict[str, float]


@dataclass
class TimedRun:
    """What one timed training run measured."""

    method: str
    checkpoints: List[Checkpoint] = field(default_factory=list)
    seconds_per_step: float = 0.0
    peak_memory_gib: Optional[float] = None


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def build_trainer(method: str, data: Path, output_dir: Path, overrides: Optional[dict] = None) -> Trainer:
    config = discover_methods()[0][method]
    config.pipeline.datamanager.data = data
    config.pipeline.datamanager.dataparser.data = data
    config.output_dir = output_dir
    config.vis = "tensorboard"
    config.set_timestamp()
    for dotted, value in (overrides or {}).items():
        target = config
        *parents, name = dotted.split(".")
        for parent in parents:
            target = getattr(target, parent)
        setattr(target, name, value)
    trainer = config.setup(local_rank=0, world_size=1)
    trainer.setup(test_mode="test")
    return trainer


@torch.no_grad()
def evaluate_test_frames(trainer: Trainer, frame_indices: List[int]) -> Dict[str, float]:
    """Mean of the protocol's metrics over the given test frames (nerfblend_ns.metrics.head_metrics)."""
    model = trainer.pipeline.model
    dataset = trainer.pipeline.datamanager.eval_dataset
    model.eval()
    totals: Dict[str, List[float]] = {}
    for index in frame_indices:
        batch = dataset[index]
        camera = dataset.cameras[index : index + 1].to(model.device)
        outputs = model.get_outputs_for_camera(camera)
        metrics, _ = model.get_image_metrics_and_images(outputs, batch)
        for key, value in metrics.items():
            totals.setdefault(key, []).append(value)
    model.train()
    return {key: float(np.mean(values)) for key, values in totals.items()}


def _train_step(trainer: Trainer, step: int) -> None:
    for callback in trainer.callbacks:
        callback.run_callback_at_location(step, TrainingCallbackLocation.BEFORE_TRAIN_ITERATION)
    trainer.train_iteration(step)
    for callback in trainer.callbacks:
        callback.run_callback_at_location(step, TrainingCallbackLocation.AFTER_TRAIN_ITERATION)


def train_with_checkpoints(
    trainer: Trainer, minutes: List[float], frame_indices: List[int], max_steps: int
) -> TimedRun:
    """Trains until the last checkpoint time (or max_steps) and evaluates at each checkpoint."""
    run = TimedRun(method=trainer.config.method_name)
    pending = sorted(minutes)
    # One untimed step first: it compiles the GPU kernels (nerfacc builds on first use).
    _train_step(trainer, 0)
    trained_seconds, step = 0.0, 1
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    while pending and step < max_steps:
        _synchronize()
        start = time.perf_counter()
        _train_step(trainer, step)
        _synchronize()
        trained_seconds += time.perf_counter() - start
        step += 1
        if trained_seconds >= pending[0] * 60 or step == max_steps:
            metrics = evaluate_test_frames(trainer, frame_indices)
            run.checkpoints.append(Checkpoint(minutes=trained_seconds / 60, steps=step, metrics=metrics))
            print(f"{trained_seconds / 60:6.2f} min  {step:6d} steps  " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()), flush=True)
            pending.pop(0)
    run.seconds_per_step = trained_seconds / max(step - 1, 1)
    if torch.cuda.is_available():
        run.peak_memory_gib = torch.cuda.max_memory_allocated() / 2**30
    return run
