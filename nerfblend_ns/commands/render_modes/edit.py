"""`nerfblend-render edit`: the test frames with some coefficients set, scaled or animated."""

from dataclasses import dataclass, field
from typing import List

import torch

from nerfblend_ns.avatar.coefficient_edits import parse_edits
from nerfblend_ns.avatar.frame_rendering import render_rgb, scaled
from nerfblend_ns.avatar.loading import load_avatar
from nerfblend_ns.expression_space import COEFFICIENTS_KEY
from nerfblend_ns.commands.render_modes.options import CONSOLE, VideoOptions


@dataclass
class Edit(VideoOptions):
    """Render the test frames with edited expression coefficients, e.g. --set jawOpen=1 --animate mouthSmile:0:1."""

    set: List[str] = field(default_factory=list)
    """Coefficients to set, as name=value (space separated: --set jawOpen=1 eyeBlinkLeft=0)."""
    scale: List[str] = field(default_factory=list)
    """Coefficients to multiply, as name=factor (--scale browInnerUp=2)."""
    animate: List[str] = field(default_factory=list)
    """Coefficients to sweep linearly over the frames, as name:start:end (--animate jawOpen:0:1)."""

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        model = avatar.model
        edits = parse_edits(model.expression_space.names, self.set, self.scale, self.animate)
        dataset_cameras = avatar.pipeline.datamanager.eval_dataset.cameras
        count = dataset_cameras.shape[0]
        coefficients = torch.stack(
            [edits.apply(dataset_cameras.metadata[COEFFICIENTS_KEY][i].float(), i / max(count - 1, 1)) for i in range(count)]
        )  # [T, K]
        space = model.expression_space
        outside = space.clamp(coefficients.to(space.minimum)).cpu() != coefficients
        if outside.any() and not self.extrapolate:
            names = [space.names[k] for k in outside.any(dim=0).nonzero().flatten().tolist()]
            CONSOLE.print(f"edit: clamping {', '.join(names)} to the training range; --extrapolate renders them as given")
        cameras = scaled(dataset_cameras, self.downscale)
        images = (render_rgb(model, cameras[i], coefficients[i], self.extrapolate) for i in range(count))
        self.write(avatar, "edit", images, count)
