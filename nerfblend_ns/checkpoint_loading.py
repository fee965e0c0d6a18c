"""Lets nerfstudio's checkpoints load under torch ≥ 2.6, where `torch.load` defaults to `weights_only`.

nerfstudio's schedulers leave numpy scalars in their state dicts, which the weights-only unpickler
refuses, so `ns-eval`, `ns-render`, `ns-viewer` and resuming a run fail. Allowing exactly those
numpy types keeps the safe loader (no arbitrary code from a checkpoint) and needs no environment
variable.
"""

import numpy as np
import torch


def allow_numpy_scalars_in_checkpoints() -> None:
    add_safe_globals = getattr(torch.serialization, "add_safe_globals", None)
    if add_safe_globals is None:
        return
    try:  # numpy 2 renamed numpy.core to numpy._core
        from numpy._core.multiarray import scalar
    except ImportError:
        from numpy.core.multiarray import scalar
    dtype_classes = [type(np.dtype(name)) for name in ("float64", "float32", "int64", "int32", "bool")]
    add_safe_globals([scalar, np.dtype, *dtype_classes])
