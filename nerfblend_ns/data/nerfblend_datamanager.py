"""Training rays drawn a few distinct frames at a time from a uint8 cache of every training frame.

Evaluation stays nerfstudio's (HeadDataset items, which add the head mask). Training replaces
nerfstudio's CacheDataloader, which keeps float32 copies of every image, and its pixel sampler,
which would treat a mask as "sample only here".
"""

from dataclasses import dataclass, field
from typing import Dict, Literal, Tuple, Type, Union

import torch
import tyro
from jaxtyping import Float
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.datamanagers.base_datamanager import VanillaDataManager, VanillaDataManagerConfig
from nerfstudio.model_components.ray_generators import RayGenerator
from torch import Tensor

from nerfblend_ns.data.frame_cache import FrameCache
from nerfblend_ns.data.head_dataset import HeadDataset
from nerfblend_ns.data.patch_sampling import PatchSampling
from nerfblend_ns.data.ray_batch_sampler import draw_frames, patch_centres, patch_pixels, random_pixels, random_pixels_in_boxes
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

CacheDevice = Literal["auto", "cpu", "cuda"]


@dataclass
class NerfBlendDataManagerConfig(VanillaDataManagerConfig):
    """Head frames cached once as uint8; each step draws rays from a few distinct frames."""

    _target: Type = field(default_factory=lambda: NerfBlendDataManager)
    dataparser: NerfBlendDataParserConfig = field(default_factory=NerfBlendDataParserConfig)
    """Reads the tracked head video."""
    # Training ignores nerfstudio's own ray-count and image-resampling options: hidden from --help.
    train_num_rays_per_batch: tyro.conf.Suppress[int] = 1024
    train_num_images_to_sample_from: tyro.conf.Suppress[int] = -1
    train_num_times_to_repeat_images: tyro.conf.Suppress[int] = -1
    frames_per_batch: int = 4
    """Distinct frames per training step (the paper's B); each training frame is drawn once per epoch."""
    rays_per_frame: int = 1024
    """Uniformly random rays per frame, over the whole image (the head mask is a target, not a restriction)."""
    face_ray_fraction: float = 0.0
    """Share of each frame's random rays drawn inside its face box instead (eyes and mouth are the detail learned last)."""
    lpips_patch_size: int = 32
    """Side of the square patch cut from each frame for the perceptual loss, when the model turns patches on."""
    mouth_patch_fraction: float = 0.5
    """Probability that a frame's patch centres in its mouth box rather than its face box."""
    cache_device: CacheDevice = "auto"
    """Where the frame cache lives: auto keeps it on the training GPU, else in host memory."""
    seed: int = 0
    """Seed of frame and ray sampling; each process also mixes in its rank, so ranks draw different rays."""


def _cache_device(choice: CacheDevice, training_device: Union[torch.device, str]) -> torch.device:
    training = torch.device(training_device)
    if choice == "cpu" or (choice == "auto" and training.type != "cuda"):
        return torch.device("cpu")
    return training if training.type == "cuda" else torch.device("cuda")


