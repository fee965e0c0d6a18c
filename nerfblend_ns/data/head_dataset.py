"""A nerfstudio dataset of head frames whose items carry the frame's head mask."""

from typing import Dict, Optional

import cv2
import numpy as np
import torch
from jaxtyping import Bool, Float, UInt8
from nerfstudio.data.dataparsers.base_dataparser import DataparserOutputs
from nerfstudio.data.datasets.base_dataset import InputDataset
from torch import Tensor

from nerfblend_ns.dataparsers.frame_files import read_head_mask, read_rgb
from nerfblend_ns.expression_space import COEFFICIENTS_KEY


class HeadDataset(InputDataset):
    """Frames of a `nerfblend-data` split, their head masks and mouth/face boxes, at the dataset's scale."""

    def __init__(self, dataparser_outputs: DataparserOutputs, scale_factor: float = 1.0):
        super().__init__(dataparser_outputs, scale_factor)
        # An instance copy: the datamanager edits this list in place, which would otherwise
        # change it for every dataset class sharing the parent's list.
        self.exclude_batch_keys_from_device = list(InputDataset.exclude_batch_keys_from_device)
        self.mask_filenames = self.metadata["head_mask_filenames"]
        self.mask_encoding = self.metadata["mask_encoding"]

    def _rescaled(self, pixels: np.ndarray, interpolation: int) -> np.ndarray:
        if self.scale_factor == 1.0:
            return pixels
        height, width = pixels.shape[:2]
        # Truncation, as Cameras.rescale_output_resolution sizes the scaled cameras.
        size = (int(width * self.scale_factor), int(height * self.scale_factor))
        return cv2.resize(pixels, size, interpolation=interpolation)

    def get_numpy_image(self, image_idx: int) -> UInt8[np.ndarray, "h w 3"]:
        # Decoded by OpenCV like the training cache, so eval pixels equal training pixels bit for bit.
        return self._rescaled(read_rgb(self.image_filenames[image_idx]), cv2.INTER_AREA)

    def get_head_mask(self, image_idx: int) -> Bool[np.ndarray, "h w"]:
        mask = read_head_mask(self.mask_filenames[image_idx], self.mask_encoding, self.metadata["background_filename"]).view(np.uint8)
        return self._rescaled(mask, cv2.INTER_NEAREST).view(bool)

    def get_metadata(self, data: Dict) -> Dict[str, Float[Tensor, "h w 1"]]:
        mask = torch.from_numpy(self.get_head_mask(data["image_idx"]))
        return {"head_mask": mask[..., None].float()}

    @property
    def mouth_rects(self) -> Float[Tensor, "n 4"]:
        """Mouth boxes x0, y0, x1, y1 in pixels of the scaled images; NaN where missing."""
        return self.metadata["mouth_rects"] * self.scale_factor

    @property
    def face_rects(self) -> Float[Tensor, "n 4"]:
        """Face boxes x0, y0, x1, y1 in pixels of the scaled images; NaN where missing."""
        return self.metadata["face_rects"] * self.scale_factor

    @property
    def face_ovals(self) -> Optional[Float[Tensor, "n 36 2"]]:
        """Face-oval polygons (landmarks.npz, FACE_OVAL order) in pixels of the scaled images; None without landmarks."""
        ovals = self.metadata.get("face_ovals")
        return None if ovals is None else ovals * self.scale_factor

    @property
    def coefficients(self) -> Float[Tensor, "n k"]:
        """Expression coefficients of each frame, as its camera carries them."""
        return self.cameras.metadata[COEFFICIENTS_KEY]
