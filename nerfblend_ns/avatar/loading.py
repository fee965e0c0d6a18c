"""Loads a trained nerfblend run (config.yml + its latest checkpoint) for rendering, in eval mode.

Shared by every command that uses a trained avatar, so that each refuses the same things with the
same messages: a file that is not a nerfstudio config (or one naming code to run), a run of another
method, a run without a readable checkpoint. An unreadable newest checkpoint is skipped for the
newest whole one, with a warning.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from nerfstudio.engine.trainer import TrainerConfig
from nerfstudio.pipelines.base_pipeline import Pipeline
from nerfstudio.plugins.registry import discover_methods
from nerfstudio.utils.eval_utils import eval_setup

from nerfblend_ns.checkpoint_weights import CheckpointWeightsError
from nerfblend_ns.checkpoint_choice import checkpoint_step, newest_readable_checkpoint
from nerfblend_ns.input_errors import InputError
from nerfblend_ns.models.nerfblend_model import NerfBlendModel, NerfBlendModelConfig
from nerfblend_ns.run_config_yaml import ConfigError, UnsafeConfigError, load_run_config


class AvatarError(InputError):
    """A request the avatar commands refuse; the message says why and what to do."""


@dataclass
class LoadedAvatar:
    """A trained run, ready to render."""

    config: TrainerConfig
    pipeline: Pipeline
    checkpoint: Path

    @property
    def model(self) -> NerfBlendModel:
        return self.pipeline.model  # type: ignore[return-value]

    @property
    def run_dir(self) -> Path:
        """The folder holding the run's config.yml: default home of what the commands write."""
        return self.config.get_base_dir()


def read_run_config(config_path: Path) -> TrainerConfig:
    """The run's config, checked to be a nerfblend method with a checkpoint to load."""
    if not config_path.is_file():
        raise AvatarError(f"{config_path}: no such file; pass the config.yml that ns-train wrote into the run folder")
    try:
        config = load_run_config(config_path)
    except UnsafeConfigError as error:
        raise AvatarError(f"{config_path}: {error}; nothing in it was run") from None
    except ConfigError as error:
        raise AvatarError(f"{config_path}: not a readable nerfstudio config ({error})") from None
    except (yaml.YAMLError, AttributeError, ImportError, TypeError, UnicodeDecodeError) as error:
        raise AvatarError(f"{config_path}: not a readable nerfstudio config ({error})") from None
    if not isinstance(config, TrainerConfig):
        raise AvatarError(f"{config_path}: not a nerfstudio run config (it holds a {type(config).__name__})")
    nerfblend_methods = sorted(
        name for name, method in discover_methods()[0].items() if isinstance(method.pipeline.model, NerfBlendModelConfig)
    )
    if config.method_name not in nerfblend_methods or not isinstance(config.pipeline.model, NerfBlendModelConfig):
        raise AvatarError(
            f"{config_path}: a '{config.method_name}' run; this command needs a run of a nerfblend method "
            f"({', '.join(nerfblend_methods)})"
        )
    checkpoint_dir = config.get_checkpoint_dir()
    chosen, skipped = newest_readable_checkpoint(checkpoint_dir) if checkpoint_dir.is_dir() else (None, [])
    for path, problem in skipped:
        Console(stderr=True, soft_wrap=True).print(f"[yellow]skipping checkpoint {path}: {problem}; loading the newest whole one")
    if chosen is None:
        found = "no readable checkpoint" if skipped else "no checkpoint"
        raise AvatarError(
            f"{config_path}: {found} in {checkpoint_dir} (relative paths are resolved from the folder ns-train "
            "was run in; run from there, or train until a checkpoint is saved)"
        )
    config.load_step = checkpoint_step(chosen)
    return config


def load_avatar(config_path: Path) -> LoadedAvatar:
    """Config, pipeline (test split loaded as the eval dataset) and the loaded checkpoint."""
    load_step = read_run_config(config_path).load_step

    def at_chosen_step(config: TrainerConfig) -> TrainerConfig:
        config.load_step = load_step
        return config

    try:
        config, pipeline, checkpoint, _ = eval_setup(config_path, test_mode="test", update_config_callback=at_chosen_step)
    except CheckpointWeightsError as error:
        chosen = read_run_config(config_path).get_checkpoint_dir() / f"step-{load_step:09d}.ckpt"
        raise AvatarError(f"{chosen}: {error}") from None
    pipeline.eval()
    return LoadedAvatar(config, pipeline, checkpoint)
