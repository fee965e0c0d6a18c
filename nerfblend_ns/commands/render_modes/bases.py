"""`nerfblend-render bases`: one image per expression basis, in a labelled grid (paper Fig. 9)."""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from PIL import Image
from rich.progress import track

from nerfblend_ns.avatar.basis_grid import basis_expressions, labelled_grid
from nerfblend_ns.avatar.frame_rendering import render_rgb, scaled
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.avatar.views import frontal_index
from nerfblend_ns.commands.render_modes.options import CONSOLE, AvatarOptions
from nerfblend_ns.commands.setting_checks import within


@dataclass
class Bases(AvatarOptions):
    """Render the mean head h0 and each basis h0 + ŵ_i·h_i (ŵ_i: the coefficient's training maximum) from the most
    frontal test camera, as one labelled grid."""

    output_path: Optional[Path] = None
    """PNG to write (default: renders/bases.png in the run folder)."""
    columns: int = 0
    """Tiles per row (0: a near-square grid)."""

    def check_settings(self) -> None:
        super().check_settings()
        within("--columns", self.columns, 0, math.inf)

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        model = avatar.model
        test_cameras = avatar.pipeline.datamanager.eval_dataset.cameras
        camera = scaled(test_cameras[torch.tensor([frontal_index(test_cameras)])], self.downscale)[0]
        bases = basis_expressions(model.expression_space.names, model.expression_space.maximum.cpu())
        tiles = [
            (label, render_rgb(model, camera, coefficients, extrapolate=True))
            for label, coefficients in track(bases, description="bases: rendering", console=CONSOLE)
        ]
        output = self.output_path or avatar.run_dir / "renders" / "bases.png"
        output.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(labelled_grid(tiles, self.columns)).save(output)
        CONSOLE.print(f"bases: wrote {len(tiles)} tiles to {output}")
