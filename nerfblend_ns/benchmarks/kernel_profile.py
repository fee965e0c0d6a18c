"""The operators and kernels that some work spends its time in, as torch.profiler's summary table."""

from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile

from nerfblend_ns.benchmarks.phase_timer import synchronize


def profile_table(work: Callable[[], None], device: torch.device, rows: int = 40) -> str:
    """Runs `work` once under the profiler; operators sorted by their own device time (CPU time off CUDA)."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    synchronize(device)
    with profile(activities=activities) as profiler:
        work()
        synchronize(device)
    sort_by = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return profiler.key_averages().table(sort_by=sort_by, row_limit=rows)
