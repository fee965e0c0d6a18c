"""Rendering rays of a `NerfBlendField` with the fused Triton kernel (`triton_render_kernel`).

The torch path (`torch_rendering.render_rays_torch`, same signature) is the reference and what runs
where the kernel cannot: on CPU, for other fields, for decoders whose sizes a tensor-core product cannot
take. Here the decoder's weights are laid out as
the kernel reads them, and the kernel is launched over the rays.
"""

import weakref
from typing import Optional, Tuple

import torch
from jaxtyping import Bool, Float, Int
from nerfstudio.field_components.mlp import MLP
from torch import Tensor, nn

from nerfblend_ns.fields.nerfblend_field import NerfBlendField
from nerfblend_ns.rendering.packed_volume_rendering import RenderedRays
from nerfblend_ns.rendering.ray_order import coherent_order
from nerfblend_ns.rendering.render_settings import RenderSettings

RAYS_PER_PROGRAM = 16
"""Rays a program walks together; its field evaluations are [16, width] matrix products."""
WARPS_PER_PROGRAM = 1
"""One warp per program needs no barriers between warps; of the launch shapes measured on an H100 (README,
Speed) 16 rays × 1 warp was the fastest, 32 × 1, 16 × 2 and 64 × 2 took 1.6-1.7× as long. Triton multiplies
with mma.sync below a warp group of 4 (its wgmma code for this kernel read out of bounds, Triton 3.6, float16)."""
LEVEL_GROUP_COLUMNS = 32
"""Feature columns (levels × features) interpolated at a time before their product with the first layer:
8 levels of 4 ran 13 % faster than 4 of 4."""
MIN_WIDTH = 16
"""Narrowest side of a tensor-core product."""


def _power_of_two(value: int) -> bool:
    return value >= 1 and value & (value - 1) == 0


def _plain_relu_mlp(mlp: nn.Module, out_activation: Optional[type]) -> bool:
    if not isinstance(mlp, MLP) or getattr(mlp, "tcnn_encoding", None) is not None or mlp._skip_connections:
        return False
    if not isinstance(mlp.activation, nn.ReLU) or len(mlp.layers) < 2:
        return False
    return out_activation is None if mlp.out_activation is None else isinstance(mlp.out_activation, out_activation)


def unsupported_reason(field: nn.Module) -> Optional[str]:
    """Why the kernel cannot render `field` (None: it can)."""
    if not isinstance(field, NerfBlendField):
        return f"{type(field).__name__} is not a blended hash-grid field"
    if not _plain_relu_mlp(field.density_mlp, None) or not _plain_relu_mlp(field.color_mlp, nn.Sigmoid):
        return "the decoder is not two torch ReLU MLPs of at least two layers (density, then sigmoid colour)"
    encoding = field.encoding
    levels, features = encoding.layout.num_levels, encoding.features_per_level
    if not (_power_of_two(levels) and _power_of_two(features) and levels * features >= MIN_WIDTH):
        return f"{levels} levels × {features} features: both must be powers of two, with at least {MIN_WIDTH} in all"
    widths = {
        "density width": field.density_mlp.layer_width,
        "geometry features": field.geometry_features,
        "colour width": field.color_mlp.layer_width,
    }
    for name, width in widths.items():
        if not (_power_of_two(width) and width >= MIN_WIDTH):
            return f"{name} {width} is not a power of two of at least {MIN_WIDTH}"
    if field.sh_levels > 4:
        return f"{field.sh_levels} spherical-harmonics levels (the kernel has 4)"
    if field.color_mlp.out_dim != 3:
        return "the colour MLP does not output RGB"
    return None


def _stacked(layers, width: int, dtype: torch.dtype, device: torch.device) -> Tuple[Tensor, Tensor]:
    """Hidden layers as [n, in, out] weights and [n, out] biases; one zero layer stands in for none."""
    if not layers:
        return torch.zeros(1, width, width, dtype=dtype, device=device), torch.zeros(1, width, device=device)
    weights = torch.stack([layer.weight.t() for layer in layers]).to(dtype).contiguous()
    return weights, torch.stack([layer.bias for layer in layers]).float().contiguous()


