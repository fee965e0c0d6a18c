"""Triton kernel that renders rays of the blended field in one pass: march, encode, decode, composite.

A program owns ``BLOCK`` rays and walks them front to back together. Each round every live ray
first steps over candidates in empty occupancy cells, then the block evaluates the field at one
candidate per live ray (hash-grid lookup in that ray's blended table, density MLP, spherical
harmonics, colour MLP, as tensor-core matrix products on the block) and composites it. A ray
leaves when its transmittance drops under ``early_stop_eps`` or its candidates run out.

The arithmetic is that of the torch path, one candidate per round: candidates as
``march_rays_reference`` places them (``t_near + k·step``, midpoint in an occupied cell, before
``t_far``), shading as ``render_front_to_back`` with windows of one (a sample with α under the
threshold neither colours nor attenuates). Intermediate sample lists never exist in memory.
"""

import triton
import triton.language as tl

from nerfblend_ns.encodings.triton_hash_kernels import cell_and_fraction, corner_row_and_weight

SH_COMPONENTS = 16
"""View-encoding width of the kernel: four spherical-harmonics levels; fewer levels have zero weight rows."""
RGB_COLUMNS = 16
"""Output width of the last colour layer (3 used): a matrix product needs at least 16 columns."""
_SH_COMPONENTS = tl.constexpr(SH_COMPONENTS)
_RGB_COLUMNS = tl.constexpr(RGB_COLUMNS)


@triton.jit
def _weights(weight_ptr, first_row, K: tl.constexpr, N: tl.constexpr):
    """Rows first_row … first_row + K of a row-major [*, N] matrix."""
    rows = first_row + tl.arange(0, K)
    return tl.load(weight_ptr + rows[:, None] * N + tl.arange(0, N)[None, :])


@triton.jit
def _linear(x, weight_ptr, bias_ptr, K: tl.constexpr, N: tl.constexpr, RELU: tl.constexpr,
            INPUT_PRECISION: tl.constexpr):
    """x [BLOCK, K] @ W [K, N] + b [N], the product in the weights' dtype with float32 accumulation."""
    n = tl.arange(0, N)
    weight = _weights(weight_ptr, 0, K, N)
    y = tl.dot(x.to(weight.dtype), weight, input_precision=INPUT_PRECISION) + tl.load(bias_ptr + n)[None, :]
    if RELU:
        y = tl.maximum(y, 0.0)
    return y


@triton.jit
def _sh_components(dx, dy, dz):
    """[BLOCK, 16] real spherical harmonics of levels 0-3 of unit directions, in nerfstudio's order."""
    column = tl.arange(0, _SH_COMPONENTS)[None, :]
    x = dx[:, None]
    y = dy[:, None]
    z = dz[:, None]
    xx, yy, zz = x * x, y * y, z * z
    out = tl.where(column == 0, 0.28209479177387814, 0.0) + 0.0 * x
    out += tl.where(column == 1, 0.4886025119029199 * y, 0.0)
    out += tl.where(column == 2, 0.4886025119029199 * z, 0.0)
    out += tl.where(column == 3, 0.4886025119029199 * x, 0.0)
    out += tl.where(column == 4, 1.0925484305920792 * x * y, 0.0)
    out += tl.where(column == 5, 1.0925484305920792 * y * z, 0.0)
    out += tl.where(column == 6, 0.9461746957575601 * zz - 0.31539156525251999, 0.0)
    out += tl.where(column == 7, 1.0925484305920792 * x * z, 0.0)
    out += tl.where(column == 8, 0.5462742152960396 * (xx - yy), 0.0)
    out += tl.where(column == 9, 0.5900435899266435 * y * (3 * xx - yy), 0.0)
    out += tl.where(column == 10, 2.890611442640554 * x * y * z, 0.0)
    out += tl.where(column == 11, 0.4570457994644658 * y * (5 * zz - 1), 0.0)
    out += tl.where(column == 12, 0.3731763325901154 * z * (5 * zz - 3), 0.0)
    out += tl.where(column == 13, 0.4570457994644658 * x * (5 * zz - 1), 0.0)
    out += tl.where(column == 14, 1.445305721320277 * z * (xx - yy), 0.0)
    out += tl.where(column == 15, 0.5900435899266435 * x * (xx - 3 * yy), 0.0)
    return out


@triton.jit
def _occupied(grid_ptr, lx, ly, lz, hx, hy, hz, px, py, pz, live,
              GRID_X: tl.constexpr, GRID_Y: tl.constexpr, GRID_Z: tl.constexpr):
    """Whether each point lies in an occupied cell of the [X, Y, Z] uint8 grid spanning the box (``occupied``)."""
    cx = tl.floor((px - lx) / (hx - lx) * GRID_X).to(tl.int32)
    cy = tl.floor((py - ly) / (hy - ly) * GRID_Y).to(tl.int32)
    cz = tl.floor((pz - lz) / (hz - lz) * GRID_Z).to(tl.int32)
    inside = (cx >= 0) & (cx < GRID_X) & (cy >= 0) & (cy < GRID_Y) & (cz >= 0) & (cz < GRID_Z)
    cell = (cx * GRID_Y + cy) * GRID_Z + cz
    return tl.load(grid_ptr + cell, mask=live & inside, other=0) != 0


