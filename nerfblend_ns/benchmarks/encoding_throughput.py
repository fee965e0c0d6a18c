"""Forward+backward throughput of the blended hash encoding: blend the frames' tables, look every
sample up in its frame's table, back-propagate to the basis tables (as training does: the coefficients
come from the tracker) and optionally to the coefficients.

Besides the encoding's implementations, `PLAIN_TORCH` is the lookup as plain PyTorch writes it: gather
the 8 corner rows of every level, weight them, sum (the reference's `embedding_bag` fuses the gather
and the sum; the kernel fuses all of it)."""

import time
from dataclasses import dataclass
from typing import Optional

import torch
from jaxtyping import Float, Int
from torch import Tensor

from nerfblend_ns.benchmarks.phase_timer import peak_memory_gib, reset_peak_memory, synchronize
from nerfblend_ns.encodings import BlendedHashEncoding
from nerfblend_ns.encodings.hash_grid_layout import corner_indices_and_weights

PLAIN_TORCH = "plain_torch"
"""The baseline measured beside the encoding's own implementations ("torch", "triton")."""


@dataclass
class EncodingThroughput:
    implementation: str
    expressions: int
    """K: the encoding holds K + 1 tables."""
    frames: int
    samples: int
    coefficient_gradients: bool
    """Whether the backward pass also gave the coefficients' gradient."""
    ms: float
    """Milliseconds per forward+backward."""
    samples_per_second: float
    peak_memory_gib: Optional[float]


def plain_torch_encoding(
    encoding: BlendedHashEncoding,
    positions: Float[Tensor, "n 3"],
    coefficients: Float[Tensor, "b k"],
    table_index: Int[Tensor, "n"],
) -> Float[Tensor, "n out"]:
    """`encoding(positions, coefficients, table_index)` with the corner values materialised: [N, L, 8, F]."""
    tables = encoding.blend(coefficients)  # [B, P, F]
    indices, weights = corner_indices_and_weights(encoding.layout, positions)  # [N, L, 8] each
    rows = indices.long() + (table_index * tables.shape[1])[:, None, None]
    corners = tables.reshape(-1, tables.shape[2])[rows]  # [N, L, 8, F]
    return (corners * weights[..., None]).sum(dim=2).flatten(1)


def measure_encoding(
    implementation: str,
    expressions: int,
    frames: int,
    samples: int,
    device: torch.device,
    warmup: int = 3,
    iterations: int = 20,
    seed: int = 0,
    coefficient_gradients: bool = False,
) -> EncodingThroughput:
    """Paper-size grid (16 levels, 2^14 rows, 4 features); uniform samples in the unit cube.
    `implementation`: "torch", "triton" or `PLAIN_TORCH`."""
    generator = torch.Generator(device=device).manual_seed(seed)
    plain = implementation == PLAIN_TORCH
    encoding = BlendedHashEncoding(expressions + 1, implementation="torch" if plain else implementation).to(device)
    forward = plain_torch_encoding if plain else BlendedHashEncoding.__call__
    positions = torch.rand(samples, 3, device=device, generator=generator)
    coefficients = torch.rand(frames, expressions, device=device, generator=generator)
    coefficients.requires_grad_(coefficient_gradients)
    table_index = torch.randint(0, frames, (samples,), device=device, generator=generator)
    output_grad = torch.randn(samples, encoding.output_dim, device=device, generator=generator)

    def step() -> None:
        encoding.tables.grad = coefficients.grad = None
        forward(encoding, positions, coefficients, table_index).backward(output_grad)

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
        implementation, expressions, frames, samples, coefficient_gradients, 1e3 * seconds, samples / seconds,
        peak_memory_gib(device),
    )
