"""Names of the unnamed coefficients the tracker may append after the named ones (`--mouth-residual-coefficients`,
`--brow-residual-coefficients`).

Each is a frame's motion of one face part along one principal direction of the motion that the named
coefficients leave unexplained, learned on the clip it was tracked from: its values mean something only for
that clip.
"""

import re

RESIDUAL_PREFIXES = {"mouth": "mouthResidual", "brows": "browResidual"}
"""Name of each face part's residual coefficients before their number (from 1)."""
_RESIDUAL = re.compile(f"({'|'.join(RESIDUAL_PREFIXES.values())})[1-9][0-9]*")


def residual_name(part: str, number: int) -> str:
    """Name of a face part's number-th residual coefficient (from 1)."""
    return f"{RESIDUAL_PREFIXES[part]}{number}"


def is_residual_name(name: str) -> bool:
    """Whether a coefficient is one of the clip's unnamed residual coefficients."""
    return _RESIDUAL.fullmatch(name) is not None
