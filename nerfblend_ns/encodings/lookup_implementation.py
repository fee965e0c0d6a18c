"""Which implementation blends and looks up hash-grid tables: the torch reference or the Triton kernels.

``auto`` takes the kernels for CUDA tables of a float type they handle when Triton imports, and
the reference otherwise (CPU, float64, no Triton). ``triton`` insists, and also runs on CPU
tensors under Triton's interpreter (``TRITON_INTERPRET=1``), which is how the kernels are tested
without a GPU.
"""

from functools import lru_cache
from typing import Literal

import torch
from torch import Tensor

LookupImplementation = Literal["auto", "torch", "triton"]

_KERNEL_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@lru_cache(maxsize=None)
def triton_available() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def uses_triton(choice: LookupImplementation, tables: Tensor) -> bool:
    if choice == "torch":
        return False
    if choice == "triton":
        if not triton_available():
            raise ImportError("implementation 'triton' needs the triton package")
        return True
    return tables.is_cuda and tables.dtype in _KERNEL_DTYPES and triton_available()
