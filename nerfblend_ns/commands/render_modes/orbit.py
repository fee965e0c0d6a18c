"""`nerfblend-render orbit`: novel views around the head at one frame's expression (paper Fig. 11)."""

from dataclasses import dataclass
from typing import Literal

from nerfblend_ns.avatar.frame_rendering import render_rgb, scaled
from nerfblend_ns.avatar.loading import AvatarError, load_avatar
from nerfblend_ns.avatar.views import orbit
from nerfblend_ns.expression_space import COEFFICIENTS_KEY
from nerfblend_ns.commands.render_modes.options import VideoOptions
from nerfblend_ns.commands.setting_checks import within

MAX_FRAMES = 100_000


@dataclass
class Orbit(VideoOptions):
    """Swing the camera around the head at the expression of one frame."""

    frame: int = 0
    """Index of the frame, within --split, whose camera starts the orbit and whose expression is shown."""
    split: Literal["test", "train"] = "test"
    """Split that --frame indexes."""
    yaw_degrees: float = 30.0
    """Largest turn either side of the frame's camera, about the head's vertical axis."""
    num_frames: int = 60
    """Frames of the orbit (one full swing out to both sides and back)."""

    def check_settings(self) -> None:
        super().check_settings()
        within("--yaw-degrees", self.yaw_degrees, -180.0, 180.0)
        within("--num-frames", self.num_frames, 1, MAX_FRAMES)

    def main(self) -> None:
        avatar = load_avatar(self.load_config)
        datamanager = avatar.pipeline.datamanager
        cameras = (datamanager.eval_dataset if self.split == "test" else datamanager.train_dataset).cameras
        if not 0 <= self.frame < cameras.shape[0]:
            raise AvatarError(f"--frame {self.frame}: the {self.split} split has frames 0 … {cameras.shape[0] - 1}")
        path = scaled(orbit(cameras[self.frame], self.yaw_degrees, self.num_frames), self.downscale)
        coefficients = cameras.metadata[COEFFICIENTS_KEY][self.frame]
        images = (render_rgb(avatar.model, path[i], coefficients, self.extrapolate) for i in range(self.num_frames))
        self.write(avatar, "orbit", images, self.num_frames)

