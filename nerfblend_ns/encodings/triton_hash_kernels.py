"""Triton kernels of the hash-grid lookup: trilinear interpolation of the 8 cell corners of every
sample at one level, forward and backward, for tables stacked as ``[B, P, F]``.

A program handles ``BLOCK`` samples at one level; the launch grid is (sample blocks, levels,
tables). Either each sample names its table (``PER_SAMPLE_TABLE``: the blended lookup), or
every sample is looked up in every table, the table being the third grid axis (the per-basis
features). Indexing, cell clamping and corner order are those of ``hash_grid_layout``; its
level layout arrives as ``hash_grid_layout.level_table``.
"""

import triton
import triton.language as tl

from nerfblend_ns.encodings.hash_grid_layout import HASH_PRIMES

_PRIME_Y = tl.constexpr(HASH_PRIMES[1])
_PRIME_Z = tl.constexpr(HASH_PRIMES[2])
# Columns of the level tensor.
_RESOLUTION = tl.constexpr(0)
_FIRST_ROW = tl.constexpr(1)
_ROWS = tl.constexpr(2)
_DENSE = tl.constexpr(3)


@triton.jit
def cell_and_fraction(position, resolution):
    """Cell along one axis and the fraction into it; the face at 1 belongs to the last cell.

    The compiler may fuse the product and the subtraction into one FMA, so a fraction can differ
    from the torch reference's (which rounds the product) by an ulp of the scaled position."""
    scaled = tl.minimum(tl.maximum(position, 0.0), 1.0) * resolution.to(tl.float32)
    cell = tl.minimum(tl.floor(scaled).to(tl.int32), resolution - 1)
    return cell, scaled - cell.to(tl.float32)


@triton.jit
def corner_axis_weights(fx, fy, fz, CORNER: tl.constexpr):
    """The three per-axis trilinear weights of corner ``CORNER``, whose (x, y, z) offsets are its bits
    (CORNER >> 2, CORNER >> 1, CORNER) & 1: the fraction on the far side of an axis, one minus it on the
    near side."""
    if (CORNER >> 2) & 1:
        wx = fx
    else:
        wx = 1.0 - fx
    if (CORNER >> 1) & 1:
        wy = fy
    else:
        wy = 1.0 - fy
    if CORNER & 1:
        wz = fz
    else:
        wz = 1.0 - fz
    return wx, wy, wz


@triton.jit
def corner_row_and_weight(cx, cy, cz, fx, fy, fz, side, hash_mask, dense, CORNER: tl.constexpr):
    """Row within the level and trilinear weight of corner ``CORNER`` (bits as in ``corner_axis_weights``)."""
    vx = cx + ((CORNER >> 2) & 1)
    vy = cy + ((CORNER >> 1) & 1)
    vz = cz + (CORNER & 1)
    wx, wy, wz = corner_axis_weights(fx, fy, fz, CORNER)
    direct = vx + side * (vy + side * vz)
    # uint32 products wrap as instant-ngp's do; the mask keeps the low bits, which wrapping leaves alone.
    mixed = vx.to(tl.uint32) ^ (vy.to(tl.uint32) * _PRIME_Y) ^ (vz.to(tl.uint32) * _PRIME_Z)
    hashed = (mixed & hash_mask).to(tl.int32)
    return tl.where(dense, direct, hashed), (wx * wy) * wz


@triton.jit
def _program_samples(positions_ptr, frames_ptr, levels_ptr, num_samples, rows_per_table,
                     PER_SAMPLE_TABLE: tl.constexpr, BLOCK: tl.constexpr):
    """What every program computes first: its samples, their cells and fractions at its level,
    the first row of that level in each sample's table, and which samples contribute."""
    samples = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # [BLOCK]
    in_range = samples < num_samples
    level = tl.program_id(1)
    resolution = tl.load(levels_ptr + level * 4 + _RESOLUTION)
    first_row = tl.load(levels_ptr + level * 4 + _FIRST_ROW)
    hash_mask = (tl.load(levels_ptr + level * 4 + _ROWS) - 1).to(tl.uint32)
    dense = tl.load(levels_ptr + level * 4 + _DENSE) != 0

    px = tl.load(positions_ptr + samples * 3 + 0, mask=in_range, other=-1.0).to(tl.float32)
    py = tl.load(positions_ptr + samples * 3 + 1, mask=in_range, other=-1.0).to(tl.float32)
    pz = tl.load(positions_ptr + samples * 3 + 2, mask=in_range, other=-1.0).to(tl.float32)
    # Outside samples neither read nor write the tables; NaN fails the comparisons, so it never indexes them.
    inside = (px >= 0.0) & (px <= 1.0) & (py >= 0.0) & (py <= 1.0) & (pz >= 0.0) & (pz <= 1.0)
    if PER_SAMPLE_TABLE:
        table = tl.load(frames_ptr + samples, mask=in_range, other=0).to(tl.int64)
    else:
        table = tl.zeros([BLOCK], tl.int64) + tl.program_id(2)
    level_start = table * rows_per_table + first_row  # [BLOCK] int64: the level's first row in the stacked tables
    cx, fx = cell_and_fraction(px, resolution)
    cy, fy = cell_and_fraction(py, resolution)
    cz, fz = cell_and_fraction(pz, resolution)
    return samples, in_range, inside, level_start, cx, cy, cz, fx, fy, fz, resolution + 1, hash_mask, dense


@triton.jit
def _output_offsets(samples, features, num_samples,
                    PER_SAMPLE_TABLE: tl.constexpr, LEVELS: tl.constexpr, FEATURES: tl.constexpr):
    """[BLOCK, F_POW2] element offsets of this program's level in the [N, L*F] (or [B, N, L*F]) features."""
    offsets = samples.to(tl.int64)[:, None] * (LEVELS * FEATURES) + tl.program_id(1) * FEATURES + features[None, :]
    if not PER_SAMPLE_TABLE:
        offsets += tl.program_id(2).to(tl.int64) * num_samples * (LEVELS * FEATURES)
    return offsets


