"""Two CPU processes (gloo) train one nerfblend through nerfstudio's DDP pipeline and end in one state.

nerfstudio's own launcher asserts CUDA (scripts/train.py `_distributed_worker`) and its pipeline hands
DDP a GPU index (pipelines/base_pipeline.py), so each process here joins the group itself and builds
the trainer as that worker would, with DDP taking the CPU module without a device index.
"""

import copy
from pathlib import Path
from typing import Dict, List
from unittest import mock

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from nerfstudio.engine.trainer import TrainerConfig
from nerfstudio.pipelines import base_pipeline
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from nerfblend_ns.method_configs import nerfblend_small_method
from nerfblend_ns.models.loss_schedule import LossScheduleConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGrid
from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

WORLD_SIZE = 2
STEPS = 20
UPDATE_INTERVAL = 4
pytestmark = pytest.mark.slow


class CpuDDP(DistributedDataParallel):
    """DDP as nerfstudio builds it, minus the device index that only a GPU module accepts."""

    def __init__(self, module: torch.nn.Module, device_ids=None, **kwargs):
        super().__init__(module, **kwargs)


def _record_frames(datamanager) -> List[Tensor]:
    """The frames of every training batch the datamanager hands out from now on, in order."""
    drawn: List[Tensor] = []
    next_train = datamanager.next_train

    def recording(step: int):
        ray_bundle, batch = next_train(step)
        drawn.append(batch["indices"][:, 0].unique())
        return ray_bundle, batch

    datamanager.next_train = recording
    return drawn


def _record_parameters_without_gradient(trainer) -> List[List[str]]:
    """After every training step from now on, the names of the parameters that got no gradient."""
    missing: List[List[str]] = []
    train_iteration = trainer.train_iteration
    model = trainer.pipeline.model

    def recording(step: int):
        outputs = train_iteration(step)
        missing.append([name for name, value in model.named_parameters() if value.grad is None])
        return outputs

    trainer.train_iteration = recording
    return missing


def _recording_grid_syncs(syncs: List[Dict[str, Tensor]]):
    """Patches the grid's broadcast to append this rank's values before and after each one to `syncs`."""
    broadcast = OccupancyGrid.broadcast

    def recording(grid) -> None:
        before = grid.occs.clone()
        broadcast(grid)
        syncs.append({"before": before, "after": grid.occs.clone()})

    return mock.patch.object(OccupancyGrid, "broadcast", recording)


def _train_rank(rank: int, rendezvous: Path, results: Path, config: TrainerConfig) -> None:
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=WORLD_SIZE)
    torch.set_num_threads(1)  # two ranks share the cores
    # Seeded per rank as nerfstudio's train_loop does: DDP must overwrite rank 1's different initial field.
    torch.manual_seed(config.machine.seed + rank)
    # A directory per rank tells which rank wrote what; in a real run they share one.
    config.output_dir = config.output_dir / f"rank{rank}"
    trainer = config.setup(local_rank=rank, world_size=WORLD_SIZE)
    with mock.patch.object(base_pipeline, "DDP", CpuDDP):
        trainer.setup()
    model = trainer.pipeline.model
    initial = {name: value.detach().clone() for name, value in model.named_parameters()}
    drawn = _record_frames(trainer.pipeline.datamanager)
    gradless = _record_parameters_without_gradient(trainer)
    syncs: List[Dict[str, Tensor]] = []
    with _recording_grid_syncs(syncs):
        trainer.train()
    state = {
        "wrapped": isinstance(trainer.pipeline._model, DistributedDataParallel),
        "initial": initial,
        "final": {name: value.detach().clone() for name, value in model.named_parameters()},
        "occs": model.occupancy_grid.occs.clone(),
        "binaries": model.occupancy_grid.binaries.clone(),
        "frames": drawn,
        "gradless": gradless,
        "grid_syncs": syncs,
    }
    torch.save(state, results / f"rank{rank}.pt")
    dist.destroy_process_group()


