"""The frames of another tracked video, read to drive an avatar with its coefficients and head poses."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor

from nerfblend_ns.avatar.loading import AvatarError
from nerfblend_ns.dataparsers.layouts import LayoutName, read_sequence
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.expression_space import COEFFICIENTS_KEY
from nerfblend_ns.residual_coefficients import is_residual_name


@dataclass
class DrivingSequence:
    """All frames of a tracked video in video order, coefficients ordered as the driven model's."""

    coefficients: Float[Tensor, "n k"]
    cameras: Cameras
    """[N] the video's cameras, in the model's world units (the dataparser's normalisation)."""
    neutral_names: List[str]
    """The model's residual coefficients held at 0 (neutral): the driving workspace is another clip, or lacks them."""


def _reorder(
    names: Sequence[str], model_names: Sequence[str], workspace: Path, own_clip: bool
) -> List[Optional[int]]:
    """Column of each model coefficient in the workspace's coefficients, None for a residual coefficient held at
    neutral; refuses a different set of named coefficients.

    A residual coefficient is a direction of the clip it was tracked from: another clip's values of the same
    name lie along other directions, so only the model's own workspace drives them."""
    named, model_named = ([name for name in group if not is_residual_name(name)] for group in (names, model_names))
    missing = [name for name in model_named if name not in named]
    extra = [name for name in named if name not in model_named]
    if missing or extra or len(named) != len(model_named):
        details = "; ".join(
            part for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not in the model {', '.join(extra)}" if extra else "",
            ) if part
        )
        raise AvatarError(
            f"{workspace}: its {len(names)} expression coefficients are not the model's {len(model_names)} "
            f"({details or 'repeated names'}); drive a model with coefficients of the same tracker"
        )
    return [
        None if is_residual_name(name) and (not own_clip or name not in names) else list(names).index(name)
        for name in model_names
    ]


def read_driving_sequence(
    workspace: Path, model_names: Sequence[str], layout: LayoutName = "auto", training_workspace: Optional[Path] = None
) -> DrivingSequence:
    """Every frame of `workspace` (any layout), in video order; `training_workspace` is the model's own, whose
    residual coefficients alone drive the model's (the others' are held at neutral)."""
    sequence = read_sequence(workspace, layout)
    own_clip = training_workspace is not None and workspace.resolve() == training_workspace.resolve()
    columns = _reorder(sequence.expression_names, model_names, workspace, own_clip)
    published = sequence.predefined_splits
    # Without published splits, holding out no test frames makes the train split the whole video.
    splits = [name for name, indices in published.items() if len(indices)] if published else ["train"]
    parser = NerfBlendDataParserConfig(data=workspace, layout=layout, test_frames=0).setup()
    by_frame = {}
    for split in splits:
        outputs = parser.get_dataparser_outputs(split)
        for position, frame in enumerate(outputs.metadata["frame_indices"].tolist()):
            by_frame.setdefault(frame, outputs.cameras[position : position + 1])
    frames = [by_frame[index] for index in sorted(by_frame)]
    cameras = Cameras(
        camera_to_worlds=torch.cat([c.camera_to_worlds for c in frames]),
        fx=torch.cat([c.fx for c in frames]), fy=torch.cat([c.fy for c in frames]),
        cx=torch.cat([c.cx for c in frames]), cy=torch.cat([c.cy for c in frames]),
        width=torch.cat([c.width for c in frames]), height=torch.cat([c.height for c in frames]),
        camera_type=torch.cat([c.camera_type for c in frames]),
    )
    driving = torch.cat([c.metadata[COEFFICIENTS_KEY] for c in frames])  # [N, K driving]
    coefficients = torch.zeros(driving.shape[0], len(model_names), dtype=driving.dtype)  # [N, K]
    for column, source in enumerate(columns):
        if source is not None:
            coefficients[:, column] = driving[:, source]
    neutral = [name for name, source in zip(model_names, columns) if source is None]
    return DrivingSequence(coefficients, cameras, neutral)
