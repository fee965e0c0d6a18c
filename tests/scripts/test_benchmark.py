"""scripts/benchmark.py end to end on a tiny workspace (CPU: the torch lookup and render path)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark.py"
SIZE = 32
pytestmark = pytest.mark.slow


def test_step_phases_and_render_step_comparison_are_written(tmp_path):
    write_synthetic_workspace(SyntheticConfig(output_dir=tmp_path / "ws", num_frames=16, resolution=SIZE))
    command = [
        sys.executable, str(SCRIPT), "--data", str(tmp_path / "ws"), "--method", "nerfblend-small", "--expressions",
        "--implementations", "torch", "--warmup-steps", "24", "--timed-steps", "8", "--render-frames", "2",
        "--render-size", str(SIZE), "--override", "pipeline.model.renderer.step_scale", "2.0",
        "--output", str(tmp_path / "out" / "benchmark.json"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"benchmark failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    document = json.loads((tmp_path / "out" / "benchmark.json").read_text())
    assert document["errors"] == {}
    phases = document["phases_torch"]["phase_ms"]
    assert all(value >= 0 for value in phases.values()) and sum(phases.values()) > 0
    steps = document["render_steps"]
    coarse, fine = steps["steps x2"], steps["training steps"]
    assert coarse["frames"] == fine["frames"] == 2 and coarse["fps"] > 0 and fine["fps"] > 0
    # Twice the step: about half the samples on each ray.
    assert coarse["samples_per_ray"] < 0.7 * fine["samples_per_ray"]
    assert math.isfinite(steps["psnr_between"]) and steps["psnr_between"] > 10
    assert all(math.isfinite(render["psnr_vs_ground_truth"]) for render in (coarse, fine))
    assert "test PSNR of steps x2" in result.stdout
    assert coarse["ms_per_frame_waited"] > 0
    default_stop, tenfold_stop = (v for k, v in document["render_early_stop"].items() if k != "psnr_between")
    # Stopping at ten times the transmittance ends a ray sooner, never later.
    assert tenfold_stop["samples_per_ray"] <= default_stop["samples_per_ray"]
    assert document["render_coarser_steps"]["steps x3"]["samples_per_ray"] < coarse["samples_per_ray"]
