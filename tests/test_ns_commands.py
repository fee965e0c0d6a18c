"""The ns-* commands a user runs, end to end on a tiny demo workspace (CPU, about a minute)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def run(*command: str, cwd: Path) -> str:
    result = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("commands")
    write_synthetic_workspace(SyntheticConfig(output_dir=root / "ws", num_frames=16, resolution=48))
    run("ns-train", "nerfblend-small", "--data", "ws", "--output-dir", "out", "--timestamp", "first",
        "--vis", "tensorboard", "--max-num-iterations", "30", cwd=root)
    return root


def test_train_writes_config_and_checkpoint(trained):
    run_dir = trained / "out" / "ws" / "nerfblend-small" / "first"
    assert (run_dir / "config.yml").is_file()
    assert (run_dir / "nerfstudio_models" / "step-000000029.ckpt").is_file()


def test_eval_reports_the_protocol_metrics(trained):
    run("ns-eval", "--load-config", "out/ws/nerfblend-small/first/config.yml", "--output-path", "eval.json", cwd=trained)
    results = json.loads((trained / "eval.json").read_text())["results"]
    for key in ("psnr", "ssim", "l1", "mse"):
        assert np.isfinite(results[key])
    assert 0 <= results["ssim"] <= 1 and results["mse"] == pytest.approx(results["mse"]) and results["psnr"] > 5


def test_resume_continues_from_the_checkpoint(trained):
    log = run("ns-train", "nerfblend-small", "--data", "ws", "--output-dir", "out", "--timestamp", "resumed",
              "--vis", "tensorboard", "--max-num-iterations", "36",
              "--load-dir", "out/ws/nerfblend-small/first/nerfstudio_models", cwd=trained)
    assert "Done loading Nerfstudio checkpoint from" in log and "step-000000029.ckpt" in log
    # The resumed run starts at step 30 and runs 36 more steps.
    assert (trained / "out" / "ws" / "nerfblend-small" / "resumed" / "nerfstudio_models" / "step-000000065.ckpt").is_file()


def test_render_dataset_writes_test_images(trained):
    run("ns-render", "dataset", "--load-config", "out/ws/nerfblend-small/first/config.yml", "--split", "test",
        "--rendered-output-names", "rgb", "--output-path", "renders", cwd=trained)
    images = sorted((trained / "renders").rglob("*.png")) + sorted((trained / "renders").rglob("*.jpg"))
    assert len(images) == 2  # 16 frames × 0.125
    assert Image.open(images[0]).size == (48, 48)
