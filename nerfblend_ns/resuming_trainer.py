"""nerfstudio's trainer, resuming only from a checkpoint that reads whole and fits the workspace, and
ending the learning-rate schedules that have no length of their own where the run ends.

The nerfblend methods name this trainer in their config, so `ns-train nerfblend --load-dir ...`
skips an unreadable newest checkpoint for the newest good one (and says so), and a checkpoint of a
workspace with other expression coefficients is refused naming both coefficient sets, instead of a
`state_dict` size mismatch. A schedule whose `max_steps` is unset (`nerfblend-small`'s) decays over
`--max-num-iterations`, so a shorter or longer run still ends at the schedule's final rate.
"""

import copy
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch
import yaml
from nerfstudio.engine.optimizers import Optimizers
from nerfstudio.engine.trainer import Trainer
from nerfstudio.utils.rich_utils import CONSOLE

from nerfblend_ns.dataparsers.layouts import read_sequence
from nerfblend_ns.checkpoint_choice import checkpoint_problem, checkpoint_step, newest_readable_checkpoint
from nerfblend_ns.checkpoint_weights import CheckpointWeightsError
from nerfblend_ns.input_errors import InputError
from nerfblend_ns.run_config_yaml import load_run_config, training_workspace

SHOWN_NAMES = 6
"""Coefficient names listed in a refusal; the rest are counted."""


class CheckpointError(InputError):
    """A checkpoint to resume from is unreadable or does not fit the run."""


class ResumingTrainer(Trainer):
    def setup_optimizers(self) -> Optimizers:
        return Optimizers(run_length_schedules(self.config.optimizers, self.config.max_num_iterations), self.pipeline.get_param_groups())

    def _load_checkpoint(self) -> None:
        config = self.config
        if config.load_dir is not None and config.load_step is None:
            chosen, skipped = newest_readable_checkpoint(Path(config.load_dir))
            for path, problem in skipped:
                CONSOLE.print(f"[yellow]skipping checkpoint {path}: {problem}; resuming from the newest whole one")
            if chosen is None:
                raise CheckpointError(f"{config.load_dir}: no readable step-*.ckpt checkpoint to resume from")
            config.load_step = checkpoint_step(chosen)
        elif config.load_checkpoint is not None and Path(config.load_checkpoint).is_file():
            problem = checkpoint_problem(Path(config.load_checkpoint))
            if problem is not None:
                raise CheckpointError(f"{config.load_checkpoint}: {problem}; pass an earlier checkpoint")
        try:
            super()._load_checkpoint()
        except RuntimeError as error:
            if "size mismatch" not in str(error):
                raise
            raise self._mismatch() from None
        except CheckpointWeightsError as error:
            raise CheckpointError(f"{self._checkpoint_path()}: {error}") from None

    def _checkpoint_path(self) -> Path:
        if self.config.load_checkpoint is not None:
            return Path(self.config.load_checkpoint)
        return Path(self.config.load_dir) / f"step-{self.config.load_step:09d}.ckpt"

    def _mismatch(self) -> CheckpointError:
        path = self._checkpoint_path()
        state = torch.load(path, map_location="cpu")["pipeline"]
        # The coefficients' range buffer, under its name since and before it moved into the expression space.
        minimum = ("_model.expression_space.minimum", "_model.expr_min")
        count = next((value.shape[0] for key, value in state.items() if key.endswith(minimum)), None)
        theirs = _run_expression_names(path.parent.parent / "config.yml")
        ours = list(self.pipeline.model.expression_space.names)
        return CheckpointError(
            f"{path} was trained on {_describe(theirs, count)}, this workspace ({self.config.data}) has "
            f"{_describe(ours, len(ours))}; a run resumes only on the coefficients it was trained with: "
            "train from scratch (no --load-dir) or resume on the original workspace"
        )


def _run_expression_names(config_path: Path) -> Optional[List[str]]:
    """The coefficient names of the workspace a run was trained on, where its config and workspace remain."""
    try:
        config = load_run_config(config_path)
        return list(read_sequence(training_workspace(config), config.pipeline.datamanager.dataparser.layout).expression_names)
    except (InputError, OSError, AttributeError, TypeError, yaml.YAMLError):  # the counts still name the mismatch
        return None


def _describe(names: Optional[List[str]], count: Optional[int]) -> str:
    if names is None:
        return f"{count if count is not None else 'a different number of'} coefficients"
    shown = ", ".join(names[:SHOWN_NAMES]) + (f", … ({len(names) - SHOWN_NAMES} more)" if len(names) > SHOWN_NAMES else "")
    return f"{len(names)} coefficients ({shown})"


def run_length_schedules(optimizers: Dict[str, Dict[str, Any]], run_steps: int) -> Dict[str, Dict[str, Any]]:
    """A copy of the optimizer groups in which every scheduler without `max_steps` ends at `run_steps`."""
    groups = copy.deepcopy(optimizers)
    for group in groups.values():
        scheduler = group.get("scheduler")
        if scheduler is not None and getattr(scheduler, "max_steps", 0) is None:
            scheduler.max_steps = run_steps
    return groups
