"""Tiny trained avatars for the tests of the avatar commands and the viewer.

`train_tiny_avatar` runs ns-train on a small synthetic workspace (CPU, under a minute on an idle
machine). Thirty steps leave a nearly uniform fog, so `shape_density` fits a copy of the run to a
known geometry: a ball of radius NEUTRAL_RADIUS at the neutral expression that grows to GROWN_RADIUS
at jawOpen's training maximum. Both are in scene units (the head's unit sphere).
"""

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from nerfstudio.utils.eval_utils import eval_setup

from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

BIN = Path(sys.executable).parent
NEUTRAL_RADIUS = 0.4
GROWN_RADIUS = 0.7
BALL_DENSITY = 40.0
"""σ inside the ball; a surface threshold between 0 and this finds the ball."""


@dataclass
class TinyAvatar:
    """Runs under `root`, the folder the commands must run in (config.yml paths are relative to it)."""

    root: Path
    config: Path
    """The ns-train run."""
    shaped_config: Path
    """Its copy with the fitted geometry."""
    driving: Path
    """Another synthetic workspace (same coefficients) to drive the avatar with."""


def run_command(*command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)


def train_tiny_avatar(root: Path) -> TinyAvatar:
    write_synthetic_workspace(SyntheticConfig(output_dir=root / "ws", num_frames=16, resolution=48))
    write_synthetic_workspace(SyntheticConfig(output_dir=root / "driving", num_frames=5, resolution=32, seed=1))
    result = run_command(
        "ns-train", "nerfblend-small", "--data", "ws", "--output-dir", "out", "--timestamp", "tiny",
        "--vis", "tensorboard", "--max-num-iterations", "30", "--steps-per-eval-batch", "1000",
        "--pipeline.datamanager.rays-per-frame", "128", "--pipeline.model.perceptual-loss", "off", cwd=root,
    )
    assert result.returncode == 0, f"ns-train failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    config = Path("out/ws/nerfblend-small/tiny/config.yml")
    return TinyAvatar(root, config, shape_density(root, config), Path("driving"))


def _ball(points: torch.Tensor, radius: float) -> torch.Tensor:
    return BALL_DENSITY * (points.norm(dim=-1) < radius).float()


def shape_density(root: Path, config_path: Path, steps: int = 60) -> Path:
    """A copy of the run whose field is fitted to the balls; returns its config.yml (relative to root)."""
    with contextlib.chdir(root):
        config = yaml.load(config_path.read_text(), Loader=yaml.Loader)
        checkpoint = sorted(config.get_checkpoint_dir().glob("step-*.ckpt"))[-1]
        config.timestamp = "shaped"
        config.get_checkpoint_dir().mkdir(parents=True)
        shaped_config = config.get_base_dir() / "config.yml"
        shaped_config.write_text(yaml.dump(config))
        (config.get_checkpoint_dir() / checkpoint.name).write_bytes(checkpoint.read_bytes())
        _, pipeline, shaped_checkpoint, step = eval_setup(shaped_config, test_mode="test")
        field = pipeline.model.field
        grown = torch.zeros(pipeline.model.expression_space.num_coefficients)
        grown[0] = pipeline.model.expression_space.maximum[0]
        targets = ((torch.zeros_like(grown), NEUTRAL_RADIUS), (grown, GROWN_RADIUS))
        optimizer = torch.optim.Adam(field.parameters(), lr=3e-2)
        generator = torch.Generator().manual_seed(0)
        for _ in range(steps):
            points = torch.rand(1024, 3, generator=generator) * 2 - 1
            table_index = torch.zeros(points.shape[0], dtype=torch.long)
            loss = sum(
                ((field.density(points, field.blend(coefficients[None]), table_index)[:, 0] - _ball(points, radius)) ** 2).mean()
                for coefficients, radius in targets
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        torch.save({"step": step, "pipeline": pipeline.state_dict()}, shaped_checkpoint)
    return shaped_config