@triton.jit
def _encode_into_first_layer(
    tables_ptr, table_start, ux, uy, uz, live, levels_ptr, w_in, b_in,
    LEVELS: tl.constexpr, FEATURES: tl.constexpr, WIDTH: tl.constexpr, LEVEL_GROUP: tl.constexpr,
    BLOCK: tl.constexpr, INPUT_PRECISION: tl.constexpr,
):
    """ReLU(features · W_in + b_in) [BLOCK, WIDTH] of unit-cube points (features zero outside the cube).

    The [BLOCK, LEVELS·FEATURES] features are never held at once: each group of LEVEL_GROUP levels is
    interpolated and multiplied by its rows of W_in, which keeps the corner values in registers small."""
    inside = live & (ux >= 0.0) & (ux <= 1.0) & (uy >= 0.0) & (uy <= 1.0) & (uz >= 0.0) & (uz <= 1.0)
    feature = tl.arange(0, FEATURES)[None, None, :]
    h = tl.zeros([BLOCK, WIDTH], tl.float32)
    for group in tl.static_range(LEVELS // LEVEL_GROUP):
        level = group * LEVEL_GROUP + tl.arange(0, LEVEL_GROUP)
        resolution = tl.load(levels_ptr + level * 4 + 0)[None, :]
        first_row = tl.load(levels_ptr + level * 4 + 1)[None, :]
        hash_mask = (tl.load(levels_ptr + level * 4 + 2) - 1).to(tl.uint32)[None, :]
        dense = (tl.load(levels_ptr + level * 4 + 3) != 0)[None, :]
        cx, fx = cell_and_fraction(ux[:, None], resolution)  # [BLOCK, LEVEL_GROUP] each
        cy, fy = cell_and_fraction(uy[:, None], resolution)
        cz, fz = cell_and_fraction(uz[:, None], resolution)
        level_start = table_start[:, None] + first_row  # [BLOCK, LEVEL_GROUP]
        total = tl.zeros([BLOCK, LEVEL_GROUP, FEATURES], tl.float32)
        for corner in tl.static_range(8):
            row, weight = corner_row_and_weight(cx, cy, cz, fx, fy, fz, resolution + 1, hash_mask, dense, corner)
            values = tl.load(
                tables_ptr + (level_start + row)[:, :, None] * FEATURES + feature, mask=inside[:, None, None], other=0.0
            )
            total += weight[:, :, None] * values.to(tl.float32)
        weight_rows = _weights(w_in, group * LEVEL_GROUP * FEATURES, LEVEL_GROUP * FEATURES, WIDTH)
        features = tl.reshape(total, (BLOCK, LEVEL_GROUP * FEATURES))
        h += tl.dot(features.to(weight_rows.dtype), weight_rows, input_precision=INPUT_PRECISION)
    return tl.maximum(h + tl.load(b_in + tl.arange(0, WIDTH))[None, :], 0.0)


@triton.jit
def _density(h, w_hidden, b_hidden, w_geometry, b_geometry, w_sigma, b_sigma,
             WIDTH: tl.constexpr, HIDDEN: tl.constexpr, GEOMETRY: tl.constexpr, INPUT_PRECISION: tl.constexpr):
    """(density [BLOCK], geometry features [BLOCK, GEOMETRY]) from the density MLP's first activations `h`."""
    for layer in tl.static_range(HIDDEN):
        h = _linear(h, w_hidden + layer * WIDTH * WIDTH, b_hidden + layer * WIDTH, WIDTH, WIDTH, True, INPUT_PRECISION)
    raw = tl.sum(h * tl.load(w_sigma + tl.arange(0, WIDTH))[None, :], axis=1) + tl.load(b_sigma)
    # softplus as torch computes it (linear above 20)
    density = tl.where(raw > 20.0, raw, tl.log(1.0 + tl.exp(tl.minimum(raw, 20.0))))
    return density, _linear(h, w_geometry, b_geometry, WIDTH, GEOMETRY, False, INPUT_PRECISION)


@triton.jit
def _colour(geometry, dx, dy, dz, w_view, w_color_geometry, b_color_in, w_color_hidden, b_color_hidden, w_rgb, b_rgb,
            GEOMETRY: tl.constexpr, COLOR_WIDTH: tl.constexpr, COLOR_HIDDEN: tl.constexpr, INPUT_PRECISION: tl.constexpr):
    """(r, g, b) [BLOCK] each: the colour MLP on SH(view direction) and the geometry features."""
    norm = tl.sqrt(dx * dx + dy * dy + dz * dz)
    norm = tl.maximum(norm, 1e-12)
    view = _sh_components(dx / norm, dy / norm, dz / norm)
    c = _linear(geometry, w_color_geometry, b_color_in, GEOMETRY, COLOR_WIDTH, False, INPUT_PRECISION)
    view_weight = _weights(w_view, 0, _SH_COMPONENTS, COLOR_WIDTH)
    c = tl.maximum(c + tl.dot(view.to(view_weight.dtype), view_weight, input_precision=INPUT_PRECISION), 0.0)
    for layer in tl.static_range(COLOR_HIDDEN):
        c = _linear(c, w_color_hidden + layer * COLOR_WIDTH * COLOR_WIDTH, b_color_hidden + layer * COLOR_WIDTH,
                    COLOR_WIDTH, COLOR_WIDTH, True, INPUT_PRECISION)
    logits = _linear(c, w_rgb, b_rgb, COLOR_WIDTH, _RGB_COLUMNS, False, INPUT_PRECISION)
    rgb = 1.0 / (1.0 + tl.exp(-logits))
    column = tl.arange(0, _RGB_COLUMNS)[None, :]
    red = tl.sum(tl.where(column == 0, rgb, 0.0), axis=1)
    green = tl.sum(tl.where(column == 1, rgb, 0.0), axis=1)
    blue = tl.sum(tl.where(column == 2, rgb, 0.0), axis=1)
    return red, green, blue


@triton.jit
def _candidate(t_near, step, k, ox, oy, oz, dx, dy, dz):
    """Start, end and midpoint of candidate k of each ray, and the midpoint's position."""
    start = t_near + step * k.to(tl.float32)
    end = start + step
    mid = (start + end) / 2
    return start, end, mid, ox + dx * mid, oy + dy * mid, oz + dz * mid


@triton.jit
def render_rays_kernel(
    origins_ptr, directions_ptr, table_index_ptr, num_rays,
    tables_ptr, rows_per_table, levels_ptr, field_box_ptr,
    grid_ptr, grid_box_ptr,
    w_in, b_in, w_hidden, b_hidden, w_geometry, b_geometry, w_sigma, b_sigma,
    w_view, w_color_geometry, b_color_in, w_color_hidden, b_color_hidden, w_rgb, b_rgb,
    premultiplied_ptr, opacity_ptr, depth_ptr, evaluated_ptr,
    step, near_plane, far_plane, alpha_threshold, early_stop_eps,
    GRID_X: tl.constexpr, GRID_Y: tl.constexpr, GRID_Z: tl.constexpr,
    LEVELS: tl.constexpr, FEATURES: tl.constexpr, LEVEL_GROUP: tl.constexpr, WIDTH: tl.constexpr, HIDDEN: tl.constexpr,
    GEOMETRY: tl.constexpr, COLOR_WIDTH: tl.constexpr, COLOR_HIDDEN: tl.constexpr,
    INPUT_PRECISION: tl.constexpr, BLOCK: tl.constexpr,
):
    rays = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    valid = rays < num_rays
    ox = tl.load(origins_ptr + rays * 3 + 0, mask=valid, other=0.0)
    oy = tl.load(origins_ptr + rays * 3 + 1, mask=valid, other=0.0)
    oz = tl.load(origins_ptr + rays * 3 + 2, mask=valid, other=0.0)
    dx = tl.load(directions_ptr + rays * 3 + 0, mask=valid, other=1.0)
    dy = tl.load(directions_ptr + rays * 3 + 1, mask=valid, other=1.0)
    dz = tl.load(directions_ptr + rays * 3 + 2, mask=valid, other=1.0)
    # int32 offsets (the wrapper checks the tables' size) keep the gathers' address arithmetic narrow.
    table_start = tl.load(table_index_ptr + rays, mask=valid, other=0).to(tl.int32) * rows_per_table
    lx, ly, lz = tl.load(grid_box_ptr + 0), tl.load(grid_box_ptr + 1), tl.load(grid_box_ptr + 2)
    hx, hy, hz = tl.load(grid_box_ptr + 3), tl.load(grid_box_ptr + 4), tl.load(grid_box_ptr + 5)
    fx, fy, fz = tl.load(field_box_ptr + 0), tl.load(field_box_ptr + 1), tl.load(field_box_ptr + 2)
    fsx, fsy, fsz = tl.load(field_box_ptr + 3) - fx, tl.load(field_box_ptr + 4) - fy, tl.load(field_box_ptr + 5) - fz

    # Where each ray enters and leaves the grid's box (``ray_box_interval``), within the planes.
    sx = tl.where(tl.abs(dx) < 1e-12, 1e-12, dx)
    sy = tl.where(tl.abs(dy) < 1e-12, 1e-12, dy)
    sz = tl.where(tl.abs(dz) < 1e-12, 1e-12, dz)
    x0, x1 = (lx - ox) / sx, (hx - ox) / sx
    y0, y1 = (ly - oy) / sy, (hy - oy) / sy
    z0, z1 = (lz - oz) / sz, (hz - oz) / sz
    t_near = tl.maximum(tl.maximum(tl.minimum(x0, x1), tl.minimum(y0, y1)), tl.minimum(z0, z1))
    t_far = tl.minimum(tl.minimum(tl.maximum(x0, x1), tl.maximum(y0, y1)), tl.maximum(z0, z1))
    t_near = tl.maximum(t_near, near_plane)
    t_far = tl.minimum(t_far, far_plane)

    k = tl.zeros([BLOCK], tl.int32)
    transmittance = tl.full([BLOCK], 1.0, tl.float32)
    red = tl.zeros([BLOCK], tl.float32)
    green = tl.zeros([BLOCK], tl.float32)
    blue = tl.zeros([BLOCK], tl.float32)
    opacity = tl.zeros([BLOCK], tl.float32)
    weighted_t = tl.zeros([BLOCK], tl.float32)
    evaluated = tl.zeros([BLOCK], tl.int32)
    start, end, mid, px, py, pz = _candidate(t_near, step, k, ox, oy, oz, dx, dy, dz)
    live = valid & (mid < t_far)
    while tl.max(live.to(tl.int32), axis=0) > 0:
        # Step over candidates in empty cells; a ray whose candidates run out leaves.
        seeking = live & ~_occupied(grid_ptr, lx, ly, lz, hx, hy, hz, px, py, pz, live, GRID_X, GRID_Y, GRID_Z)
        while tl.max(seeking.to(tl.int32), axis=0) > 0:
            k = tl.where(seeking, k + 1, k)
            start, end, mid, px, py, pz = _candidate(t_near, step, k, ox, oy, oz, dx, dy, dz)
            live = live & (mid < t_far)
            seeking = live & ~_occupied(grid_ptr, lx, ly, lz, hx, hy, hz, px, py, pz, live, GRID_X, GRID_Y, GRID_Z)

        h = _encode_into_first_layer(
            tables_ptr, table_start, (px - fx) / fsx, (py - fy) / fsy, (pz - fz) / fsz, live, levels_ptr, w_in, b_in,
            LEVELS, FEATURES, WIDTH, LEVEL_GROUP, BLOCK, INPUT_PRECISION,
        )
        density, geometry = _density(
            h, w_hidden, b_hidden, w_geometry, b_geometry, w_sigma, b_sigma, WIDTH, HIDDEN, GEOMETRY, INPUT_PRECISION
        )
        optical_depth = density * (end - start)
        kept = live & (1.0 - tl.exp(-optical_depth) >= alpha_threshold)
        # Computed for every round: skipping it in rounds where no sample is kept made the compiler spill registers.
        r, g, b = _colour(
            geometry, dx, dy, dz, w_view, w_color_geometry, b_color_in, w_color_hidden, b_color_hidden, w_rgb,
            b_rgb, GEOMETRY, COLOR_WIDTH, COLOR_HIDDEN, INPUT_PRECISION,
        )
        optical_depth = tl.where(kept, optical_depth, 0.0)
        # Lanes of finished rays computed garbage (NaN for a NaN ray): only kept samples add up.
        weight = tl.where(kept, transmittance * (1.0 - tl.exp(-optical_depth)), 0.0)
        r = tl.where(kept, r, 0.0)
        g = tl.where(kept, g, 0.0)
        b = tl.where(kept, b, 0.0)
        mid = tl.where(kept, mid, 0.0)
        red += weight * r
        green += weight * g
        blue += weight * b
        opacity += weight
        weighted_t += weight * mid
        transmittance = transmittance * tl.exp(-optical_depth)
        evaluated += live.to(tl.int32)

        k = tl.where(live, k + 1, k)
        start, end, mid, px, py, pz = _candidate(t_near, step, k, ox, oy, oz, dx, dy, dz)
        live = live & (transmittance >= early_stop_eps) & (mid < t_far)

    tl.store(premultiplied_ptr + rays * 3 + 0, red, mask=valid)
    tl.store(premultiplied_ptr + rays * 3 + 1, green, mask=valid)
    tl.store(premultiplied_ptr + rays * 3 + 2, blue, mask=valid)
    tl.store(opacity_ptr + rays, opacity, mask=valid)
    tl.store(depth_ptr + rays, weighted_t / tl.maximum(opacity, 1e-6), mask=valid)
    tl.store(evaluated_ptr + rays, evaluated, mask=valid)
