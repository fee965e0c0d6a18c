"""Fused hash-grid lookup in stacked tables (Triton), differentiable with respect to the tables and
the positions.

Same values as the torch lookup of ``BlendedHashEncoding``, without its per-corner index and
weight tensors: each kernel recomputes cells, hashes and weights in registers, accumulates in
float32 and, in the backward pass, adds ``weight · dL/dfeature`` straight into a float32 table
gradient with atomics. Only positions and table indices are kept for the backward pass.

Positions get a gradient only when they require one (learned pose corrections move the samples);
then the tables are kept too, and the backward kernel adds each level's share into a float32 [N, 3]
gradient in the same pass over the corners as the tables' gradient. Table indices are not range-checked (a check would cost a host synchronisation per call).
"""

import contextlib
from typing import Optional, Tuple

import torch
import triton
from jaxtyping import Float, Int
from torch import Tensor

from nerfblend_ns.encodings.triton_hash_kernels import lookup_backward_kernel, lookup_forward_kernel

# (samples per program, warps per program), one thread per sample and level. Blocks of 64-512
# samples with 2-8 warps ran within 3% of each other on an H100 (2^18 samples, 47 tables).
FORWARD_LAUNCH = (128, 4)
BACKWARD_LAUNCH = (128, 4)


def _launch(
    kernel, sources: Tuple[Optional[Tensor], ...], positions: Tensor, frames: Optional[Tensor], levels: Tensor,
    targets: Tuple[Optional[Tensor], ...], table_shape: Tuple[int, int, int], launch: Tuple[int, int], **switches: bool,
) -> None:
    """Forward: sources = (tables,), targets = (features,). Backward: sources = (feature gradient, tables or
    None), targets = (table gradient or None, position gradient or None), with the switches saying which.
    Without ``frames`` every sample is looked up in every table."""
    num_tables, rows_per_table, features = table_shape
    block, num_warps = launch
    num_samples = positions.shape[0]
    if num_samples == 0:
        return
    per_sample = frames is not None
    grid = (triton.cdiv(num_samples, block), levels.shape[0], 1 if per_sample else num_tables)
    device = next(target for target in targets if target is not None).device
    # Triton launches on the current device; under multi-GPU training that need not be the tensors' one.
    # (Triton's CPU interpreter, used by the tests, has no device to select.)
    with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
        kernel[grid](
            *sources, positions, frames, levels, *targets, num_samples, rows_per_table,
            LEVELS=levels.shape[0], FEATURES=features, FEATURES_POW2=triton.next_power_of_2(features),
            PER_SAMPLE_TABLE=per_sample, BLOCK=block, num_warps=num_warps, **switches,
        )


class _FusedLookup(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tables: Tensor, positions: Tensor, frames: Optional[Tensor], levels: Tensor) -> Tensor:
        tables = tables.contiguous()
        num_tables, _, features = tables.shape
        width = levels.shape[0] * features
        shape = (positions.shape[0], width) if frames is not None else (num_tables, positions.shape[0], width)
        out = torch.empty(shape, dtype=tables.dtype, device=tables.device)
        _launch(lookup_forward_kernel, (tables,), positions, frames, levels, (out,), tuple(tables.shape), FORWARD_LAUNCH)
        # The tables are needed again only for the positions' gradient.
        ctx.save_for_backward(positions, frames, levels, tables if ctx.needs_input_grad[1] else None)
        ctx.table_shape, ctx.table_dtype = tuple(tables.shape), tables.dtype
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        positions, frames, levels, tables = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        tables_need, positions_need = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_tables = torch.zeros(ctx.table_shape, dtype=torch.float32, device=grad_out.device) if tables_need else None
        grad_positions = torch.zeros_like(positions, dtype=torch.float32) if positions_need else None
        _launch(
            lookup_backward_kernel, (grad_out, tables), positions, frames, levels, (grad_tables, grad_positions),
            ctx.table_shape, BACKWARD_LAUNCH, TABLE_GRADIENT=tables_need, POSITION_GRADIENT=positions_need,
        )
        if grad_tables is not None:
            grad_tables = grad_tables.to(ctx.table_dtype)
        return grad_tables, grad_positions, None, None


def _kernel_positions(positions: Float[Tensor, "n 3"]) -> Float[Tensor, "n 3"]:
    return positions.to(torch.float32).contiguous()


def fused_lookup(
    tables: Float[Tensor, "b p f"],
    positions: Float[Tensor, "n 3"],
    table_index: Int[Tensor, "n"],
    levels: Int[Tensor, "levels 4"],
) -> Float[Tensor, "n out"]:
    """Features of each sample in its own table; ``out = L·F``, in the tables' dtype."""
    return _FusedLookup.apply(tables, _kernel_positions(positions), table_index.contiguous(), levels)


def fused_lookup_every_table(
    tables: Float[Tensor, "b p f"], positions: Float[Tensor, "n 3"], levels: Int[Tensor, "levels 4"]
) -> Float[Tensor, "b n out"]:
    """Features of every sample in every table, without repeating the samples B times."""
    return _FusedLookup.apply(tables, _kernel_positions(positions), None, levels)
