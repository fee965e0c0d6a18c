"""Training speed and time to a PSNR, read back from the tensorboard events of ns-train runs.

    python -m nerfblend_ns.benchmarks.training_events RUN_DIR [RUN_DIR ...] --psnr 24 26 28

A step is one step of the whole run: with N processes it trains N batches, one per rank. The PSNR
is that of rank 0's training batches (only rank 0 logs), averaged over a window of logs; test-split
quality comes from ns-eval on the run's checkpoint.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ITERATION_TAG = "Train Iter (time)"
RAYS_PER_SECOND_TAG = "Train Rays / Sec"
PSNR_TAG = "Train Metrics Dict/psnr"

Series = List[Tuple[float, int, float]]
"""(wall-clock time in s, step, value) of each logged event, in step order."""


@dataclass
class TrainingSpeed:
    """How fast one run trained."""

    run: str
    steps_per_second: float
    rays_per_second: float
    seconds_to_psnr: Dict[float, Optional[float]]
    """Training seconds until the averaged PSNR first reached each threshold; None: never."""


def read_scalars(run_dir: Path) -> Dict[str, Series]:
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})  # 0 keeps every event
    accumulator.Reload()
    return {
        tag: [(event.wall_time, event.step, event.value) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }


def seconds_to_thresholds(psnr: Series, start: float, thresholds: Sequence[float], window: int) -> Dict[float, Optional[float]]:
    """Seconds after `start` at which the mean of the last `window` PSNR logs first reaches each threshold."""
    values = np.array([value for _, _, value in psnr])  # [E]
    if values.size < window:
        return {threshold: None for threshold in thresholds}
    averaged = np.convolve(values, np.ones(window) / window, mode="valid")  # [E - window + 1]
    times = np.array([time for time, _, _ in psnr])[window - 1 :] - start
    reached = {}
    for threshold in thresholds:
        above = np.flatnonzero(averaged >= threshold)
        reached[threshold] = float(times[above[0]]) if above.size else None
    return reached


def training_speed(run_dir: Path, thresholds: Sequence[float], skip_steps: int = 100, window: int = 10) -> TrainingSpeed:
    """Speed over the steps after `skip_steps` (start-up and first compilations excluded)."""
    scalars = read_scalars(run_dir)
    iterations = scalars[ITERATION_TAG]
    steady = [event for event in iterations if event[1] >= skip_steps] or iterations
    (first_time, first_step, _), (last_time, last_step, _) = steady[0], steady[-1]
    rays = [value for _, step, value in scalars[RAYS_PER_SECOND_TAG] if step >= skip_steps]
    return TrainingSpeed(
        run=run_dir.name,
        steps_per_second=(last_step - first_step) / max(last_time - first_time, 1e-9),
        rays_per_second=float(np.median(rays)) if rays else float("nan"),
        seconds_to_psnr=seconds_to_thresholds(scalars.get(PSNR_TAG, []), iterations[0][0], thresholds, window),
    )


def _table(speeds: Sequence[TrainingSpeed], thresholds: Sequence[float]) -> str:
    header = ["run", "steps/s", "rays/s"] + [f"s to {threshold:g} dB" for threshold in thresholds]
    rows = [
        [speed.run, f"{speed.steps_per_second:.2f}", f"{speed.rays_per_second:.3g}"]
        + ["-" if speed.seconds_to_psnr[threshold] is None else f"{speed.seconds_to_psnr[threshold]:.0f}" for threshold in thresholds]
        for speed in speeds
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in [header, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="ns-train run directories (where config.yml is)")
    parser.add_argument("--psnr", type=float, nargs="+", default=[24.0, 26.0, 28.0], help="PSNR thresholds in dB")
    parser.add_argument("--skip-steps", type=int, default=100, help="steps left out of the speed")
    parser.add_argument("--window", type=int, default=10, help="PSNR logs averaged")
    args = parser.parse_args()
    speeds = [training_speed(run, args.psnr, args.skip_steps, args.window) for run in args.runs]
    print(_table(speeds, args.psnr))


if __name__ == "__main__":
    main()
