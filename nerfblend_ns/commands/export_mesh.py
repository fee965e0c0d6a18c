"""`nerfblend-export-mesh`: the avatar's surface at one expression, by marching cubes (paper §4.4)."""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
import tyro
from rich.console import Console

from nerfblend_ns.avatar.density_mesh import iso_surface, sample_density
from nerfblend_ns.avatar.expression_density import expression_density
from nerfblend_ns.avatar.loading import AvatarError, load_avatar
from nerfblend_ns.avatar.mesh_files import SUFFIXES, write_mesh
from nerfblend_ns.commands.command_errors import run_reporting_errors
from nerfblend_ns.commands.setting_checks import finite, finite_all, within

CONSOLE = Console()
MAX_RESOLUTION = 1024
"""A 1024³ grid of float32 densities takes 4 GiB; finer grids exceed the memory of most machines."""


@dataclass
class ExportMesh:
    """Extract the iso-surface of the avatar's density at one expression and write it as PLY or OBJ.

    Coordinates are in the tracked workspace's units (metres for nerfblend workspaces), in its head frame.
    """

    load_config: Path
    """config.yml of a trained nerfblend run, as ns-train wrote it (run from the folder ns-train ran in)."""
    output: Path = Path("mesh.ply")
    """Mesh file to write: .ply (binary) or .obj."""
    frame: Optional[int] = None
    """Training frame whose expression to mesh (default: the neutral expression, all coefficients zero)."""
    resolution: int = 256
    """Grid nodes per axis at which the density is sampled."""
    threshold: Optional[float] = None
    """Density σ of the surface (default: ln 2 / render step size, where one marching step is half opaque)."""
    box_min: Optional[Tuple[float, float, float]] = None
    """Lower corner of the box to mesh, in workspace units (default: the model's scene box)."""
    box_max: Optional[Tuple[float, float, float]] = None
    """Upper corner of the box to mesh, in workspace units (default: the model's scene box)."""
    chunk: int = 1 << 18
    """Density queries per batch (bounds memory)."""

    def check_settings(self) -> None:
        """Refuses settings out of range before anything is loaded."""
        within("--resolution", self.resolution, 2, MAX_RESOLUTION)
        finite("--threshold", self.threshold)
        finite_all("--box-min", self.box_min)
        finite_all("--box-max", self.box_max)
        within("--chunk", self.chunk, 1, math.inf)

    def main(self) -> None:
        if self.output.suffix.lower() not in SUFFIXES:
            raise AvatarError(f"{self.output}: the mesh must be {' or '.join(SUFFIXES)}")
        avatar = load_avatar(self.load_config)
        model = avatar.model
        space = model.expression_space
        if self.frame is None:
            coefficients, what = space.neutral(), "the neutral expression"
        elif 0 <= self.frame < space.training_coefficients.shape[0]:
            coefficients, what = space.training_coefficients[self.frame], f"training frame {self.frame}"
        else:
            last = space.training_coefficients.shape[0] - 1
            raise AvatarError(f"--frame {self.frame}: the training split has frames 0 … {last}")
        # Scene units are the workspace's scaled by the dataparser (the head within the unit sphere).
        scale = float(avatar.pipeline.datamanager.train_dataparser_outputs.dataparser_scale)
        aabb = model.field.aabb.cpu().double().numpy()
        box_min = np.array(self.box_min) * scale if self.box_min is not None else aabb[0]
        box_max = np.array(self.box_max) * scale if self.box_max is not None else aabb[1]
        if np.any(box_max <= box_min):
            raise AvatarError(f"the box is empty: --box-min {self.box_min} is not below --box-max {self.box_max}")
        threshold = self.threshold if self.threshold is not None else math.log(2.0) / model.occupancy_grid.training_step_size
        with CONSOLE.status(f"sampling the density of {what} on a {self.resolution}³ grid"):
            grid = sample_density(
                expression_density(model, coefficients), box_min, box_max, self.resolution, self.chunk, model.device
            )
        mesh = iso_surface(grid, threshold)
        if not len(mesh.faces):
            raise AvatarError(
                f"no surface at σ = {threshold:.3g}: the density in the box ranges {grid.values.min():.3g} … "
                f"{grid.values.max():.3g}; choose a --threshold inside that range"
            )
        mesh.vertices = (mesh.vertices / scale).astype(np.float32)
        write_mesh(mesh, self.output)
        CONSOLE.print(
            f"export-mesh: {what} at σ = {threshold:.3g}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces "
            f"written to {self.output}", soft_wrap=True,
        )


def entrypoint(args: Optional[List[str]] = None) -> None:
    """args: the command line after the program name (default: sys.argv)."""
    command = tyro.cli(ExportMesh, args=args)

    def run() -> None:
        command.check_settings()
        command.main()

    run_reporting_errors(run)


if __name__ == "__main__":
    entrypoint()
