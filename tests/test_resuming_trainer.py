"""The trainer's learning-rate schedules end where the run ends."""

import pytest
import torch

from nerfblend_ns.method_configs import PAPER_STEPS, RelativeDecaySchedulerConfig, nerfblend_method, nerfblend_small_method
from nerfblend_ns.resuming_trainer import run_length_schedules


def _rates(scheduler_config: RelativeDecaySchedulerConfig, lr: float, steps: int) -> list:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], lr=lr)
    scheduler = scheduler_config.setup().get_scheduler(optimizer, lr)
    rates = []
    for _ in range(steps + 1):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_the_small_methods_schedules_follow_the_run_length():
    optimizers = nerfblend_small_method.config.optimizers
    resolved = run_length_schedules(optimizers, 1234)
    assert all(group["scheduler"].max_steps == 1234 for group in resolved.values())
    # The method's config is shared by every run: resolving one run's length leaves it untouched.
    assert all(group["scheduler"].max_steps is None for group in optimizers.values())


def test_the_paper_methods_schedules_keep_the_papers_horizon():
    resolved = run_length_schedules(nerfblend_method.config.optimizers, 1234)
    assert all(group["scheduler"].max_steps == PAPER_STEPS for group in resolved.values())


def test_a_run_ends_at_the_final_fraction_of_its_rate():
    groups = {"encoding": {"optimizer": None, "scheduler": RelativeDecaySchedulerConfig(final_fraction=0.1)}}
    scheduler = run_length_schedules(groups, 200)["encoding"]["scheduler"]
    rates = _rates(scheduler, 1e-2, 200)
    assert rates[0] == pytest.approx(1e-2)
    assert rates[100] == pytest.approx(1e-2 * 0.1**0.5, rel=1e-3)
    assert rates[200] == pytest.approx(1e-3, rel=1e-3)


def test_a_schedule_given_its_own_length_keeps_it():
    groups = {"mlp": {"optimizer": None, "scheduler": RelativeDecaySchedulerConfig(max_steps=40000)}}
    assert run_length_schedules(groups, 200)["mlp"]["scheduler"].max_steps == 40000


def test_a_schedule_without_a_length_outside_the_trainer_is_refused():
    with pytest.raises(ValueError, match="max_steps"):
        _rates(RelativeDecaySchedulerConfig(), 1e-2, 1)
