import math

import pytest
import torch

from nerfblend_ns.data.ray_batch_sampler import draw_frames, patch_centres, patch_pixels, random_pixels, random_pixels_in_boxes


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def draw_steps(num_frames: int, count: int, steps: int, seed: int = 0) -> torch.Tensor:
    rng, queue, drawn = generator(seed), torch.empty(0, dtype=torch.long), []
    for _ in range(steps):
        frames, queue = draw_frames(queue, count, num_frames, rng)
        drawn.append(frames)
    return torch.stack(drawn)  # [steps, count]


@pytest.mark.parametrize("num_frames, count", [(10, 4), (12, 4), (5, 5), (7, 1)])
def test_frames_are_distinct_per_step_and_drawn_once_per_epoch(num_frames, count):
    drawn = draw_steps(num_frames, count, steps=40)
    assert all(len(set(step.tolist())) == count for step in drawn)
    stream = drawn.flatten()
    for epoch in range(len(stream) // num_frames):
        assert sorted(stream[epoch * num_frames : (epoch + 1) * num_frames].tolist()) == list(range(num_frames))
    assert not torch.equal(drawn[:3], draw_steps(num_frames, count, steps=3, seed=1))


def test_more_frames_than_exist_is_an_error():
    with pytest.raises(ValueError, match="3 distinct frames out of 2"):
        draw_frames(torch.empty(0, dtype=torch.long), 3, 2, generator())


def test_random_pixels_cover_the_whole_image_in_bounds():
    frames = torch.tensor([5, 2, 9])
    indices = random_pixels(frames, 4000, height=7, width=5, generator=generator())
    assert indices.shape == (12000, 3) and indices.dtype == torch.long
    assert indices[:, 0].tolist() == frames.repeat_interleave(4000).tolist()
    y, x = indices[:, 1], indices[:, 2]
    assert y.min() == 0 and y.max() == 6 and x.min() == 0 and x.max() == 4
    for frame in frames:
        hit = indices[indices[:, 0] == frame]
        assert len(set(zip(hit[:, 1].tolist(), hit[:, 2].tolist()))) == 35


def test_pixels_in_boxes_cover_each_box_and_only_it():
    frames = torch.tensor([4, 1])
    boxes = torch.tensor([[2.0, 3.0, 6.0, 5.0], [0.5, 0.5, 2.5, 1.5]])  # x0, y0, x1, y1
    indices = random_pixels_in_boxes(frames, 3000, boxes, height=10, width=12, generator=generator())
    assert indices.shape == (6000, 3) and indices[:, 0].tolist() == frames.repeat_interleave(3000).tolist()
    first, second = indices[:3000, 1:], indices[3000:, 1:]  # (y, x)
    assert set(map(tuple, first.tolist())) == {(y, x) for y in (3, 4) for x in range(2, 6)}
    # A box of fractional pixels: the pixels that hold a point of it.
    assert set(map(tuple, second.tolist())) == {(y, x) for y in (0, 1) for x in range(0, 3)}


def test_pixels_in_a_missing_or_overhanging_box_stay_in_the_image():
    frames = torch.tensor([0, 1])
    boxes = torch.tensor([[float("nan")] * 4, [-5.0, 8.0, 20.0, 30.0]])
    indices = random_pixels_in_boxes(frames, 4000, boxes, height=10, width=12, generator=generator())
    missing, overhanging = indices[:4000, 1:], indices[4000:, 1:]
    assert len(set(map(tuple, missing.tolist()))) == 120  # the whole 12×10 image
    assert overhanging[:, 0].min() == 8 and overhanging[:, 0].max() == 9
    assert overhanging[:, 1].min() == 0 and overhanging[:, 1].max() == 11


def test_patches_are_contiguous_row_major_blocks_inside_the_image():
    frames = torch.tensor([3, 0, 7, 1])
    centres = torch.tensor([[10, 10], [0, 0], [19, 29], [2, 27]])  # the last three touch a border
    size, height, width = 6, 20, 30
    patches = patch_pixels(frames, centres, size, height, width).view(4, size, size, 3)
    for patch, frame, centre in zip(patches, frames, centres):
        top, left = patch[0, 0, 1].item(), patch[0, 0, 2].item()
        assert 0 <= top <= height - size and 0 <= left <= width - size
        rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        assert torch.equal(patch[..., 0], torch.full((size, size), frame.item()))
        assert torch.equal(patch[..., 1], top + rows) and torch.equal(patch[..., 2], left + cols)
        assert top <= centre[0] < top + size and left <= centre[1] < left + size
    assert patches[0, 0, 0, 1:].tolist() == [7, 7]  # unclipped: the centre is at offset size // 2
    assert patches[1, 0, 0, 1:].tolist() == [0, 0] and patches[2, -1, -1, 1:].tolist() == [19, 29]


def test_patch_larger_than_image_is_an_error():
    with pytest.raises(ValueError, match="8×8 patch"):
        patch_pixels(torch.tensor([0]), torch.tensor([[3, 3]]), 8, 6, 20)


def rects(count: int, box) -> torch.Tensor:
    return torch.tensor([box], dtype=torch.float32).repeat(count, 1)


def test_mouth_patches_centre_in_the_mouth_box_and_cover_it():
    count, mouth = 400, (30.5, 60.2, 50.0, 70.9)  # x0, y0, x1, y1
    masks = torch.ones(count, 100, 120, dtype=torch.bool)
    frames = torch.arange(count)
    centres = patch_centres(frames, rects(count, mouth), rects(count, (0, 0, 120, 100)), masks, 1.0, generator())
    y, x = centres[:, 0], centres[:, 1]
    assert x.min() >= math.floor(mouth[0]) and x.max() <= math.floor(mouth[2])
    assert y.min() >= math.floor(mouth[1]) and y.max() <= math.floor(mouth[3])
    assert x.max() - x.min() >= 17 and y.max() - y.min() >= 8  # spread over the box, not one spot
    patches = patch_pixels(frames, centres, 32, 100, 120).view(count, 32, 32, 3)
    overlaps = (patches[..., 2] >= 30) & (patches[..., 2] < 50) & (patches[..., 1] >= 60) & (patches[..., 1] < 71)
    assert overlaps.flatten(1).any(1).all()


def test_mouth_fraction_splits_patches_between_mouth_and_face():
    count = 4000
    masks = torch.ones(count, 100, 100, dtype=torch.bool)
    mouth, face = rects(count, (10, 10, 20, 20)), rects(count, (60, 60, 90, 90))
    centres = patch_centres(torch.arange(count), mouth, face, masks, 0.3, generator())
    in_mouth = (centres < 20).all(-1)
    in_face = (centres >= 60).all(-1)
    assert (in_mouth | in_face).all()
    assert abs(in_mouth.float().mean().item() - 0.3) < 0.03


def test_missing_box_falls_back_to_a_head_pixel():
    count = 6
    masks = torch.zeros(count, 16, 16, dtype=torch.bool)
    head = torch.tensor([[1, 2], [5, 14], [15, 0], [8, 8], [0, 15], [11, 3]])
    masks[torch.arange(count), head[:, 0], head[:, 1]] = True
    mouth = rects(count, (4, 4, 6, 6))
    mouth[::2] = float("nan")
    face = torch.full((count, 4), float("nan"))
    centres = patch_centres(torch.arange(count), mouth, face, masks, 1.0, generator())
    assert centres[::2].tolist() == head[::2].tolist()
    assert ((centres[1::2] >= 4) & (centres[1::2] <= 6)).all()
    centres = patch_centres(torch.tensor([4, 1]), mouth, face, masks, 0.0, generator())
    assert centres.tolist() == [head[4].tolist(), head[1].tolist()]
