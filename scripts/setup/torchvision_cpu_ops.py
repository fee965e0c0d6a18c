"""Lets the pure-Python parts of a CUDA-built torchvision import next to a CPU-only torch.

PyPI's torchvision wheels are CUDA builds. Next to the CPU build of torch their compiled ops
(`torchvision/_C.so`) do not load, and `import torchvision` then fails while registering fake
kernels for `torchvision::nms` and `torchvision::qnms`, operators that only the compiled library
would have defined. Every `ns-*` command imports torchvision, although nerfstudio uses none of
those operators. Declaring the two operator schemas before torchvision is imported is enough for
the import to succeed; calling the operators still fails, with torch's own "no kernel" error.

`scripts/install.sh` copies this module into the environment's site-packages together with a
`.pth` line that installs the import hook, and only when `import torchvision` fails there.
"""

import importlib.abc
import sys

_SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
_OPERATORS = ("nms", "qnms")


def _declare_missing_schemas() -> None:
    import torch

    for name in _OPERATORS:
        if not hasattr(torch.ops.torchvision, name):
            torch.library.define(f"torchvision::{name}", _SCHEMA)


class _DeclareBeforeTorchvision(importlib.abc.MetaPathFinder):
    """Runs once, when torchvision is first imported, then leaves the import to the real finders."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "torchvision":
            sys.meta_path.remove(self)
            _declare_missing_schemas()
        return None


def install() -> None:
    if "torchvision" not in sys.modules:
        sys.meta_path.insert(0, _DeclareBeforeTorchvision())
