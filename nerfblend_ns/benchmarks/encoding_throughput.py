"""Forward+backward throughput of the blended hash encoding: blend the frames' tables, look every
sample up in its frame's table, back-propagate to the basis tables and the coefficients."""

import time
from dataclasses import dataclass
from typing import Optional

import torch

from nerfblend_ns.benchmarks.phase_timer import peak_memory_gib, reset_peak_memory, synchronize
from nerfblend_ns.encodings import BlendedHashEncoding
from nerfblend_ns.encodings.lookup_implementation import LookupImplementation


@dataclass
class EncodingThroughput:
    implementation: str
    expressions: int
    """K: the encoding holds K + 1 tables."""
    frames: int
    samples: int
    ms: float
    """Milliseconds per forward+backward."""
    samples_per_second: float
    peak_memory_gib: Optional[float]


def measure_encoding(
    implementation: LookupImplementation,
    expressions: int,
    frames: int,
    samples: int,
    device: torch.device,
    warmup: int = 3,
    iterations: int = 20,
    seed: int = 0,
) -> EncodingThroughput:
    """Paper-size grid (16 levels, 2^14 rows, 4 features); uniform samples in the unit cube."""
    generator = torch.Generator(device=device).manual_seed(seed)
    encoding = BlendedHashEncoding(expressions + 1, implementation=implementation).to(device)
    positions = torch.rand(samples, 3, device=device, generator=generator)
    coefficients = torch.rand(frames, expressions, device=device, generator=generator).requires_grad_()
    frame_index = torch.randint(0, frames, (samples,), device=device, generator=generator)
    output_grad = torch.randn(samples, encoding.output_dim, device=device, generator=generator)

    def step() -> None:
        encoding.tables.grad = coefficients.grad = None
        encoding(positions, coefficients, frame_index).backward(output_grad)

    for _ in range(warmup):
        step()
    synchronize(device)
    reset_peak_memory(device)
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    synchronize(device)
    seconds = (time.perf_counter() - start) / iterations
    return EncodingThroughput(
        implementation, expressions, frames, samples, 1e3 * seconds, samples / seconds, peak_memory_gib(device)
    )
