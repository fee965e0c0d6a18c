"""Conversions of json values to arrays, with checks whose errors say where the value was."""

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from nerfblend_ns.dataparsers.tracked_sequence import Rect
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

RIGIDITY_TOLERANCE = 1e-3
"""Largest accepted deviation of RᵀR from the identity (tracked poses are stored as text floats)."""
COEFFICIENT_BOUND = 1e3
"""Largest accepted |expression coefficient|. MediaPipe's blendshape scores lie in [0, 1]; FLAME,
Face2Face and FaceWarehouse coefficients of tracked faces are a few units. A thousand leaves any
tracker's scale room (or a rescaled one) while refusing the overflows and sentinel values (1e30,
-9999) that would otherwise become a coefficient's training range and flatten every other frame's."""


def finite_array(value: Any, shape: tuple, path: Path, where: str) -> np.ndarray:
    """`value` as float64 of `shape`. Only numbers count: numpy would read "0.5" or true as one, which in a
    file means a mistaken edit rather than a value."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise WorkspaceError(path, f"{where} is not numeric") from None
    if array.dtype.kind not in "iuf" or not _numbers_only(value):
        raise WorkspaceError(path, f"{where} is not numeric (it holds strings, booleans or null; write numbers)")
    array = array.astype(np.float64)
    if array.shape != shape:
        expected = "×".join(str(n) for n in shape)
        raise WorkspaceError(path, f"{where} has shape {list(array.shape)}, expected {expected}")
    if not np.all(np.isfinite(array)):
        raise WorkspaceError(path, f"{where} contains NaN or infinite values")
    return array


def _numbers_only(value: Any) -> bool:
    """No string, boolean or null anywhere in `value` (numpy turns [0.5, true] into [0.5, 1.0])."""
    if isinstance(value, (list, tuple)):
        return all(_numbers_only(item) for item in value)
    return isinstance(value, (int, float, np.number, np.ndarray)) and not isinstance(value, (bool, np.bool_))


def rigid_transform(value: Any, path: Path, where: str) -> np.ndarray:
    matrix = finite_array(value, (4, 4), path, where)  # [4, 4]
    rotation = matrix[:3, :3]
    if not np.allclose(matrix[3], [0.0, 0.0, 0.0, 1.0], atol=RIGIDITY_TOLERANCE):
        raise WorkspaceError(path, f"{where} is not rigid: its last row is {matrix[3].tolist()}, expected [0, 0, 0, 1]")
    error = np.abs(rotation.T @ rotation - np.eye(3)).max()
    if error > RIGIDITY_TOLERANCE or np.linalg.det(rotation) < 0:
        raise WorkspaceError(
            path, f"{where} is not rigid: its rotation is not orthonormal with determinant +1 (|RᵀR − I| = {error:.3g})"
        )
    return matrix


def optional_rect(value: Any, path: Path, where: str) -> Optional[Rect]:
    if value is None:
        return None
    x0, y0, x1, y1 = finite_array(value, (4,), path, where).tolist()
    if x1 <= x0 or y1 <= y0:
        raise WorkspaceError(path, f"{where} is empty: [{x0}, {y0}, {x1}, {y1}] needs x1 > x0 and y1 > y0")
    return (x0, y0, x1, y1)


def positive_number(value: Any, path: Path, where: str) -> float:
    number = float(finite_array(value, (), path, where))
    if number <= 0:
        raise WorkspaceError(path, f"{where} must be positive, got {number}")
    return number


def positive_whole_number(value: Any, path: Path, where: str) -> int:
    """A count of pixels: positive and whole (a fraction would be truncated without a word)."""
    number = positive_number(value, path, where)
    if not number.is_integer():
        raise WorkspaceError(path, f"{where} must be a whole number of pixels, got {number}")
    return int(number)


def distinct_names(names: Sequence[str], path: Path) -> None:
    """Refuses an empty or repeated coefficient name: the commands, the viewer and a driving sequence
    address coefficients by name, so a repeated one could not be told apart."""
    empty = [index for index, name in enumerate(names) if not name.strip()]
    if empty:
        raise WorkspaceError(path, f"expression name {empty[0]} is empty; give every coefficient a name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise WorkspaceError(path, f"expression names repeat ({', '.join(repeated)}); each coefficient needs a name of its own")


def plausible_coefficients(expression: np.ndarray, path: Path, where: str) -> np.ndarray:
    """`expression` [K], refused where a coefficient lies beyond ±COEFFICIENT_BOUND."""
    beyond = np.flatnonzero(np.abs(expression) > COEFFICIENT_BOUND)
    if beyond.size:
        index = int(beyond[0])
        raise WorkspaceError(
            path, f"{where} expression coefficient {index} is {expression[index]:.6g}, beyond ±{COEFFICIENT_BOUND:g} "
            f"(tracked coefficients are a few units at most); fix or drop this frame",
        )
    return expression
