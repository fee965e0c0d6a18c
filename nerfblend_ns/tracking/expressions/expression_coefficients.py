"""Expression coefficients from MediaPipe's blendshape scores: naming, and dimensions a clip never moves."""

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

NEUTRAL_NAME = "_neutral"
"""MediaPipe's score for 'no expression': it is not an expression basis, so it is dropped."""


@dataclass(frozen=True)
class ExpressionTable:
    """Per-frame expression coefficients and their names."""

    names: List[str]
    values: np.ndarray
    """[N, K] coefficients of the tracked frames."""

    def keep(self, columns: Sequence[int]) -> "ExpressionTable":
        return ExpressionTable(names=[self.names[c] for c in columns], values=self.values[:, list(columns)])


def from_blendshapes(names: Sequence[str], scores: np.ndarray) -> ExpressionTable:
    """Coefficient table from blendshape names [52] and scores [N, 52], without '_neutral'."""
    columns = [index for index, name in enumerate(names) if name != NEUTRAL_NAME]
    return ExpressionTable(names=[names[c] for c in columns], values=scores[:, columns])


def coefficient_ranges(table: ExpressionTable) -> np.ndarray:
    """Max − min [K] of each coefficient over the frames."""
    return table.values.max(axis=0) - table.values.min(axis=0)


def static_columns(table: ExpressionTable, min_range: float) -> List[int]:
    """Columns whose coefficient moves by less than min_range over the clip."""
    return [int(column) for column in np.nonzero(coefficient_ranges(table) < min_range)[0]]
