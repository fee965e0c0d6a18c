"""Training frames seen in a mirror: a frame's rays reflected through the head's plane of symmetry, with the
coefficients of its left and right sides swapped.

A short clip shows each side of the head only as far as the head turned that way; a view turned further
(a test frame, the viewer) meets space no training ray crossed. A face is close to symmetric, so the
reflected frame is a plausible view of the other side: each pixel keeps its colour, because the reflected
ray meets the reflected head where the original ray met the head. The head frame's x = 0 plane is the
face's plane of symmetry (the tracker's world frame is MediaPipe's canonical face frame, which is
symmetric; the synthetic head is built about it). What is not symmetric (a parting, a lock of hair, a
mole) is averaged with its mirror image on the frames so reflected: hence a probability, not always.
"""

from typing import List, Optional, Sequence, Tuple

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from nerfblend_ns.expression_space import ExpressionSpace
from nerfblend_ns.residual_coefficients import is_residual_name

_SIDES = (("Left", "Right"), ("left", "right"))


def _other_side(name: str) -> Optional[str]:
    """The name with its side word swapped, or None for a name without one."""
    for one, other in _SIDES:
        if one in name:
            return name.replace(one, other)
        if other in name:
            return name.replace(other, one)
    return None


def mirror_permutation(names: Sequence[str]) -> Int[Tensor, "k"]:
    """[K] the index of each coefficient's mirror image: its other side's (`eyeBlinkLeft` ↔ `eyeBlinkRight`,
    `mouthLeft` ↔ `mouthRight`, as ARKit names sides), else its own. Raises ValueError for a coefficient whose
    mirror image is not a coefficient: a side without its other side, or a clip's residual coefficient (its
    motion is learned from one clip and need not be symmetric)."""
    index = {name: i for i, name in enumerate(names)}
    permutation: List[int] = []
    unmirrorable: List[str] = []
    for i, name in enumerate(names):
        other = _other_side(name)
        if is_residual_name(name) or (other is not None and other not in index):
            unmirrorable.append(name)
        permutation.append(index.get(other, i) if other is not None else i)
    if unmirrorable:
        raise ValueError(
            f"--pipeline.model.mirror-probability needs each coefficient's mirror image among the coefficients; "
            f"{', '.join(unmirrorable)} has none (a side without its other side, or a residual coefficient): "
            f"train without mirrored frames, or track the clip without residual coefficients"
        )
    return torch.tensor(permutation, dtype=torch.long)


def mirrored_range(space: ExpressionSpace, permutation: Int[Tensor, "k"]) -> ExpressionSpace:
    """`space` with each coefficient's training range widened to cover its mirror image's, so that a mirrored
    frame's coefficients are neither clamped nor left outside the occupancy grid's expressions."""
    permutation = permutation.to(space.minimum.device)
    minimum = torch.minimum(space.minimum, space.minimum[permutation])
    maximum = torch.maximum(space.maximum, space.maximum[permutation])
    return ExpressionSpace(space.names, space.training_coefficients, minimum, maximum, space.clamps)


def reflect(vectors: Float[Tensor, "*n 3"]) -> Float[Tensor, "*n 3"]:
    """Points or directions reflected through the head frame's x = 0 plane."""
    return vectors * vectors.new_tensor([-1.0, 1.0, 1.0])


def mirror_frames(
    origins: Float[Tensor, "r 3"],
    directions: Float[Tensor, "r 3"],
    per_table: Float[Tensor, "b k"],
    table_index: Int[Tensor, "r"],
    permutation: Int[Tensor, "k"],
    probability: float,
    generator: Optional[torch.Generator] = None,
) -> Tuple[Float[Tensor, "r 3"], Float[Tensor, "r 3"], Float[Tensor, "b k"], Bool[Tensor, "b"]]:
    """Each frame (a row of `per_table`, its rays those whose `table_index` names it) mirrored with
    `probability`: its rays reflected and its coefficients permuted to their mirror images. Returns the
    origins, directions, coefficients and which frames were mirrored. A whole frame is mirrored or not, so that
    it still blends one table and its patches stay images."""
    mirrored = torch.rand(per_table.shape[0], generator=generator, device=per_table.device) < probability  # [B]
    rays = mirrored[table_index][:, None]  # [R, 1]
    origins = torch.where(rays, reflect(origins), origins)
    directions = torch.where(rays, reflect(directions), directions)
    per_table = torch.where(mirrored[:, None], per_table[:, permutation.to(per_table.device)], per_table)
    return origins, directions, per_table, mirrored