def _owned(values: Tensor, dtype: torch.dtype) -> Tensor:
    """A contiguous copy, never a view of a parameter: the cache of kernel weights writes into it."""
    return values.to(dtype=dtype, memory_format=torch.contiguous_format, copy=True)


def kernel_weights(field: NerfBlendField, dtype: torch.dtype) -> Tuple[Tensor, ...]:
    """The decoder's parameters in the kernel's argument order (w_in … b_rgb): weights as [in, out] in
    `dtype`, biases and the density row in float32, the view rows padded to 16, the RGB columns to 16."""
    from nerfblend_ns.rendering.triton_render_kernel import RGB_COLUMNS, SH_COMPONENTS

    density_layers, color_layers = list(field.density_mlp.layers), list(field.color_mlp.layers)
    first, out = density_layers[0], density_layers[-1]
    device = first.weight.device
    w_hidden, b_hidden = _stacked(density_layers[1:-1], field.density_mlp.layer_width, dtype, device)
    color_in, rgb = color_layers[0], color_layers[-1]
    views = field.sh_levels**2
    w_view = torch.zeros(SH_COMPONENTS, color_in.out_features, dtype=dtype, device=device)
    w_view[:views] = color_in.weight[:, :views].t()
    w_color_hidden, b_color_hidden = _stacked(color_layers[1:-1], field.color_mlp.layer_width, dtype, device)
    w_rgb = torch.zeros(rgb.in_features, RGB_COLUMNS, dtype=dtype, device=device)
    w_rgb[:, :3] = rgb.weight.t()
    b_rgb = torch.zeros(RGB_COLUMNS, device=device)
    b_rgb[:3] = rgb.bias
    return (
        _owned(first.weight.t(), dtype), _owned(first.bias, torch.float32),
        w_hidden, b_hidden,
        _owned(out.weight[1:].t(), dtype), _owned(out.bias[1:], torch.float32),
        _owned(out.weight[0], torch.float32), _owned(out.bias[:1], torch.float32),
        w_view, _owned(color_in.weight[:, views:].t(), dtype), _owned(color_in.bias, torch.float32),
        w_color_hidden, b_color_hidden,
        w_rgb, b_rgb,
    )


_KERNEL_WEIGHTS: "weakref.WeakKeyDictionary[NerfBlendField, Tuple[tuple, Tuple[Tensor, ...]]]" = (
    weakref.WeakKeyDictionary()
)
"""Per field: its decoder's parameter versions and `kernel_weights` made from them."""


@torch.no_grad()
def current_kernel_weights(field: NerfBlendField, dtype: torch.dtype) -> Tuple[Tensor, ...]:
    """`kernel_weights`, remade only after a decoder parameter changed (an optimiser step, a loaded
    checkpoint, a move to another device): remaking them is some thirty small operators per render.
    Remade weights of the same shapes are written into the cached tensors, which so keep their addresses
    (a captured CUDA graph reads them there). Changes are seen through the parameters' version counters
    and storage; writes through `.data` bump neither (neither the project nor nerfstudio makes any), so
    code that makes them must call `kernel_weights` itself or write the parameter under `torch.no_grad()`."""
    parameters = list(field.density_mlp.parameters()) + list(field.color_mlp.parameters())
    key = (dtype, *((parameter.data_ptr(), parameter._version) for parameter in parameters))
    cached = _KERNEL_WEIGHTS.get(field)
    if cached is not None and cached[0] == key:
        return cached[1]
    weights = kernel_weights(field, dtype)
    if cached is not None and cached[0][0] == dtype and _same_layout(cached[1], weights):
        torch._foreach_copy_(list(cached[1]), list(weights))
        weights = cached[1]
    _KERNEL_WEIGHTS[field] = (key, weights)
    return weights


