"""scripts/benchmark_quality.py end to end on a tiny workspace: two small variants, seconds of training each."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from nerfblend_ns.benchmarks.frame_grid import HEADER_HEIGHT
from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_quality.py"
SIZE = 32
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("quality")
    write_synthetic_workspace(SyntheticConfig(output_dir=root / "ws", num_frames=16, resolution=SIZE))
    command = [
        sys.executable, str(SCRIPT), "--data", str(root / "ws"), "--small", "--minutes", "0.1", "0.05",
        "--methods", "nerfblend", "nerfblend-concat", "--eval-frames", "2", "--picture-frames", "2",
        "--override", "pipeline.model.losses.patch_stage_start", "5", "--render-frames", "2", "--render-size", "16", "--output-dir", str(root / "out"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"benchmark failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return root / "out"


def test_results_hold_each_variant_at_each_time(benchmark):
    results = json.loads((benchmark / "quality.json").read_text())
    assert results["git_revision"] and results["code_digest"] and results["device"] and results["small"]
    on_gpu = results["device"] != "cpu"
    assert results["minutes"] == [0.05, 0.1]
    assert list(results["variants"]) == ["nerfblend", "nerfblend-concat"]
    for key, variant in results["variants"].items():
        assert variant["method"] == {"nerfblend": "nerfblend-small", "nerfblend-concat": "nerfblend-concat-small"}[key]
        assert variant["parameters"] > 0 and variant["evaluated_frames"] == [0, 1]
        assert variant["overrides"] == {"pipeline.model.losses.patch_stage_start": 5}
        render = variant["render"]
        assert render["expression_grid"]["size"] == render["training_grid"]["size"] == 16
        assert render["expression_grid"]["fps"] > 0 and render["psnr_between"] > 0
        checkpoints = variant["run"]["checkpoints"]
        assert len(checkpoints) == 2 == len(variant["loss_stages"])
        assert checkpoints[0]["steps"] < checkpoints[1]["steps"]
        assert 0.05 <= checkpoints[0]["minutes"] < checkpoints[1]["minutes"]
        for checkpoint in checkpoints:
            assert {"psnr", "ssim", "l1", "mse"} <= set(checkpoint["metrics"])
            assert all(math.isfinite(value) for value in checkpoint["metrics"].values())
            assert checkpoint["seconds_per_step"] > 0 and (checkpoint["peak_memory_gib"] is not None) == on_gpu
    blend, concat = results["variants"]["nerfblend"], results["variants"]["nerfblend-concat"]
    assert blend["label"] != concat["label"] and blend["parameters"] != concat["parameters"]


def test_plot_and_picture_are_written(benchmark):
    assert Image.open(benchmark / "psnr_vs_time.png").size[0] > 100
    # Two frames as rows; ground truth and the two variants as columns.
    assert Image.open(benchmark / "test_frames.png").size == (3 * SIZE, HEADER_HEIGHT + 2 * SIZE)
