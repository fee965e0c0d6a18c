"""Iso-surface of a density field sampled on a regular grid, by marching cubes (paper §4.4)."""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from skimage.measure import marching_cubes

DensityFn = Callable[[torch.Tensor], torch.Tensor]
"""points [N, 3] -> densities [N]."""


@dataclass
class Mesh:
    """A triangle mesh; faces index vertices counter-clockwise seen from outside."""

    vertices: np.ndarray  # [V, 3] float32
    faces: np.ndarray  # [F, 3] int64


@dataclass
class DensityGrid:
    """Densities at the nodes of a regular grid spanning [box_min, box_max]."""

    values: np.ndarray  # [R, R, R] float32, indexed x, y, z
    box_min: np.ndarray  # [3]
    box_max: np.ndarray  # [3]

    @property
    def spacing(self) -> np.ndarray:
        return (self.box_max - self.box_min) / (np.array(self.values.shape) - 1)


@torch.no_grad()
def sample_density(
    density: DensityFn, box_min: np.ndarray, box_max: np.ndarray, resolution: int, chunk: int, device: torch.device
) -> DensityGrid:
    """`resolution`³ densities over the box, evaluated `chunk` points at a time."""
    axes = [torch.linspace(float(lo), float(hi), resolution, device=device) for lo, hi in zip(box_min, box_max)]
    points = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)  # [R³, 3]
    values = torch.cat([density(points[start : start + chunk]).reshape(-1) for start in range(0, points.shape[0], chunk)])
    return DensityGrid(
        values.reshape(resolution, resolution, resolution).float().cpu().numpy(),
        np.asarray(box_min, dtype=np.float64), np.asarray(box_max, dtype=np.float64),
    )


def iso_surface(grid: DensityGrid, threshold: float) -> Mesh:
    """The surface where the density crosses `threshold`; empty where it never does.

    The grid is padded with one layer far below the threshold, so that a surface reaching the box's
    faces is closed there, a hair outside them, instead of left open.
    """
    values = grid.values
    if not values.size or values.max() < threshold:
        return Mesh(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64))
    padded = np.pad(values, 1, constant_values=threshold - 1e4 * (float(values.max()) - threshold + 1.0))
    vertices, faces, _, _ = marching_cubes(padded, level=threshold, spacing=tuple(grid.spacing))
    vertices = vertices - grid.spacing + grid.box_min  # undo the padding layer
    # scikit-image orients faces towards increasing values (inwards for a density): flip them outwards.
    return Mesh(vertices.astype(np.float32), faces[:, ::-1].astype(np.int64))
