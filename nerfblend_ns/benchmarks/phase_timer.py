"""Wall time of named phases of repeated work, the device synchronised at every phase boundary.

Synchronising makes each phase's time its own (GPU work is asynchronous: unsynchronised, one
phase's kernels would be billed to whichever later phase waits for them), at the cost of the
overlap between host and device that an unsynchronised loop gets; measure whole steps without
it to see that overlap.
"""

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: torch.device) -> Optional[float]:
    """Peak allocated since the last reset; None off CUDA."""
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


class PhaseTimer:
    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds: Dict[str, List[float]] = defaultdict(list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        synchronize(self.device)
        start = time.perf_counter()
        try:
            yield
        finally:
            synchronize(self.device)
            self.seconds[name].append(time.perf_counter() - start)

    def total_ms(self, name: str) -> float:
        return 1e3 * sum(self.seconds.get(name, []))
