"""Frames per second of rendering test cameras with a trained model, after a warm-up frame."""

import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.models.base_model import Model

from nerfblend_ns.benchmarks.phase_timer import peak_memory_gib, reset_peak_memory, synchronize


@dataclass
class RenderSpeed:
    frames: int
    size: int
    """Rendered width and height in pixels."""
    rays_per_chunk: int
    fps: float
    ms_per_frame: float
    """Frames asked for back to back, none waited for by the caller."""
    ms_per_frame_waited: float
    """Each frame waited for before the next is asked for (what the viewer and a render to image files see)."""
    samples_per_ray: float
    """Mean samples per ray at which the field was evaluated, over all rays of the frames."""
    hit_fraction: float
    """Fraction of rays with at least one sample in an occupied cell."""
    samples_per_hit_ray: float
    """Mean evaluated samples over those rays."""
    opaque_fraction: float
    """Fraction of those rays whose opacity reached 0.999 (the ones front-to-back rendering can end early)."""
    peak_memory_gib: Optional[float]


def square_cameras(cameras: Cameras, indices: List[int], size: int) -> List[Cameras]:
    """The chosen cameras scaled to `size` pixels wide (the test cameras are square)."""
    chosen = []
    for index in indices:
        camera = cameras[index : index + 1]
        camera.rescale_output_resolution(size / int(camera.width))
        chosen.append(camera)
    return chosen


def _seconds_per_frame(
    model: Model, cameras: List[Cameras], passes: int, wait_each: bool, keep: Callable[[Dict], None]
) -> float:
    """Median over `passes` passes through the cameras; `keep` sees the first pass's outputs."""
    seconds = []
    for index in range(passes):
        synchronize(model.device)
        start = time.perf_counter()
        for camera in cameras:
            outputs = model.get_outputs_for_camera(camera.to(model.device))
            if index == 0:
                keep(outputs)
            if wait_each:
                synchronize(model.device)
        synchronize(model.device)
        seconds.append((time.perf_counter() - start) / len(cameras))
    return float(np.median(seconds))


@torch.no_grad()
def measure_render(model: Model, cameras: List[Cameras], rays_per_chunk: int, passes: int = 5) -> RenderSpeed:
    """Renders the last camera untimed, then all of them `passes` times with frames queued back to back
    and as many times with each frame waited for (the median pass of each); `rays_per_chunk` overrides the
    model's evaluation chunk for the measurement. The warm-up is not the first timed camera: rendering an
    expression twice in a row builds its own grid."""
    device = model.device
    configured, model.config.eval_num_rays_per_chunk = model.config.eval_num_rays_per_chunk, rays_per_chunk
    was_training = model.training
    model.eval()
    counts, opacities = [], []

    def keep(outputs: Dict[str, torch.Tensor]) -> None:
        counts.append(outputs["num_samples_per_ray"].flatten())
        opacities.append(outputs["accumulation"].flatten())

    try:
        model.get_outputs_for_camera(cameras[-1].to(device))
        reset_peak_memory(device)
        seconds = _seconds_per_frame(model, cameras, passes, False, keep)
        waited = _seconds_per_frame(model, cameras, passes, True, lambda outputs: None)
    finally:
        model.config.eval_num_rays_per_chunk = configured
        model.train(was_training)
    count, opacity = torch.cat(counts), torch.cat(opacities)
    hit = count > 0
    return RenderSpeed(
        frames=len(cameras),
        size=int(cameras[0].width),
        rays_per_chunk=rays_per_chunk,
        fps=1 / seconds,
        ms_per_frame=1e3 * seconds,
        ms_per_frame_waited=1e3 * waited,
        samples_per_ray=float(count.mean()),
        hit_fraction=float(hit.float().mean()),
        samples_per_hit_ray=float(count[hit].mean()) if bool(hit.any()) else 0.0,
        opaque_fraction=float((opacity[hit] >= 0.999).float().mean()) if bool(hit.any()) else 0.0,
        peak_memory_gib=peak_memory_gib(device),
    )


@torch.no_grad()
def _render(model: Model, cameras: List[Cameras]) -> List[Dict[str, torch.Tensor]]:
    return [model.get_outputs_for_camera(camera.to(model.device)) for camera in cameras]


def compare_render_option(
    model: Model,
    cameras: List[Cameras],
    rays_per_chunk: int,
    option: str,
    settings: Dict[str, object],
    batches: Optional[List[Dict]] = None,
) -> Dict[str, object]:
    """Render speed with the renderer option `option` (a field of the model's `renderer` config) at each of two values (results under the labels of
    `settings`, label: value), and the mean PSNR between the two settings' images (how much the faster one
    changes the picture); with the cameras' dataset `batches`, each setting's mean test PSNR as the model
    scores it. {} for a model without the option."""
    renderer = getattr(model.config, "renderer", None)
    if not hasattr(renderer, option):
        return {}
    configured = getattr(renderer, option)
    was_training = model.training
    model.eval()
    try:
        speeds, images = {}, {}
        for name, value in settings.items():
            setattr(renderer, option, value)
            speeds[name] = asdict(measure_render(model, cameras, rays_per_chunk))
            outputs = _render(model, cameras)
            images[name] = [output["rgb"].clamp(0.0, 1.0) for output in outputs]
            if batches is not None:
                scores = [model.get_image_metrics_and_images(o, b)[0]["psnr"] for o, b in zip(outputs, batches)]
                speeds[name]["psnr_vs_ground_truth"] = float(np.mean([float(score) for score in scores]))
    finally:
        setattr(renderer, option, configured)
        model.train(was_training)
    mse = [torch.mean((a - b) ** 2).clamp(min=1e-10) for a, b in zip(*images.values())]
    return {**speeds, "psnr_between": float(np.mean([float(-10 * torch.log10(m)) for m in mse]))}
