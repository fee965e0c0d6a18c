"""The cells of the occupancy grid that the training rays have lately seen: reached by a ray, under its frame's
expression, with more than half of the ray's light still left.

Every surface some training frame shows lies in such a cell, however thin it is and however few frames show it
(a brow, an iris between open lids, the inside of an open mouth). The cells no training ray has reached lately
are those behind what every frame shows: the space the hidden-density term is for (`hidden_density.py`). A cell
and its neighbours count as seen for `window` steps after the last ray that saw it, so that the cells every ray
crossed while the field was still a haze, early in training, become unseen once surfaces stand in front of them.
"""

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from nerfblend_ns.rendering.occupancy_ray_marching import grid_cells, grown_by_one_cell

SEEN_TRANSMITTANCE = 0.5
"""A sample sees its cell when its ray's transmittance up to it is over this: in front of or at the first surface."""


class SeenCells(torch.nn.Module):
    """Per cell of a grid of `shape` over `aabb` (min xyz, max xyz), the last training step at which a ray saw it.

    The steps are not saved with the model: a resumed run sees the cells again within `window` steps.
    """

    def __init__(self, shape: tuple[int, int, int], aabb: Float[Tensor, "6"], window: int) -> None:
        super().__init__()
        if window < 1:
            raise ValueError(f"seen cells: a window of {window} steps; it must be at least 1")
        self.window = window
        self.register_buffer("aabb", aabb.clone(), persistent=False)
        # Never seen: older than any window at step 0.
        self.register_buffer("last_seen", torch.full(shape, -window - 1, dtype=torch.int64), persistent=False)

    @torch.no_grad()
    def observe(self, step: int, positions: Float[Tensor, "s 3"], transmittance: Float[Tensor, "s"]) -> None:
        """Marks the cells of the samples at `positions` whose rays' transmittance up to them is over a half."""
        cells, inside = grid_cells(self.last_seen.shape, self.aabb, positions[transmittance > SEEN_TRANSMITTANCE])
        cells = cells[inside]
        self.last_seen[cells[:, 0], cells[:, 1], cells[:, 2]] = step

    def unseen_cells(self, step: int) -> Bool[Tensor, "x y z"]:
        """Cells that neither they nor a neighbour (of the 26) have been seen by a ray in the `window` steps up to
        `step`."""
        # A surface crosses cells obliquely: the cell behind the one a ray saw it in can hold the surface's far side.
        # Without the neighbours, the term cut the head's surfaces along cell boundaries (dark contour lines on the
        # small configuration's synthetic head).
        return ~grown_by_one_cell(self.last_seen >= step - self.window)

    def unseen(self, step: int, points: Float[Tensor, "n 3"]) -> Bool[Tensor, "n"]:
        """Whether each point lies in one of the `unseen_cells` (False outside the grid)."""
        cells, inside = grid_cells(self.last_seen.shape, self.aabb, points)
        return inside & self.unseen_cells(step)[cells[:, 0], cells[:, 1], cells[:, 2]]