def _config(data: Path, output_dir: Path) -> TrainerConfig:
    config = copy.deepcopy(nerfblend_small_method.config)
    config.pipeline.datamanager.data = data
    config.pipeline.datamanager.dataparser.data = data
    config.output_dir = output_dir
    config.timestamp = "ddp"
    config.vis = "tensorboard"
    config.machine.device_type = "cpu"
    config.max_num_iterations = STEPS
    config.steps_per_save = 8
    config.pipeline.datamanager.rays_per_frame = 64
    model = config.pipeline.model
    model.occupancy.training_step_size = 2 * 3**0.5 / 64
    model.occupancy.resolution = 16
    # Updates on warm-up steps (every cell) and after them (random cells), and all three loss stages,
    # patches and LPIPS included, within the short run.
    model.occupancy.update_interval = UPDATE_INTERVAL
    model.occupancy.warmup_steps = 8
    model.losses = LossScheduleConfig(mask_stage_end=6, patch_stage_start=16)
    return config


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> Dict:
    root = tmp_path_factory.mktemp("ddp")
    write_synthetic_workspace(SyntheticConfig(output_dir=root / "ws", num_frames=12, resolution=32))
    mp.spawn(_train_rank, args=(root / "rendezvous", root, _config(root / "ws", root / "runs")), nprocs=WORLD_SIZE)
    return {"root": root, "states": [torch.load(root / f"rank{rank}.pt") for rank in range(WORLD_SIZE)]}


def test_the_training_forward_goes_through_ddp(ranks):
    assert all(state["wrapped"] for state in ranks["states"])


def test_ranks_end_with_the_same_trained_parameters(ranks):
    first, second = ranks["states"]
    assert first["final"].keys() == second["final"].keys()
    for name, value in first["final"].items():
        assert torch.equal(value, second["final"][name]), name
        # DDP's initial broadcast made rank 1 start from rank 0's field.
        assert torch.equal(first["initial"][name], second["initial"][name]), name
    assert any(not torch.equal(first["initial"][name], value) for name, value in first["final"].items())


def test_every_field_parameter_gets_a_gradient_every_step(ranks):
    # Bases whose coefficient is zero in a batch still get one, through the blend. nerfstudio's empty
    # device marker never does: that is why its DDP wrapper looks for unused parameters.
    for state in ranks["states"]:
        assert state["gradless"] == [["device_indicator_param"]] * STEPS


def test_ranks_end_with_the_same_occupancy_grid(ranks):
    first, second = ranks["states"]
    assert torch.equal(first["occs"], second["occs"]) and torch.equal(first["binaries"], second["binaries"])


def test_every_grid_update_ends_with_rank_zeros_grid(ranks):
    first, second = (state["grid_syncs"] for state in ranks["states"])
    assert len(first) == len(second) == STEPS // UPDATE_INTERVAL
    # Each rank updates from its own random cells and jitter: left alone, the grids would part.
    assert any(not torch.equal(a["before"], b["before"]) for a, b in zip(first, second))
    for a, b in zip(first, second):
        assert torch.equal(a["after"], a["before"]) and torch.equal(b["after"], a["before"])


def test_ranks_draw_different_frames(ranks):
    first, second = (state["frames"] for state in ranks["states"])
    assert len(first) == len(second) == STEPS
    differing = sum(not torch.equal(a, b) for a, b in zip(first, second))
    assert differing > STEPS // 2


def test_only_rank_zero_writes_checkpoints_and_logs(ranks):
    runs = ranks["root"] / "runs"
    assert list((runs / "rank0").rglob("nerfstudio_models/*.ckpt"))
    assert list((runs / "rank0").rglob("events.out.tfevents.*"))
    assert not list((runs / "rank1").rglob("*.ckpt"))
    assert not list((runs / "rank1").rglob("events.out.tfevents.*"))


def test_the_checkpoint_of_a_distributed_run_loads_in_one_process(ranks):
    (checkpoints,) = {path.parent for path in (ranks["root"] / "runs" / "rank0").rglob("nerfstudio_models/*.ckpt")}
    config = _config(ranks["root"] / "ws", ranks["root"] / "runs" / "reloaded")
    config.load_dir = checkpoints
    trainer = config.setup(local_rank=0, world_size=1)
    trainer.setup()
    model, trained = trainer.pipeline.model, ranks["states"][0]
    for name, value in model.named_parameters():
        assert torch.equal(value, trained["final"][name]), name
    assert torch.equal(model.occupancy_grid.occs, trained["occs"])
