from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from nerfblend_ns.data.frame_cache import FrameCache
from nerfblend_ns.data.head_dataset import HeadDataset
from nerfblend_ns.data.nerfblend_datamanager import NerfBlendDataManager, NerfBlendDataManagerConfig
from nerfblend_ns.dataparsers.frame_files import read_head_mask, read_rgb
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError

TRAIN_FRAMES, SIZE, B, RAYS, S = 14, 24, 2, 8, 8  # the workspace fixture holds 16 frames, 2 of them test


def datamanager(workspace: Path, local_rank: int = 0, world_size: int = 1, **options) -> NerfBlendDataManager:
    settings = dict(frames_per_batch=B, rays_per_frame=RAYS, lpips_patch_size=S) | options
    config = NerfBlendDataManagerConfig(dataparser=NerfBlendDataParserConfig(data=workspace), **settings)
    return config.setup(device="cpu", local_rank=local_rank, world_size=world_size)


@pytest.fixture
def manager(workspace) -> NerfBlendDataManager:
    return datamanager(workspace)


def test_cache_holds_every_training_frame_as_uint8_and_bool(manager):
    cache = manager.frame_cache
    assert cache.images.shape == (TRAIN_FRAMES, SIZE, SIZE, 3) and cache.images.dtype == torch.uint8
    assert cache.head_masks.shape == (TRAIN_FRAMES, SIZE, SIZE) and cache.head_masks.dtype == torch.bool
    assert cache.nbytes == FrameCache.bytes_for(TRAIN_FRAMES, SIZE, SIZE) == TRAIN_FRAMES * SIZE * SIZE * 4
    assert FrameCache.bytes_for(1000, 512, 512) == 1_048_576_000
    dataset = manager.train_dataset
    for index in range(TRAIN_FRAMES):
        assert np.array_equal(cache.images[index].numpy(), read_rgb(dataset.image_filenames[index]))
        mask = read_head_mask(dataset.mask_filenames[index], dataset.mask_encoding)
        assert np.array_equal(cache.head_masks[index].numpy(), mask)


def test_training_never_builds_float32_images(workspace, monkeypatch):
    converted = []
    original = HeadDataset.get_image_float32
    monkeypatch.setattr(HeadDataset, "get_image_float32", lambda self, i: converted.append(self) or original(self, i))
    manager = datamanager(workspace)
    manager.sample_patches = True
    for step in range(3):
        manager.next_train(step)
    assert not any(dataset is manager.train_dataset for dataset in converted)
    assert any(dataset is manager.eval_dataset for dataset in converted)
    assert not hasattr(manager, "train_image_dataloader") and manager.train_pixel_sampler is None


def test_next_train_returns_documented_batch(manager):
    ray_bundle, batch = manager.next_train(0)
    rays = B * RAYS
    assert manager.get_train_rays_per_batch() == rays and ray_bundle.shape == (rays,)
    for key, shape in (("image", (rays, 3)), ("head_mask", (rays, 1)), ("background", (rays, 3))):
        assert batch[key].shape == shape and batch[key].dtype == torch.float32
        assert 0 <= batch[key].min() and batch[key].max() <= 1
    indices = batch["indices"]
    assert indices.shape == (rays, 3) and indices.dtype == torch.long
    assert batch["num_patches"] == 0 and batch["patch_size"] == S
    frame, y, x = indices.unbind(-1)
    cache = manager.frame_cache
    assert torch.equal(batch["image"], cache.images[frame, y, x].float() / 255)
    assert torch.equal(batch["head_mask"][:, 0], cache.head_masks[frame, y, x].float())
    assert len(frame.unique()) == B and torch.equal(frame, frame[::RAYS].repeat_interleave(RAYS))
    assert torch.equal(ray_bundle.camera_indices[:, 0], frame)
    expr = ray_bundle.metadata["expr"]
    assert expr.shape == (rays, 3) and torch.equal(expr, manager.training_coefficients[frame])
    assert torch.equal(expr, torch.stack([frame + 100.0 * k for k in range(3)], -1))  # frame i shows i + 100·k


def test_patches_follow_random_rays_and_switch_off_again(manager):
    manager.sample_patches = True
    ray_bundle, batch = manager.next_train(0)
    rays = B * RAYS + B * S * S
    assert manager.get_train_rays_per_batch() == rays and ray_bundle.shape == (rays,)
    assert batch["image"].shape == (rays, 3) and batch["num_patches"] == B and batch["patch_size"] == S
    random_frames = batch["indices"][: B * RAYS : RAYS, 0]
    patches = batch["indices"][B * RAYS :].view(B, S, S, 3)
    assert torch.equal(patches[:, 0, 0, 0], random_frames)
    rows, cols = torch.meshgrid(torch.arange(S), torch.arange(S), indexing="ij")
    for patch in patches:
        assert torch.equal(patch[..., 1], patch[0, 0, 1] + rows) and torch.equal(patch[..., 2], patch[0, 0, 2] + cols)
        assert patch[..., 1:].min() >= 0 and patch[..., 1:].max() < SIZE
    backgrounds = batch["background"][B * RAYS :].view(B, S * S, 3)
    assert torch.equal(backgrounds, backgrounds[:, :1].expand_as(backgrounds))
    assert len(batch["background"][: B * RAYS].unique(dim=0)) == B * RAYS  # one colour per random ray
    expr = ray_bundle.metadata["expr"][B * RAYS :].view(B, S * S, 3)
    assert torch.equal(expr[:, 0], manager.training_coefficients[random_frames])
    manager.sample_patches = False
    assert manager.next_train(1)[1]["image"].shape == (B * RAYS, 3) and manager.get_train_rays_per_batch() == B * RAYS


