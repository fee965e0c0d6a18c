"""Perceptual (LPIPS-VGG) loss and metric that work without torchvision's weight download.

- ``load_lpips_vgg(required)`` -> (``LPIPSDistance`` or None, status message)
- ``LPIPSDistance``: frozen LPIPS on images in [0, 1], [B, 3, H, W] -> [B]
- ``python -m nerfblend_ns.perceptual.vgg_weights install``: fetches and converts the backbone
"""

import importlib
from typing import Any

__all__ = ["LPIPSDistance", "load_lpips_vgg", "install", "cache_path"]

_EXPORTS = {
    "LPIPSDistance": "lpips_vgg",
    "load_lpips_vgg": "lpips_vgg",
    "install": "vgg_weights",
    "cache_path": "vgg_weights",
}


def __getattr__(name: str) -> Any:
    # Imported on first use so `python -m nerfblend_ns.perceptual.vgg_weights` does not
    # find its own module already loaded by this package.
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
