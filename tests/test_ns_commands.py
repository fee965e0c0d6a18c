"""The ns-* commands a user runs, end to end on a tiny demo workspace (CPU, about a minute)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import write_workspace
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


def fails(*command: str, cwd: Path) -> str:
    """The one-line error of a command that must fail without a traceback."""
    result = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0, f"{command[0]} did not fail:\n{result.stdout[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return " ".join(result.stderr.split())


TRAIN_TWO_STEPS = ("--output-dir", "out", "--vis", "tensorboard", "--max-num-iterations", "2")


def test_resume_skips_an_unreadable_newest_checkpoint(trained):
    models = trained / "damaged_models"
    shutil.copytree(trained / "out" / "ws" / "nerfblend-small" / "first" / "nerfstudio_models", models)
    whole = (models / "step-000000029.ckpt").read_bytes()
    (models / "step-000000031.ckpt").write_bytes(whole[: len(whole) // 2])  # a save cut short
    log = " ".join(run("ns-train", "nerfblend-small", "--data", "ws", "--timestamp", "skipped", *TRAIN_TWO_STEPS,
                       "--load-dir", "damaged_models", cwd=trained).split())
    assert "skipping checkpoint damaged_models/step-000000031.ckpt: not a whole checkpoint" in log
    assert "Done loading Nerfstudio checkpoint from damaged_models/step-000000029.ckpt" in log


def test_resume_on_other_coefficients_names_both_sets(trained):
    write_workspace(trained / "other", num_coefficients=3)
    message = fails("ns-train", "nerfblend-small", "--data", "other", "--timestamp", "other", *TRAIN_TWO_STEPS,
                    "--load-dir", "out/ws/nerfblend-small/first/nerfstudio_models", cwd=trained)
    names = json.loads((trained / "ws" / "transforms.json").read_text())["expression_names"]
    assert f"step-000000029.ckpt was trained on {len(names)} coefficients ({names[0]}, " in message
    assert "this workspace (other) has 3 coefficients (coef0, coef1, coef2)" in message


def test_a_workspace_too_small_for_a_batch_is_one_line(trained):
    write_workspace(trained / "two", num_frames=3)
    message = fails("ns-train", "nerfblend-small", "--data", "two", "--timestamp", "two", *TRAIN_TWO_STEPS,
                    "--pipeline.datamanager.dataparser.test-frames", "1", "--pipeline.datamanager.dataparser.val-frames", "1",
                    "--pipeline.datamanager.frames-per-batch", "4", cwd=trained)
    assert message.endswith("error: two: 2 training frames, fewer than --pipeline.datamanager.frames-per-batch 4; "
                            "track a longer video, or lower frames-per-batch or the test split")


def test_eval_refuses_a_diverged_checkpoint(trained):
    run_dir = trained / "out" / "ws" / "nerfblend-small" / "first"
    config = yaml.load((run_dir / "config.yml").read_text(), Loader=yaml.Loader)
    config.timestamp = "diverged"
    diverged_dir = run_dir.parent / "diverged"
    (diverged_dir / "nerfstudio_models").mkdir(parents=True)
    (diverged_dir / "config.yml").write_text(yaml.dump(config))
    checkpoint = torch.load(run_dir / "nerfstudio_models" / "step-000000029.ckpt", map_location="cpu", weights_only=False)
    for key, value in checkpoint["pipeline"].items():
        if value.is_floating_point() and "expr" not in key:
            value.fill_(float("nan"))
    torch.save(checkpoint, diverged_dir / "nerfstudio_models" / "step-000000029.ckpt")
    message = fails("ns-eval", "--load-config", str((diverged_dir / "config.yml").relative_to(trained)),
                    "--output-path", "diverged.json", cwd=trained)
    assert "NaN or infinite values (training diverged): no metric is reported" in message
    assert not (trained / "diverged.json").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_one_line(trained):
    (trained / "readonly").mkdir(mode=0o500)
    message = fails("ns-train", "nerfblend-small", "--data", "ws", "--output-dir", "readonly", "--vis", "tensorboard",
                    "--max-num-iterations", "2", cwd=trained)
    assert "readonly" in message and "permission denied" in message
