"""Every frame of a split decoded once into two compact tensors, on the device that trains.

Images stay uint8 and masks bool, 4 bytes a pixel in all: 1000 frames of 512² take 1.05 GB
where float32 copies would take 4.2 GB.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import torch
from jaxtyping import Bool, Int, UInt8
from nerfstudio.utils.rich_utils import CONSOLE, get_progress
from torch import Tensor

from nerfblend_ns.data.head_dataset import HeadDataset
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

BYTES_PER_PIXEL = 3 + 1
"""RGB as uint8 plus the head mask as bool."""


@dataclass
class FrameCache:
    """Pixels and head masks of all frames of one split, all frames the same size."""

    images: UInt8[Tensor, "n h w 3"]
    head_masks: Bool[Tensor, "n h w"]

    @staticmethod
    def bytes_for(num_frames: int, height: int, width: int) -> int:
        """Memory a cache of this many frames of this size takes."""
        return num_frames * height * width * BYTES_PER_PIXEL

    @property
    def nbytes(self) -> int:
        return self.images.nbytes + self.head_masks.nbytes

    @property
    def device(self) -> torch.device:
        return self.images.device

    @property
    def height(self) -> int:
        return self.images.shape[1]

    @property
    def width(self) -> int:
        return self.images.shape[2]

    def __len__(self) -> int:
        return self.images.shape[0]

    def pixels(self, indices: Int[Tensor, "r 3"]) -> Tuple[UInt8[Tensor, "r 3"], Bool[Tensor, "r"]]:
        """RGB and head-mask value at each (frame, y, x)."""
        frame, y, x = indices.to(self.device).unbind(-1)
        return self.images[frame, y, x], self.head_masks[frame, y, x]

    @classmethod
    def load(
        cls, dataset: HeadDataset, device: Union[torch.device, str] = "cpu", workers: Optional[int] = None
    ) -> "FrameCache":
        """Decodes the frames on a thread pool (OpenCV releases the GIL) straight into the cache."""
        height, width = dataset.get_numpy_image(0).shape[:2]
        count = len(dataset)
        images = torch.empty((count, height, width, 3), dtype=torch.uint8, device=device)
        head_masks = torch.empty((count, height, width), dtype=torch.bool, device=device)

        def load_frame(index: int) -> None:
            image = dataset.get_numpy_image(index)
            _check_size(image, (height, width), dataset.image_filenames[index])
            mask = dataset.get_head_mask(index)
            _check_size(mask, (height, width), dataset.mask_filenames[index])
            images[index].copy_(torch.from_numpy(image))
            head_masks[index].copy_(torch.from_numpy(mask))

        progress = get_progress(f"Caching {count} frames", suffix="frames/s")
        pool = ThreadPoolExecutor(workers or min(16, os.cpu_count() or 1))
        try:
            with progress:
                task = progress.add_task("frames", total=count)
                # map yields in frame order, so a size error names the first mismatching frame.
                for _ in pool.map(load_frame, range(count)):
                    progress.advance(task)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        cache = cls(images, head_masks)
        CONSOLE.print(f"Cached {count} frames of {width}×{height} on {cache.device}: {cache.nbytes / 2**20:.1f} MiB")
        return cache


def _check_size(pixels: np.ndarray, expected: Tuple[int, int], path: Path) -> None:
    if pixels.shape[:2] != expected:
        found = pixels.shape[:2]
        raise WorkspaceError(
            path, f"is {found[1]}×{found[0]}, the split's first frame is {expected[1]}×{expected[0]}: all frames must match"
        )
