"""The frames of another tracked video, read to drive an avatar with its coefficients and head poses."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor

from nerfblend_ns.avatar.loading import AvatarError
from nerfblend_ns.dataparsers.layouts import LayoutName, read_sequence
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.expression_space import COEFFICIENTS_KEY


@dataclass
class DrivingSequence:
    """All frames of a tracked video in video order, coefficients ordered as the driven model's."""

    coefficients: Float[Tensor, "n k"]
    cameras: Cameras
    """[N] the video's cameras, in the model's world units (the dataparser's normalisation)."""


def _reorder(names: Sequence[str], model_names: Sequence[str], workspace: Path) -> List[int]:
    """Column of each model coefficient in the workspace's coefficients; refuses a different set."""
    if list(names) == list(model_names):
        return list(range(len(names)))
    missing = [name for name in model_names if name not in names]
    extra = [name for name in names if name not in model_names]
    if missing or extra or len(names) != len(model_names):
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
    return [list(names).index(name) for name in model_names]


def read_driving_sequence(workspace: Path, model_names: Sequence[str], layout: LayoutName = "auto") -> DrivingSequence:
    """Every frame of `workspace` (any layout), in video order."""
    sequence = read_sequence(workspace, layout)
    columns = _reorder(sequence.expression_names, model_names, workspace)
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
    coefficients = torch.cat([c.metadata[COEFFICIENTS_KEY] for c in frames])[:, columns]  # [N, K]
    return DrivingSequence(coefficients, cameras)
