"""Where the time of a training step goes: the trainer's step taken apart into timed phases.

`timed_step` does what nerfstudio's `Trainer.train_iteration` and its callbacks do for one step
(gradient accumulation of 1, the methods' setting), with the device synchronised between
phases. The ray-marching phase is timed by wrapping the occupancy grid's `march` for the
duration of the measurement only, so training code carries no timing hooks.
"""

import functools
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional

import torch
from nerfstudio.engine.callbacks import TrainingCallbackLocation
from nerfstudio.engine.trainer import Trainer

from nerfblend_ns.benchmarks.phase_timer import PhaseTimer, peak_memory_gib, reset_peak_memory, synchronize
from nerfblend_ns.rendering.occupancy_grid import OccupancyGrid

PHASES = ("occupancy", "data", "marching", "field", "losses", "backward", "optimizer")
"""occupancy: the before-step callbacks (the grid update on update steps); data: drawing rays and
targets; marching: ray sampling through the occupancy grid, density queries included; field: the
rest of the forward pass (field, volume rendering); losses: metrics and loss terms."""


@dataclass
class StepPhases:
    """Mean milliseconds per step of each phase over `steps` synchronised steps."""

    steps: int
    phase_ms: Dict[str, float]
    step_ms: float
    """Sum of the phases."""
    occupancy_update_ms: Optional[float]
    """Mean of the occupancy phase on steps that updated the grid; None if none did."""
    samples_per_step: float
    """Samples the field evaluated with gradients, per step."""
    peak_memory_gib: Optional[float]


@dataclass
class PlainSteps:
    """Steps as the trainer takes them, synchronised only at the end."""

    steps: int
    step_ms: float
    peak_memory_gib: Optional[float]


def _callbacks(trainer: Trainer, step: int, location: TrainingCallbackLocation) -> None:
    for callback in trainer.callbacks:
        callback.run_callback_at_location(step, location)


def train_steps(trainer: Trainer, start: int, count: int) -> PlainSteps:
    """`count` ordinary steps from step `start`."""
    device = trainer.pipeline.model.device
    synchronize(device)
    reset_peak_memory(device)
    began = time.perf_counter()
    for step in range(start, start + count):
        _callbacks(trainer, step, TrainingCallbackLocation.BEFORE_TRAIN_ITERATION)
        trainer.train_iteration(step)
        _callbacks(trainer, step, TrainingCallbackLocation.AFTER_TRAIN_ITERATION)
    synchronize(device)
    return PlainSteps(count, 1e3 * (time.perf_counter() - began) / max(count, 1), peak_memory_gib(device))


@contextmanager
def _timed_marching(grid: OccupancyGrid, timer: PhaseTimer) -> Iterator[None]:
    original = grid.march

    def timed(*args, **kwargs):
        with timer.phase("marching"):
            return original(*args, **kwargs)

    grid.march = timed  # an instance attribute, over the class's method
    try:
        yield
    finally:
        del grid.march


def timed_step(trainer: Trainer, step: int, timer: PhaseTimer) -> int:
    """One training step, phase by phase; returns the number of samples the field evaluated."""
    pipeline, optimizers, scaler = trainer.pipeline, trainer.optimizers, trainer.grad_scaler
    model = pipeline.model
    groups = list(optimizers.parameters.keys())
    with timer.phase("occupancy"):
        _callbacks(trainer, step, TrainingCallbackLocation.BEFORE_TRAIN_ITERATION)
    with timer.phase("optimizer"):
        optimizers.zero_grad_some(groups)
    with torch.autocast(device_type=model.device.type, enabled=trainer.mixed_precision):
        with timer.phase("data"):
            ray_bundle, batch = pipeline.datamanager.next_train(step)
        with timer.phase("forward"), _timed_marching(model.occupancy_grid, timer):
            outputs = model(ray_bundle)
        with timer.phase("losses"):
            metrics = model.get_metrics_dict(outputs, batch)
            loss = functools.reduce(torch.add, model.get_loss_dict(outputs, batch, metrics).values())
    with timer.phase("backward"):
        scaler.scale(loss).backward()
    with timer.phase("optimizer"):
        optimizers.optimizer_scaler_step_some(scaler, groups)
        scale = scaler.get_scale()
        scaler.update()
        if scale <= scaler.get_scale():
            optimizers.scheduler_step_all(step)
        _callbacks(trainer, step, TrainingCallbackLocation.AFTER_TRAIN_ITERATION)
    return int(outputs["num_samples_per_ray"].sum())


def time_step_phases(trainer: Trainer, start: int, count: int, update_interval: int) -> StepPhases:
    """`count` steps from `start`, split into PHASES; grid updates fall on multiples of `update_interval`."""
    device = trainer.pipeline.model.device
    timer = PhaseTimer(device)
    reset_peak_memory(device)
    samples: List[int] = []
    update_ms: List[float] = []
    for step in range(start, start + count):
        samples.append(timed_step(trainer, step, timer))
        if step % update_interval == 0:
            update_ms.append(1e3 * timer.seconds["occupancy"][-1])
    phase_ms = {name: timer.total_ms(name) / count for name in PHASES if name not in ("field", "occupancy")}
    phase_ms["occupancy"] = timer.total_ms("occupancy") / count
    phase_ms["field"] = (timer.total_ms("forward") - timer.total_ms("marching")) / count
    phase_ms = {name: phase_ms[name] for name in PHASES}
    return StepPhases(
        steps=count,
        phase_ms=phase_ms,
        step_ms=sum(phase_ms.values()),
        occupancy_update_ms=sum(update_ms) / len(update_ms) if update_ms else None,
        samples_per_step=sum(samples) / count,
        peak_memory_gib=peak_memory_gib(device),
    )


def time_occupancy_update(trainer: Trainer, step: int, chunk: int, half_precision: bool) -> Dict:
    """One grid update at `step` (a multiple of the update interval, past the warm-up) with
    `chunk` density evaluations per chunk, MLPs in float16 or float32: milliseconds and peak memory."""
    model = trainer.pipeline.model
    device = model.device
    occupancy = model.config.occupancy
    configured = occupancy.chunk, occupancy.half_precision
    occupancy.chunk, occupancy.half_precision = chunk, half_precision
    timer = PhaseTimer(device)
    reset_peak_memory(device)
    try:
        with timer.phase("update"):
            _callbacks(trainer, step, TrainingCallbackLocation.BEFORE_TRAIN_ITERATION)
    finally:
        occupancy.chunk, occupancy.half_precision = configured
    return {
        "chunk": chunk, "half_precision": half_precision, "ms": timer.total_ms("update"),
        "peak_memory_gib": peak_memory_gib(device),
    }
