"""Ground truth and prediction of frames as 8-bit pictures, composed on white as the protocol scores them."""

from typing import List, Tuple

import numpy as np
import torch
from nerfstudio.engine.trainer import Trainer

from nerfblend_ns.metrics.head_metrics import ground_truth_on_white


def evenly_spaced(total: int, count: int) -> List[int]:
    """`count` frame indices spread from the first to the last of `total`, without repeats."""
    return sorted({int(i) for i in np.linspace(0, total - 1, min(count, total)).round()})


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    return (image.clamp(0.0, 1.0).cpu().numpy() * 255).round().astype(np.uint8)


@torch.no_grad()
def render_dataset_frames(trainer: Trainer, dataset, frame_indices: List[int]) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """([H, W, 3] uint8 ground truths, [H, W, 3] uint8 predictions) of the given frames of `dataset` (the
    test split's, or the training split's to see what the model fits)."""
    model = trainer.pipeline.model
    model.eval()
    ground_truths, predictions = [], []
    for index in frame_indices:
        batch = dataset[index]
        outputs = model.get_outputs_for_camera(dataset.cameras[index : index + 1].to(model.device))
        image = batch["image"][..., :3].float()
        ground_truths.append(_to_uint8(ground_truth_on_white(image, batch["head_mask"].float())))
        predictions.append(_to_uint8(outputs["rgb"]))
    model.train()
    return ground_truths, predictions