def test_mouth_patches_lie_on_the_mouth_box(workspace):
    manager = datamanager(workspace, mouth_patch_fraction=1.0, lpips_patch_size=4)
    manager.sample_patches = True
    x0, y0, x1, y1 = manager.train_dataset.mouth_rects[0].tolist()
    for step in range(5):
        patches = manager.next_train(step)[1]["indices"][B * RAYS :].view(B, 4, 4, 3)
        centre_y, centre_x = patches[:, 2, 2, 1], patches[:, 2, 2, 2]
        assert (centre_x >= int(x0)).all() and (centre_x <= int(x1)).all()
        assert (centre_y >= int(y0)).all() and (centre_y <= int(y1)).all()


def test_face_rays_follow_the_uniform_ones_inside_each_frames_face_box(workspace):
    manager = datamanager(workspace, rays_per_frame=40, face_ray_fraction=0.25)
    assert manager.get_train_rays_per_batch() == B * 40
    boxes = manager.train_dataset.face_rects
    for step in range(5):
        indices = manager.next_train(step)[1]["indices"]
        assert indices.shape == (B * 40, 3)
        face = indices[B * 30 :]
        x0, y0, x1, y1 = boxes[face[:, 0]].unbind(-1)
        assert ((face[:, 2] >= x0.floor()) & (face[:, 2] < x1.ceil()) & (face[:, 1] >= y0.floor()) & (face[:, 1] < y1.ceil())).all()
        # The uniform rays of the same frames cover the image beyond the face box.
        uniform = indices[: B * 30]
        x0, y0, x1, y1 = boxes[uniform[:, 0]].unbind(-1)
        assert not ((uniform[:, 2] >= x0.floor()) & (uniform[:, 2] < x1.ceil()) & (uniform[:, 1] >= y0.floor()) & (uniform[:, 1] < y1.ceil())).all()


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan")])
def test_a_face_ray_fraction_outside_0_1_is_refused_naming_the_flag(workspace, fraction):
    with pytest.raises(ValueError, match="face-ray-fraction"):
        datamanager(workspace, face_ray_fraction=fraction)


def test_each_training_frame_is_drawn_once_per_epoch(manager):
    steps = TRAIN_FRAMES // B
    frames = [manager.next_train(step)[1]["indices"][::RAYS, 0] for step in range(2 * steps)]
    for epoch in range(2):
        assert sorted(torch.cat(frames[epoch * steps : (epoch + 1) * steps]).tolist()) == list(range(TRAIN_FRAMES))


def test_seed_and_rank_pick_the_random_stream(workspace):
    def indices(**options):
        return datamanager(workspace, **options).next_train(0)[1]["indices"]

    first = indices()
    assert torch.equal(first, indices())
    assert not torch.equal(first, indices(seed=1))
    ranks = [indices(local_rank=rank, world_size=2, seed=1) for rank in (0, 1)]
    assert not torch.equal(ranks[0], ranks[1])
    assert not any(torch.equal(rank, indices(world_size=2, seed=2)) for rank in ranks)


def test_eval_items_carry_the_head_mask(manager):
    dataset = manager.eval_dataset
    item = dataset[0]
    assert item["image"].shape == (SIZE, SIZE, 3) and item["image"].dtype == torch.float32
    assert item["head_mask"].shape == (SIZE, SIZE, 1) and item["head_mask"].dtype == torch.float32
    expected = read_head_mask(dataset.mask_filenames[0], dataset.mask_encoding)
    assert np.array_equal(item["head_mask"][..., 0].numpy(), expected.astype(np.float32))
    assert "head_mask" not in dataset.exclude_batch_keys_from_device
    assert dataset.exclude_batch_keys_from_device is not HeadDataset.__mro__[1].exclude_batch_keys_from_device
    camera, batch = manager.next_eval_image(0)
    assert camera.shape == (1,) and batch["head_mask"].shape == (SIZE, SIZE, 1)
    assert camera.metadata["expr"].shape == (1, 3)


def test_scale_factor_shrinks_cache_masks_and_boxes(workspace):
    manager = datamanager(workspace, camera_res_scale_factor=0.5, lpips_patch_size=4)
    half = SIZE // 2
    assert manager.frame_cache.images.shape == (TRAIN_FRAMES, half, half, 3)
    assert manager.eval_dataset[0]["head_mask"].shape == (half, half, 1)
    full = manager.train_dataset.metadata["mouth_rects"]
    assert torch.allclose(manager.train_dataset.mouth_rects, full / 2)
    manager.sample_patches = True
    indices = manager.next_train(0)[1]["indices"]
    assert indices[:, 1:].max() < half


def test_frames_of_another_size_are_named(workspace):
    outputs = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("train")
    dataset = HeadDataset(outputs)
    for index in (7, 3):
        cv2.imwrite(str(dataset.image_filenames[index]), np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(WorkspaceError, match="all frames must match") as error:
        FrameCache.load(dataset, "cpu", workers=4)
    assert error.value.path == dataset.image_filenames[3]


def test_batch_larger_than_the_split_is_refused_naming_the_workspace_and_the_fix(workspace, monkeypatch):
    decoded = []
    monkeypatch.setattr(FrameCache, "load", lambda *args, **kwargs: decoded.append(1))
    with pytest.raises(WorkspaceError, match=f"{workspace}: 14 training frames, fewer than --pipeline.datamanager.frames-per-batch 15"):
        datamanager(workspace, frames_per_batch=15)
    assert not decoded  # refused before decoding a frame
    monkeypatch.undo()
    with pytest.raises(WorkspaceError, match="frames of 24×24 are smaller than --pipeline.datamanager.lpips-patch-size 32"):
        datamanager(workspace, lpips_patch_size=32)
