"""A toy scene for the model: a disc of radius 0.5 seen from +z by parallel rays, red in frame 0 (coefficient
0) and blue in frame 1 (coefficient 1); a small model of it and a training loop."""

from types import SimpleNamespace
from typing import Callable, Dict, List, Tuple

import torch
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.engine.callbacks import TrainingCallbackAttributes
from stub_datamanager import StubDataManager

from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig
from nerfblend_ns.models.loss_schedule import LossScheduleConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModel, NerfBlendModelConfig
from nerfblend_ns.rendering.occupancy_grid import OccupancyGridConfig

COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.2, 0.9]])  # frame 0 red, frame 1 blue
DECODER = DecoderConfig(hidden_dim=32, num_layers=2, geometry_features=8, color_hidden_dim=16)


def disc_model(decoder: DecoderConfig = DECODER, **fields) -> NerfBlendModel:
    """A small model over the box [-1, 1]³ with one coefficient, its first stage ending at step 60; `fields` set or
    replace its config's fields."""
    settings = dict(
        grid=BlendedHashGridConfig(num_levels=4, log2_hashmap_size=10, max_resolution=64),
        decoder=decoder,
        losses=LossScheduleConfig(mask_stage_end=60, patch_stage_start=10**9),
        occupancy=OccupancyGridConfig(resolution=16, update_interval=8, warmup_steps=32, training_step_size=0.04),
        perceptual_loss="off",
    )
    config = NerfBlendModelConfig(**{**settings, **fields})
    coefficients = torch.tensor([[0.0], [1.0]])
    metadata = {"expression_names": ["open"], "expr_min": coefficients.min(0).values,
                "expr_max": coefficients.max(0).values, "expressions": coefficients}
    return config.setup(scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=2, metadata=metadata)


def disc_rays(generator: torch.Generator, frame: int, count: int) -> Tuple[RayBundle, Dict[str, torch.Tensor]]:
    """`count` rays of training frame `frame` from z = 3 looking down -z, and their batch (image, head mask, random
    background)."""
    xy = torch.rand(count, 2, generator=generator) * 1.6 - 0.8
    origins = torch.cat([xy, torch.full((count, 1), 3.0)], dim=1)
    bundle = RayBundle(
        origins=origins, directions=torch.tensor([[0.0, 0.0, -1.0]]).expand(count, 3).contiguous(),
        pixel_area=torch.ones(count, 1), camera_indices=torch.full((count, 1), frame),
        metadata={"expr": torch.full((count, 1), float(frame))},
    )
    mask = (xy.norm(dim=1, keepdim=True) < 0.5).float()  # [N, 1] a disc seen from the front
    batch = {"image": mask * COLOURS[frame] + (1 - mask), "head_mask": mask, "background": torch.rand(count, 3, generator=generator)}
    return bundle, batch


def joined(bundles: List[RayBundle]) -> RayBundle:
    """One bundle of the rays of several, in order."""
    return RayBundle(
        origins=torch.cat([b.origins for b in bundles]), directions=torch.cat([b.directions for b in bundles]),
        pixel_area=torch.cat([b.pixel_area for b in bundles]), camera_indices=torch.cat([b.camera_indices for b in bundles]),
        metadata={"expr": torch.cat([b.metadata["expr"] for b in bundles])},
    )


Rays = Callable[[torch.Generator, int, int], Tuple[RayBundle, Dict[str, torch.Tensor]]]


def train_disc(
    model: NerfBlendModel, steps: int, generator: torch.Generator, datamanager=None, rays: Rays = disc_rays
) -> Dict[str, torch.Tensor]:
    """Trains `model` on both frames (256 of `rays` of each per step) with Adam and the model's callbacks; returns
    the last step's losses."""
    model.train()
    attributes = TrainingCallbackAttributes(
        optimizers=None, grad_scaler=None, pipeline=SimpleNamespace(datamanager=datamanager or StubDataManager()), trainer=None
    )
    callbacks = model.get_training_callbacks(attributes)
    groups = model.get_param_groups()
    optimizer = torch.optim.Adam([{"params": groups["encoding"]}, {"params": groups["mlp"]}], lr=1e-2, eps=1e-15)
    for step in range(steps):
        for callback in callbacks:
            callback.run_callback_at_location(step, callback.where_to_run[0])
        parts = [rays(generator, frame, 256) for frame in (0, 1)]
        bundle = joined([part[0] for part in parts])
        batch = {key: torch.cat([part[1][key] for part in parts]) for key in parts[0][1]}
        losses = model.get_loss_dict(model(bundle), batch)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    return losses