class NerfBlendDataManager(VanillaDataManager[HeadDataset], PatchSampling):
    """Batches of rays whose `metadata[COEFFICIENTS_KEY]` holds their frame's coefficients, with target pixels,
    head-mask values and random background colours; random rays first, then one patch per frame."""

    config: NerfBlendDataManagerConfig
    frame_cache: FrameCache
    sample_patches: bool = False
    """Adds one mouth/face patch per frame to each batch; the model switches it per training stage."""

    def set_patch_sampling(self, enabled: bool) -> None:
        self.sample_patches = enabled

    def setup_train(self) -> None:
        dataset, config = self.train_dataset, self.config
        data = self.dataparser.config.data
        if config.frames_per_batch > len(dataset):
            raise WorkspaceError(
                data, f"{len(dataset)} training frames, fewer than --pipeline.datamanager.frames-per-batch "
                f"{config.frames_per_batch}; track a longer video, or lower frames-per-batch or the test split",
            )
        if not 0.0 <= config.face_ray_fraction <= 1.0:
            raise ValueError(f"--pipeline.datamanager.face-ray-fraction {config.face_ray_fraction}: must be between 0 and 1")
        device = _cache_device(self.config.cache_device, self.device)
        self.frame_cache = FrameCache.load(dataset, device)
        cache = self.frame_cache
        if config.lpips_patch_size > min(cache.height, cache.width):
            raise WorkspaceError(
                data, f"frames of {cache.width}×{cache.height} are smaller than --pipeline.datamanager.lpips-patch-size "
                f"{config.lpips_patch_size}; lower it",
            )
        self._generator = torch.Generator(device=device)
        # Distinct across the ranks of a run and across seeds of runs of the same size.
        self._generator.manual_seed(config.seed * self.world_size + self.local_rank)
        self._frame_queue = torch.empty(0, dtype=torch.long, device=device)
        self._mouth_rects = dataset.mouth_rects.to(device)  # [N, 4]
        self._face_rects = dataset.face_rects.to(device)  # [N, 4]
        self.train_ray_generator = RayGenerator(dataset.cameras.to(self.device))

    def next_train(self, step: int) -> Tuple[RayBundle, Dict]:
        """Rays of `frames_per_batch` frames and their batch: image [R, 3], head_mask [R, 1] and
        background [R, 3] (float32, in [0, 1]), indices [R, 3] (frame, y, x), num_patches, patch_size.
        Rays over the whole image come first, then those in the face boxes (`face_ray_fraction`); patch
        rays follow the random rays and view as [num_patches, patch_size, patch_size]."""
        self.train_count += 1
        cache, config, generator = self.frame_cache, self.config, self._generator
        frames, self._frame_queue = draw_frames(self._frame_queue, config.frames_per_batch, len(cache), generator)
        face_rays = round(config.face_ray_fraction * config.rays_per_frame)
        indices = random_pixels(frames, config.rays_per_frame - face_rays, cache.height, cache.width, generator)  # [R, 3]
        if face_rays:
            face = random_pixels_in_boxes(frames, face_rays, self._face_rects[frames], cache.height, cache.width, generator)
            indices = torch.cat((indices, face))
        background = torch.rand(indices.shape[0], 3, generator=generator, device=generator.device)  # [R, 3]
        num_patches = 0
        if self.sample_patches:
            size = config.lpips_patch_size
            centres = patch_centres(
                frames, self._mouth_rects, self._face_rects, cache.head_masks, config.mouth_patch_fraction, generator
            )
            # One colour per patch: a patch is judged as an image, and its background should look like one.
            patch_colours = torch.rand(frames.numel(), 3, generator=generator, device=generator.device)
            indices = torch.cat((indices, patch_pixels(frames, centres, size, cache.height, cache.width)))
            background = torch.cat((background, patch_colours.repeat_interleave(size * size, dim=0)))
            num_patches = frames.numel()
        rgb, head_mask = cache.pixels(indices)
        indices = indices.to(self.device)
        batch = {
            "image": rgb.to(self.device, torch.float32) / 255.0,
            "head_mask": head_mask.to(self.device, torch.float32)[:, None],
            "background": background.to(self.device),
            "indices": indices,
            "num_patches": num_patches,
            "patch_size": config.lpips_patch_size,
        }
        return self.train_ray_generator(indices), batch

    def get_train_rays_per_batch(self) -> int:
        patch_rays = self.config.lpips_patch_size**2 if self.sample_patches else 0
        return self.config.frames_per_batch * (self.config.rays_per_frame + patch_rays)

    @property
    def training_coefficients(self) -> Float[Tensor, "n k"]:
        """Expression coefficients of the training frames, in frame-index order."""
        return self.train_dataset.coefficients