@triton.jit
def lookup_forward_kernel(
    tables_ptr, positions_ptr, frames_ptr, levels_ptr, out_ptr, num_samples, rows_per_table,
    LEVELS: tl.constexpr, FEATURES: tl.constexpr, FEATURES_POW2: tl.constexpr,
    PER_SAMPLE_TABLE: tl.constexpr, BLOCK: tl.constexpr,
):
    samples, in_range, inside, level_start, cx, cy, cz, fx, fy, fz, side, hash_mask, dense = _program_samples(
        positions_ptr, frames_ptr, levels_ptr, num_samples, rows_per_table, PER_SAMPLE_TABLE, BLOCK
    )
    features = tl.arange(0, FEATURES_POW2)  # [F_POW2]
    reads = (in_range & inside)[:, None] & (features < FEATURES)[None, :]  # [BLOCK, F_POW2]
    total = tl.zeros([BLOCK, FEATURES_POW2], tl.float32)
    for corner in tl.static_range(8):
        row, weight = corner_row_and_weight(cx, cy, cz, fx, fy, fz, side, hash_mask, dense, corner)
        values = tl.load(tables_ptr + (level_start + row)[:, None] * FEATURES + features[None, :], mask=reads, other=0.0)
        total += weight[:, None] * values.to(tl.float32)
    writes = in_range[:, None] & (features < FEATURES)[None, :]
    offsets = _output_offsets(samples, features, num_samples, PER_SAMPLE_TABLE, LEVELS, FEATURES)
    tl.store(out_ptr + offsets, total.to(out_ptr.dtype.element_ty), mask=writes)


@triton.jit
def lookup_backward_kernel(
    grad_out_ptr, tables_ptr, positions_ptr, frames_ptr, levels_ptr, grad_tables_ptr, grad_positions_ptr,
    num_samples, rows_per_table,
    LEVELS: tl.constexpr, FEATURES: tl.constexpr, FEATURES_POW2: tl.constexpr,
    PER_SAMPLE_TABLE: tl.constexpr, BLOCK: tl.constexpr,
    TABLE_GRADIENT: tl.constexpr, POSITION_GRADIENT: tl.constexpr,
):
    """One pass over each sample's corners for either gradient or both.

    Tables: scatters weight·dL/dfeature into the float32 table gradient; colliding corners add atomically
    (4-wide relaxed atomics on sm_90: 0.5 ms for 2^18 samples, random or ordered along rays, so a sorted
    segmented reduction has little to win). Positions: adds this level's (and table's) dL/dposition into
    the float32 [N, 3] gradient: each corner's dL/dweight (its row · dL/dfeature) times the weight's
    derivative along each axis, ± the other two axes' weights times the level's resolution (the fraction
    moves by `resolution` per unit). Samples outside the unit cube get neither, as they read nothing."""
    samples, in_range, inside, level_start, cx, cy, cz, fx, fy, fz, side, hash_mask, dense = _program_samples(
        positions_ptr, frames_ptr, levels_ptr, num_samples, rows_per_table, PER_SAMPLE_TABLE, BLOCK
    )
    features = tl.arange(0, FEATURES_POW2)  # [F_POW2]
    writes = (in_range & inside)[:, None] & (features < FEATURES)[None, :]  # [BLOCK, F_POW2]
    offsets = _output_offsets(samples, features, num_samples, PER_SAMPLE_TABLE, LEVELS, FEATURES)
    grad = tl.load(grad_out_ptr + offsets, mask=writes, other=0.0).to(tl.float32)
    grad_x = tl.zeros([BLOCK], tl.float32)
    grad_y = tl.zeros([BLOCK], tl.float32)
    grad_z = tl.zeros([BLOCK], tl.float32)
    for corner in tl.static_range(8):
        row, weight = corner_row_and_weight(cx, cy, cz, fx, fy, fz, side, hash_mask, dense, corner)
        corner_rows = (level_start + row)[:, None] * FEATURES + features[None, :]  # [BLOCK, F_POW2]
        if TABLE_GRADIENT:
            tl.atomic_add(grad_tables_ptr + corner_rows, weight[:, None] * grad, mask=writes, sem="relaxed")
        if POSITION_GRADIENT:
            values = tl.load(tables_ptr + corner_rows, mask=writes, other=0.0)
            along = tl.sum(values.to(tl.float32) * grad, axis=1)  # [BLOCK] dL/dweight of this corner
            wx, wy, wz = corner_axis_weights(fx, fy, fz, corner)
            # d(wx)/d(fx) is +1 on the far side of the cell along x, -1 on the near side; likewise y and z.
            grad_x += along * (wy * wz) * (2.0 * ((corner >> 2) & 1) - 1.0)
            grad_y += along * (wx * wz) * (2.0 * ((corner >> 1) & 1) - 1.0)
            grad_z += along * (wx * wy) * (2.0 * (corner & 1) - 1.0)
    if POSITION_GRADIENT:
        scale = (side - 1).to(tl.float32)  # the level's resolution
        moved = in_range & inside
        tl.atomic_add(grad_positions_ptr + samples * 3 + 0, grad_x * scale, mask=moved, sem="relaxed")
        tl.atomic_add(grad_positions_ptr + samples * 3 + 1, grad_y * scale, mask=moved, sem="relaxed")
        tl.atomic_add(grad_positions_ptr + samples * 3 + 2, grad_z * scale, mask=moved, sem="relaxed")
