"""scripts/benchmark_training.py end to end on a tiny workspace: seconds of training, train and test scores, render timing."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_training.py"
SIZE = 32
pytestmark = pytest.mark.slow


def test_checkpoints_scores_and_render_speed_are_written(tmp_path):
    write_synthetic_workspace(SyntheticConfig(output_dir=tmp_path / "ws", num_frames=16, resolution=SIZE))
    command = [
        sys.executable, str(SCRIPT), "--data", str(tmp_path / "ws"), "--method", "nerfblend-small",
        "--minutes", "0.02", "0.04", "--train-frames", "2", "--picture-frames", "2",
        "--render-frames", "2", "--render-size", "24", "--render-chunks", "128", "4096", "--output-dir", str(tmp_path / "out"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"benchmark failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    results = json.loads((tmp_path / "out" / "nerfblend-small_training.json").read_text())
    checkpoints = results["checkpoints"]
    assert len(checkpoints) == 2 and checkpoints[0]["steps"] < checkpoints[1]["steps"]
    for checkpoint in checkpoints:
        for metrics in (checkpoint["metrics"], checkpoint["train_metrics"]):
            assert {"psnr", "ssim", "l1", "mse"} <= set(metrics) and all(math.isfinite(v) for v in metrics.values())
    renders = results["render"]
    assert [r["rays_per_chunk"] for r in renders] == [128, 4096]
    assert all(r["size"] == 24 and r["fps"] > 0 and r["frames"] == 2 for r in renders)
    for r in renders:
        assert 0 <= r["opaque_fraction"] <= 1 and 0 < r["hit_fraction"] <= 1
        assert r["samples_per_hit_ray"] * r["hit_fraction"] == pytest.approx(r["samples_per_ray"], rel=1e-4)
    assert Image.open(tmp_path / "out" / "nerfblend-small_test_frames.png").size[0] == 2 * SIZE
