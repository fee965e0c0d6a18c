"""Trains a registered method and scores the test split at fixed wall-clock times.

Training time excludes the evaluations, so that the curve reads as "quality after t minutes of
training" however many checkpoints are taken.
"""

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from nerfstudio.engine.callbacks import TrainingCallbackLocation
from nerfstudio.data.datasets.base_dataset import InputDataset
from nerfstudio.engine.trainer import Trainer, TrainerConfig

from nerfblend_ns.input_errors import InputError


@dataclass
class Checkpoint:
    """Test-split quality after a given amount of training."""

    minutes: float
    """Training time so far, evaluations excluded."""
    steps: int
    """Steps taken so far, the untimed warm-up step included."""
    seconds_per_step: float
    """Mean time of the timed steps so far."""
    peak_memory_gib: Optional[float]
    """Peak GPU memory allocated by training so far (evaluations excluded); None without CUDA."""
    metrics: Dict[str, float]
    """Mean of the protocol's metrics over the evaluated test frames."""
    train_metrics: Dict[str, float] = field(default_factory=dict)
    """The same over evaluated training frames (none: empty); the gap to `metrics` is what does not generalise."""
    scores: Dict[str, Any] = field(default_factory=dict)
    """What the run's own scorer measured at this checkpoint (none: empty)."""


@dataclass
class TimedRun:
    """What one timed training run measured."""

    method: str
    """The method's registered name."""
    checkpoints: List[Checkpoint] = field(default_factory=list)
    """One per checkpoint time reached."""
    seconds_per_step: float = 0.0
    """Mean time of a timed step over the whole run."""
    peak_memory_gib: Optional[float] = None
    """Peak GPU memory allocated by training (evaluations excluded); None without CUDA."""


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _training_peak_gib(previous: Optional[float]) -> Optional[float]:
    """The running peak, updated with the allocator's peak since its last reset."""
    if not torch.cuda.is_available():
        return None
    return max(previous or 0.0, torch.cuda.max_memory_allocated() / 2**30)


def parse_overrides(pairs: Sequence[Sequence[str]]) -> Dict[str, object]:
    """Command-line (dotted name, value) pairs as overrides; a value is read as JSON, else kept as text."""
    overrides: Dict[str, object] = {}
    for name, text in pairs:
        try:
            overrides[name] = json.loads(text)
        except json.JSONDecodeError:
            overrides[name] = text
    return overrides


def with_run_length(pairs: Sequence[Sequence[str]], max_steps: Optional[int]) -> List[Sequence[str]]:
    """`pairs` preceded by `max_num_iterations max_steps`: a run stopped there is configured as `ns-train
    --max-num-iterations` would configure it (schedules without a length of their own end there); None adds
    nothing, and later pairs win."""
    return ([("max_num_iterations", str(max_steps))] if max_steps is not None else []) + list(pairs)


class OverrideError(InputError, AttributeError):
    """An --override naming no setting, or giving a setting a value of another kind."""


def _same_kind(current: object, value: object) -> bool:
    """Whether `value` may replace `current`: a number for a number, a boolean for a boolean (JSON reads both)."""
    if isinstance(current, bool):
        return isinstance(value, bool)
    if isinstance(current, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def run_config(config: TrainerConfig, data: Path, output_dir: Path, overrides: Optional[dict] = None) -> TrainerConfig:
    """A copy of `config` set to train on `data`, with `overrides` such as {"pipeline.model.perceptual_loss": "off"}."""
    # Method configs are module-level objects: a copy keeps one run's overrides out of the next.
    config = copy.deepcopy(config)
    config.pipeline.datamanager.data = data
    config.pipeline.datamanager.dataparser.data = data
    config.output_dir = output_dir
    config.vis = "tensorboard"
    config.set_timestamp()
    for dotted, value in (overrides or {}).items():
        target = config
        *parents, name = dotted.split(".")
        for parent in parents:
            # The optimizer groups are a dict: "optimizers.encoding.optimizer.lr".
            if isinstance(target, dict):
                if parent not in target:
                    raise OverrideError(f"override {dotted}: no {parent!r} among {sorted(target)}")
                target = target[parent]
            elif hasattr(target, parent):
                target = getattr(target, parent)
            else:
                raise OverrideError(f"override {dotted}: {type(target).__name__} has no field {parent!r}")
        if not hasattr(target, name):
            raise OverrideError(f"override {dotted}: {type(target).__name__} has no field {name!r}")
        current = getattr(target, name)
        if not _same_kind(current, value):
            raise OverrideError(f"override {dotted} {value!r}: the setting holds {current!r}; give a {type(current).__name__}")
        setattr(target, name, value)
    return config


def build_trainer(config: TrainerConfig, data: Path, output_dir: Path, overrides: Optional[dict] = None) -> Trainer:
    """A trainer set up from `run_config(config, data, output_dir, overrides)`, its eval dataset the test split."""
    trainer = run_config(config, data, output_dir, overrides).setup(local_rank=0, world_size=1)
    trainer.setup(test_mode="test")
    return trainer


@torch.no_grad()
def evaluate_frames(trainer: Trainer, dataset: InputDataset, frame_indices: Sequence[int]) -> Dict[str, float]:
    """Mean of the protocol's metrics over the given frames of `dataset` (nerfblend_ns.metrics.head_metrics)."""
    model = trainer.pipeline.model
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
    trainer: Trainer,
    minutes: List[float],
    frame_indices: List[int],
    max_steps: Optional[int],
    train_frame_indices: Sequence[int] = (),
    on_checkpoint: Optional[Callable[[TimedRun], None]] = None,
    score_checkpoint: Optional[Callable[[Trainer], Dict[str, Any]]] = None,
) -> TimedRun:
    """Trains until the last checkpoint time (or max_steps, None: no limit) and evaluates at each checkpoint the given
    test frames and training frames, and calls `score_checkpoint` (untimed, its result kept as the
    checkpoint's `scores`); `on_checkpoint` sees the run so far (to save partial results)."""
    run = TimedRun(method=trainer.config.method_name)
    datamanager = trainer.pipeline.datamanager
    pending = sorted(minutes)
    # One untimed step first: it compiles the GPU kernels (nerfacc builds on first use).
    _train_step(trainer, 0)
    trained_seconds, step, peak_gib = 0.0, 1, None
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    last_step = max_steps if max_steps is not None else float("inf")
    while pending and step < last_step:
        _synchronize()
        start = time.perf_counter()
        _train_step(trainer, step)
        _synchronize()
        trained_seconds += time.perf_counter() - start
        step += 1
        if trained_seconds >= pending[0] * 60 or step == last_step:
            peak_gib = _training_peak_gib(peak_gib)
            metrics = evaluate_frames(trainer, datamanager.eval_dataset, frame_indices)
            train_metrics = evaluate_frames(trainer, datamanager.train_dataset, train_frame_indices) if train_frame_indices else {}
            scores = score_checkpoint(trainer) if score_checkpoint is not None else {}
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            run.checkpoints.append(
                Checkpoint(trained_seconds / 60, step, trained_seconds / (step - 1), peak_gib, metrics, train_metrics, scores)
            )
            train_psnr = f"  train psnr {train_metrics['psnr']:.4f}" if train_metrics else ""
            print(f"{trained_seconds / 60:6.2f} min  {step:6d} steps  " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()) + train_psnr, flush=True)
            pending.pop(0)
            if on_checkpoint is not None:
                on_checkpoint(run)
    run.seconds_per_step = trained_seconds / max(step - 1, 1)
    run.peak_memory_gib = _training_peak_gib(peak_gib)
    return run
