"""Names of the unnamed coefficients the tracker may append after the named ones (`--mouth-residual-coefficients`).

Each is a frame's lip motion along one principal direction of the motion that the named coefficients leave
unexplained, learned on the clip it was tracked from: its values mean something only for that clip.
"""

import re

RESIDUAL_NAME = "mouthResidual{}"
"""Name of the n-th residual coefficient, from 1."""
_RESIDUAL = re.compile(r"mouthResidual[1-9][0-9]*")


def is_residual_name(name: str) -> bool:
    """Whether a coefficient is one of the clip's unnamed residual coefficients."""
    return _RESIDUAL.fullmatch(name) is not None
