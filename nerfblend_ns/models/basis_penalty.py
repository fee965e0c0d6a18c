"""The L1 penalty on the expression basis tables that the authors' code adds to every step's loss.

The paper does not mention it. It pulls each basis H_k (k ≥ 1) towards zero wherever the frames that
use expression k do not need it, so that a coefficient outside the training frames' combinations adds
little that was never seen; the neutral table H_0 stays free.
"""

from jaxtyping import Float
from torch import Tensor


def basis_table_l1(tables: Float[Tensor, "bases p f"]) -> Float[Tensor, ""]:
    """mean |H_k| over every entry of the basis tables k = 1..K of `tables` [K+1, P, F]; H_0 is left out."""
    if tables.dim() != 3 or tables.shape[0] < 2:
        raise ValueError(f"need [K+1, P, F] tables with K ≥ 1 basis tables, got shape {tuple(tables.shape)}")
    return tables[1:].abs().mean()
