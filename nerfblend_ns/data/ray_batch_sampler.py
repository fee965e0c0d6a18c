"""Which frames and pixels a training step uses; pure functions of a torch.Generator.

Pixels are drawn over the whole image: the head mask is a supervision target, and a mask
loss needs background rays as much as head rays. Every function draws on the device of its
generator, so the same code samples on a GPU-resident cache and on a CPU one.
"""

from typing import Tuple

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor


def draw_frames(
    queue: Int[Tensor, "q"], count: int, num_frames: int, generator: torch.Generator
) -> Tuple[Int[Tensor, "count"], Int[Tensor, "q2"]]:
    """`count` distinct frames from the front of the epoch queue, and the queue left after them.

    The queue is the unused rest of a random permutation; start with an empty one. When it runs
    short, a new permutation tops it up with frames not already in this step, and what remains
    of that permutation becomes the next queue: every frame is drawn once per `num_frames` draws.
    """
    if not 0 < count <= num_frames:
        raise ValueError(f"cannot draw {count} distinct frames out of {num_frames}")
    if queue.numel() >= count:
        return queue[:count], queue[count:]
    fresh = torch.randperm(num_frames, generator=generator, device=generator.device)  # [N]
    in_step = torch.zeros(num_frames, dtype=torch.bool, device=fresh.device)
    in_step[queue] = True
    top_up = fresh[~in_step[fresh]][: count - queue.numel()]
    return torch.cat((queue, top_up)), fresh[~torch.isin(fresh, top_up)]


def random_pixels(
    frames: Int[Tensor, "b"], per_frame: int, height: int, width: int, generator: torch.Generator
) -> Int[Tensor, "r 3"]:
    """`per_frame` uniformly random (frame, y, x) in each frame, grouped by frame."""
    count = frames.numel() * per_frame
    y = torch.randint(height, (count,), generator=generator, device=generator.device)
    x = torch.randint(width, (count,), generator=generator, device=generator.device)
    return torch.stack((frames.repeat_interleave(per_frame), y, x), dim=-1)


def random_pixels_in_boxes(
    frames: Int[Tensor, "b"], per_frame: int, boxes: Float[Tensor, "b 4"], height: int, width: int, generator: torch.Generator
) -> Int[Tensor, "r 3"]:
    """`per_frame` uniformly random (frame, y, x) inside each frame's box (x0, y0, x1, y1 in pixels, clipped to
    the image), grouped by frame; uniform over the image where a frame's box is missing (NaN)."""
    device = generator.device
    image = torch.tensor([0.0, 0.0, width, height], device=device)
    boxes = torch.where(boxes.isnan().any(-1, keepdim=True), image, boxes.to(device))  # [B, 4]
    low = torch.minimum(boxes[:, :2], boxes[:, 2:]).clamp_min(0)  # [B, 2] (x, y)
    high = torch.minimum(torch.maximum(boxes[:, :2], boxes[:, 2:]), image[2:])  # [B, 2]
    along = torch.rand(frames.numel(), per_frame, 2, generator=generator, device=device)  # [B, P, 2]
    points = (low[:, None] + along * (high - low)[:, None]).floor().reshape(-1, 2)  # [R, 2] (x, y)
    x = points[:, 0].long().clamp(0, width - 1)
    y = points[:, 1].long().clamp(0, height - 1)
    return torch.stack((frames.repeat_interleave(per_frame), y, x), dim=-1)


def random_head_pixels(head_masks: Bool[Tensor, "m h w"], generator: torch.Generator) -> Int[Tensor, "m 2"]:
    """One uniformly random head pixel (y, x) of each mask; masks must not be empty."""
    flat = torch.multinomial(head_masks.flatten(1).float(), 1, generator=generator).squeeze(1)  # [M]
    width = head_masks.shape[2]
    return torch.stack((flat // width, flat % width), dim=-1)


def patch_centres(
    frames: Int[Tensor, "b"],
    mouth_rects: Float[Tensor, "n 4"],
    face_rects: Float[Tensor, "n 4"],
    head_masks: Bool[Tensor, "n h w"],
    mouth_fraction: float,
    generator: torch.Generator,
) -> Int[Tensor, "b 2"]:
    """Centre pixel (y, x) of each frame's patch: uniform in its mouth box with probability
    `mouth_fraction`, else in its face box; a random head pixel where that box is missing (NaN).

    Boxes are x0, y0, x1, y1 in pixels; the centre is the pixel that holds a uniform point of the box
    (`random_pixels_in_boxes`).
    """
    device = generator.device
    use_mouth = torch.rand(frames.numel(), generator=generator, device=device) < mouth_fraction  # [B]
    rects = torch.where(use_mouth[:, None], mouth_rects[frames].to(device), face_rects[frames].to(device))  # [B, 4]
    height, width = head_masks.shape[1:]
    centres = random_pixels_in_boxes(frames, 1, rects, height, width, generator)[:, 1:]  # [B, 2] (y, x)
    missing = rects.isnan().any(-1)  # [B]
    if missing.any():
        centres[missing] = random_head_pixels(head_masks[frames[missing]], generator)
    return centres


def patch_pixels(
    frames: Int[Tensor, "b"], centres: Int[Tensor, "b 2"], size: int, height: int, width: int
) -> Int[Tensor, "p 3"]:
    """A size×size block around each centre, moved to lie inside the image: (frame, y, x) for
    patch after patch, each in row-major order, so the result views as [B, size, size, 3]."""
    if size > min(height, width):
        raise ValueError(f"a {size}×{size} patch does not fit in a {width}×{height} image")
    top = (centres[:, 0] - size // 2).clamp(0, height - size)  # [B]
    left = (centres[:, 1] - size // 2).clamp(0, width - size)  # [B]
    offsets = torch.arange(size, device=centres.device)  # [S]
    y = top[:, None, None] + offsets[None, :, None]  # [B, S, 1]
    x = left[:, None, None] + offsets[None, None, :]  # [B, 1, S]
    return torch.stack(torch.broadcast_tensors(frames[:, None, None], y, x), dim=-1).reshape(-1, 3)
