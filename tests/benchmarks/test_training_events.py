"""Speed and time to a PSNR read back from tensorboard events written as ns-train writes them."""

from pathlib import Path

import pytest
from torch.utils.tensorboard import SummaryWriter

from nerfblend_ns.benchmarks.training_events import ITERATION_TAG, PSNR_TAG, RAYS_PER_SECOND_TAG, training_speed

START = 1000.0


def _write_run(run_dir: Path) -> Path:
    """200 steps at 4 steps/s, 2048 rays per step, training PSNR rising 0.1 dB per step from 10 dB."""
    writer = SummaryWriter(log_dir=str(run_dir))
    for step in range(200):
        wall_time = START + step / 4
        writer.add_scalar(ITERATION_TAG, 0.25, step, walltime=wall_time)
        writer.add_scalar(RAYS_PER_SECOND_TAG, 2048 * 4.0, step, walltime=wall_time)
        if step % 10 == 0:
            writer.add_scalar(PSNR_TAG, 10.0 + 0.1 * step, step, walltime=wall_time)
    writer.close()
    return run_dir


def test_speed_and_time_to_psnr(tmp_path):
    speed = training_speed(_write_run(tmp_path / "gpus2"), thresholds=[20.0, 40.0], skip_steps=100, window=3)
    assert speed.run == "gpus2"
    assert speed.steps_per_second == pytest.approx(4.0)
    assert speed.rays_per_second == pytest.approx(8192.0)
    # The mean of the logs at steps 90, 100, 110 is 20 dB: reached 110 steps (27.5 s) after the start.
    assert speed.seconds_to_psnr[20.0] == pytest.approx(27.5)
    assert speed.seconds_to_psnr[40.0] is None