def _same_layout(old: Tuple[Tensor, ...], new: Tuple[Tensor, ...]) -> bool:
    return all(a.shape == b.shape and a.device == b.device for a, b in zip(old, new))


@torch.no_grad()
def render_rays_fused(
    field: NerfBlendField,
    tables: Float[Tensor, "b p f"],
    table_index: Int[Tensor, "r"],
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    binary: Bool[Tensor, "x y z"],
    grid_aabb: Float[Tensor, "6"],
    settings: RenderSettings,
    coherent: bool = False,
) -> RenderedRays:
    """Colour, opacity and depth of every ray, each ray shaded in the blended table `tables[table_index]`.

    `settings.half_precision` reads the tables and multiplies in float16 (interpolation and accumulation
    in float32); otherwise all is exact float32. Rays are rendered in `coherent_order` and the results put
    back in the given order, unless they are `coherent` already (a camera's rays in tile order, one table).
    The torch path with the same semantics is `render_rays_torch`.
    """
    reason = unsupported_reason(field)
    if reason is not None:
        raise ValueError(f"the fused renderer cannot render this field: {reason}")
    if tables.numel() >= 2**31:
        raise ValueError(
            f"{tables.shape[0]} blended tables exceed the kernel's int32 offsets; render fewer expressions per batch"
        )
    import triton

    from nerfblend_ns.rendering.triton_render_kernel import render_rays_kernel

    order = None if coherent else coherent_order(directions, table_index)

    def in_launch_order(values: Tensor) -> Tensor:
        return (values if order is None else values[order]).contiguous()

    def in_given_order(values: Tensor) -> Tensor:
        return values if order is None else torch.empty_like(values).index_copy_(0, order, values)

    num_rays, device = origins.shape[0], origins.device
    # The kernel writes every ray.
    premultiplied = torch.empty(num_rays, 3, device=device)
    opacity = torch.empty(num_rays, device=device)
    depth = torch.empty(num_rays, device=device)
    evaluated = torch.empty(num_rays, dtype=torch.int32, device=device)
    if num_rays:
        density_mlp, color_mlp = field.density_mlp, field.color_mlp
        encoding = field.encoding
        levels = encoding.layout.num_levels
        half_precision = settings.half_precision
        render_rays_kernel[(triton.cdiv(num_rays, RAYS_PER_PROGRAM),)](
            in_launch_order(origins.float()), in_launch_order(directions.float()), in_launch_order(table_index),
            num_rays,
            tables.to(torch.float16 if half_precision else tables.dtype).contiguous(), tables.shape[1],
            encoding.level_table, field.aabb.flatten().contiguous(),
            (binary.view(torch.uint8) if binary.dtype == torch.bool else binary.to(torch.uint8)).contiguous(),
            grid_aabb.float().contiguous(),
            *current_kernel_weights(field, torch.float16 if half_precision else torch.float32),
            premultiplied, opacity, depth, evaluated,
            settings.step_size, settings.near_plane, settings.far_plane, settings.alpha_threshold,
            settings.early_stop_eps,
            GRID_X=binary.shape[0], GRID_Y=binary.shape[1], GRID_Z=binary.shape[2],
            LEVELS=levels, FEATURES=encoding.features_per_level,
            LEVEL_GROUP=min(levels, max(1, LEVEL_GROUP_COLUMNS // encoding.features_per_level)),
            WIDTH=density_mlp.layer_width, HIDDEN=len(density_mlp.layers) - 2, GEOMETRY=field.geometry_features,
            COLOR_WIDTH=color_mlp.layer_width, COLOR_HIDDEN=len(color_mlp.layers) - 2,
            INPUT_PRECISION="ieee" if not half_precision else "tf32", BLOCK=RAYS_PER_PROGRAM,
            num_warps=WARPS_PER_PROGRAM,
        )

    return RenderedRays(
        in_given_order(premultiplied), in_given_order(opacity)[:, None], in_given_order(depth)[:, None],
        in_given_order(evaluated).long(),
    )
