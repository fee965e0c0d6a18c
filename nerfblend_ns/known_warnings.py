"""Known third-party warnings that the nerfblend commands keep off the console.

Each one is raised by a library about code we do not own (nerfstudio calling torch's deprecated
APIs, torchmetrics' own imports), says nothing the user can act on, and would bury the progress bars
and results. A filter matches a warning by category, message and the module the warning is
attributed to, so a new warning, or the same deprecation reached from `nerfblend_ns`, still shows.
"""

import sys
import warnings
from typing import NamedTuple, Tuple, Type


class KnownWarning(NamedTuple):
    """One warning to silence; `message` and `module` are regular expressions matched at the start."""

    category: Type[Warning]
    message: str
    module: str


KNOWN_WARNINGS: Tuple[KnownWarning, ...] = (
    # nerfstudio's activations and trainer use torch.cuda.amp's decorators and GradScaler.
    KnownWarning(
        FutureWarning, r"`torch\.cuda\.amp\.(custom_fwd|custom_bwd|GradScaler)\(args\.\.\.\)` is deprecated", r"nerfstudio\."
    ),
    # nerfstudio's Cameras index tensors with lists; torch announces the change of meaning.
    KnownWarning(
        UserWarning, r"Using a non-tuple sequence for multidimensional indexing is deprecated", r"nerfstudio\."
    ),
    # torchmetrics.functional's own imports of its moved functions.
    KnownWarning(FutureWarning, r"Importing `\w+` from `torchmetrics\.functional` was deprecated", r"torchmetrics\."),
    # nerfstudio's tensorboard writer logs the loss dictionary, still attached to the graph, with float().
    KnownWarning(UserWarning, r"Converting a tensor with requires_grad=True to a scalar", r"nerfstudio\.utils\.writer"),
    # nerfstudio's evaluation loaders ask for four workers whatever the machine; torch objects on small ones.
    KnownWarning(UserWarning, r"This DataLoader will create \d+ worker processes in total", r"torch\.utils\.data\."),
)


def silence_known_warnings() -> None:
    """Installs the filters, ahead of the default ones, unless the user chose warning filters (-W,
    PYTHONWARNINGS): then every warning shows as they asked."""
    if sys.warnoptions:
        return
    for known in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=known.message, category=known.category, module=known.module)
