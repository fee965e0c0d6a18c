"""The fidelity protocol's scores of a split's frames (docs/benchmarks.md): full frame, face region, per frame.

Each frame is rendered with the model's inference path (`get_outputs_for_camera`). `full` is the
evaluation protocol (docs/evaluation.md, nerfblend_ns.metrics.head_metrics); `face` compares the
prediction with the captured image inside the frame's face region (nerfblend_ns.metrics.face_region),
which no head mask shapes; `silhouette` says how much of the full-frame error lies on the head's outline
(nerfblend_ns.metrics.silhouette_band).
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from jaxtyping import Bool
from nerfstudio.models.base_model import Model

from nerfblend_ns.benchmarks.held_out_pose_fit import HeldOutPoseFitConfig, fit_test_pose
from nerfblend_ns.data.head_dataset import HeadDataset
from nerfblend_ns.metrics.face_region import ellipse_region, polygon_region, region_metrics
from nerfblend_ns.metrics.head_metrics import ground_truth_on_white, image_metrics
from nerfblend_ns.metrics.silhouette_band import silhouette_error

Lpips = Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]

FACE_OVAL = "face-oval"
"""Face region kind of data with landmarks (landmarks.npz): the polygon of each frame's face oval."""
FACE_RECT_ELLIPSE = "face-rect-ellipse"
"""Face region kind of data without landmarks: the ellipse inscribed in each frame's face_rect."""
NO_FACE_REGION = "none"


def face_region_kind(dataset: HeadDataset) -> str:
    """Where the dataset's face regions come from: FACE_OVAL where it has landmarks, else FACE_RECT_ELLIPSE
    where its frames have face boxes, else NO_FACE_REGION."""
    if dataset.face_ovals is not None:
        return FACE_OVAL
    if bool(torch.isfinite(dataset.face_rects).all(dim=1).any()):
        return FACE_RECT_ELLIPSE
    return NO_FACE_REGION


def face_region(dataset: HeadDataset, index: int, height: int, width: int) -> Optional[Bool[np.ndarray, "h w"]]:
    """The face region of frame `index`; None where the frame has none or it holds no pixel."""
    ovals = dataset.face_ovals
    if ovals is not None:
        region = polygon_region(ovals[index].numpy(), height, width)
    else:
        rect = dataset.face_rects[index]
        if not bool(torch.isfinite(rect).all()):
            return None
        region = ellipse_region(rect.tolist(), height, width)
    return region if region.any() else None


@dataclass
class FrameScore:
    """One frame's scores."""

    index: int
    """Index into the split."""
    full: Dict[str, float]
    face: Optional[Dict[str, float]]
    """None where the frame has no face region."""
    silhouette: Dict[str, float] = field(default_factory=dict)
    """Share of the full-frame squared error on the head's outline, and the outline band's share of the pixels."""


@torch.no_grad()
def score_frames(
    model: Model, dataset: HeadDataset, indices: Sequence[int], lpips: Lpips, pose_fit: Optional[HeldOutPoseFitConfig] = None
) -> List[FrameScore]:
    """Full-frame and face-region scores of the given frames of `dataset`, with their tracked poses, or with
    each frame's pose fitted to it first (`pose_fit`; docs/evaluation.md: never mix the two)."""
    was_training = model.training
    model.eval()
    scores = []
    try:
        for index in indices:
            batch = dataset[index]
            camera = dataset.cameras[index : index + 1].to(model.device)
            if pose_fit is not None:
                with torch.enable_grad():
                    camera = fit_test_pose(model, camera, batch["image"], batch["head_mask"], pose_fit)
            outputs = model.get_outputs_for_camera(camera)
            prediction = outputs["rgb"].clamp(0.0, 1.0)  # [H, W, 3]
            image = batch["image"][..., :3].float().to(prediction.device)  # [H, W, 3]
            head_mask = batch["head_mask"].float().to(prediction.device)  # [H, W, 1]
            ground_truth = ground_truth_on_white(image, head_mask)
            full = image_metrics(prediction, ground_truth, lpips)
            region = face_region(dataset, index, *image.shape[:2])
            face = None if region is None else region_metrics(prediction, image, torch.from_numpy(region), lpips)
            scores.append(FrameScore(int(index), full, face, silhouette_error(prediction, ground_truth, head_mask)))
    finally:
        model.train(was_training)
    return scores


def _mean(records: List[Dict[str, float]]) -> Dict[str, float]:
    return {key: float(np.mean([record[key] for record in records])) for key in records[0]} if records else {}


def psnr_spread(psnrs: Sequence[float]) -> Dict[str, float]:
    """Median, 10th percentile (linear interpolation) and minimum of per-frame PSNRs."""
    values = np.asarray(psnrs, dtype=np.float64)
    return {"median": float(np.median(values)), "p10": float(np.percentile(values, 10)), "min": float(values.min())}


def summarize(scores: List[FrameScore], per_frame: bool) -> Dict[str, Any]:
    """Means of the frames' `full`, `face` (over the frames that have a region) and `silhouette` scores, the
    PSNR spread of full and face, and with `per_frame` each frame's full and face PSNR (None where it has no
    region)."""
    faces = [score.face for score in scores if score.face is not None]
    summary: Dict[str, Any] = {
        "frames": len(scores),
        "face_frames": len(faces),
        "full": {**_mean([score.full for score in scores]), **psnr_spread([score.full["psnr"] for score in scores])},
        "face": {**_mean(faces), **psnr_spread([face["psnr"] for face in faces])} if faces else {},
        "silhouette": _mean([score.silhouette for score in scores if score.silhouette]),
    }
    if per_frame:
        summary["frame_indices"] = [score.index for score in scores]
        summary["per_frame_psnr"] = [score.full["psnr"] for score in scores]
        summary["per_frame_face_psnr"] = [None if score.face is None else score.face["psnr"] for score in scores]
    return summary


def generalisation_gap(test: Dict[str, Any], train: Dict[str, Any]) -> Dict[str, Dict[str, float]]:
    """Test minus training score for every score both splits have, per part (full, face)."""
    return {
        part: {key: test[part][key] - train[part][key] for key in test[part] if key in train.get(part, {})}
        for part in ("full", "face")
    }


def worst_and_median(psnrs: Sequence[float], count: int) -> List[int]:
    """Positions of the `count` lowest PSNRs (worst first), then of the `count` around the median not among them."""
    order = [int(i) for i in np.argsort(np.asarray(psnrs), kind="stable")]
    start = min(max(len(order) // 2 - count // 2, count), max(len(order) - count, count))
    return order[:count] + order[start : start + count]
