"""The `nerfblend-data` dataparser: tracked head videos with per-frame expression coefficients."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Type

import numpy as np
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.data.dataparsers.base_dataparser import DataParser, DataParserConfig, DataparserOutputs
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.plugins.registry_dataparser import DataParserSpecification
from nerfstudio.utils.rich_utils import CONSOLE

from nerfblend_ns.dataparsers.frame_files import image_size, read_head_mask
from nerfblend_ns.dataparsers.layouts import LayoutName, read_sequence
from nerfblend_ns.dataparsers.splits import split_indices
from nerfblend_ns.dataparsers.tracked_sequence import Rect, SequenceFrame, TrackedSequence
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.input_errors import InputError


@dataclass
class NerfBlendDataParserConfig(DataParserConfig):
    """Tracked head video: frames, head masks, camera poses and expression coefficients."""

    _target: Type = field(default_factory=lambda: NerfBlendDataParser)
    data: Path = Path("data/demo")
    """Data folder: a nerfblend tracked workspace, or a subject of the NeRFBlendShape release, INSTA or NerFACE."""
    layout: LayoutName = "auto"
    """On-disk layout of the data folder; auto detects it."""
    test_frames: Optional[int] = None
    """Frames at the end of the video held out for testing (default: the layout's own count, else test-fraction).
    Data published with its splits (INSTA, NerFACE) keeps them; this, test-fraction and val-frames do not apply."""
    test_fraction: float = 0.125
    """Fraction of the video, at its end, held out for testing when no count is set."""
    val_frames: int = 8
    """Evenly spaced test frames used for evaluation during training."""
    head_radius: Optional[float] = None
    """Radius around the world origin that holds the head, in the data's units (default: the layout's)."""


def _rects(rects: List[Optional[Rect]]) -> torch.Tensor:
    """[N, 4] pixel boxes, NaN where a frame has none."""
    return torch.tensor([rect if rect is not None else (float("nan"),) * 4 for rect in rects], dtype=torch.float32)


@dataclass
class NerfBlendDataParser(DataParser):
    """Reads a tracked head video and normalises it by a fixed scale, so that any subject maps alike."""

    config: NerfBlendDataParserConfig

    def _generate_dataparser_outputs(self, split: str = "train", **kwargs) -> DataparserOutputs:
        _check_options(self.config)
        sequence = read_sequence(self.config.data, self.config.layout)
        CONSOLE.print(f"[bold]nerfblend-data[/bold]: {self.config.data} read as layout '{sequence.layout}'")
        splits = _splits(sequence, self.config)
        if split not in splits:
            raise ValueError(f"unknown split '{split}', expected one of {', '.join(splits)}")
        for name in ("train", split):
            if len(splits[name]) == 0:
                cause = "as published" if sequence.predefined_splits else "test-frames/test-fraction leave none"
                raise WorkspaceError(sequence.source, f"the {name} split is empty ({len(sequence.frames)} frames, {cause})")
        frames = [sequence.frames[i] for i in splits[split]]
        for frame in frames:
            _check_frame_files(frame, sequence)
        train_expressions = np.stack([sequence.frames[i].expression for i in splits["train"]])  # [T, K]
        head_radius = self.config.head_radius if self.config.head_radius is not None else sequence.head_radius
        cameras = _cameras(frames, 1.0 / head_radius)
        landmarks = sequence.landmarks
        return DataparserOutputs(
            image_filenames=[frame.image_path for frame in frames],
            cameras=cameras,
            scene_box=SceneBox(aabb=torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])),
            dataparser_scale=1.0 / head_radius,
            metadata={
                "layout": sequence.layout,
                "expression_names": list(sequence.expression_names),
                "expr_min": torch.from_numpy(train_expressions.min(axis=0)).float(),
                "expr_max": torch.from_numpy(train_expressions.max(axis=0)).float(),
                "expressions": cameras.metadata["expr"],
                "head_mask_filenames": [frame.mask_path for frame in frames],
                "mask_encoding": sequence.mask_encoding,
                "mouth_rects": _rects([frame.mouth_rect for frame in frames]),
                "face_rects": _rects([frame.face_rect for frame in frames]),
                "face_ovals": None if landmarks is None else torch.from_numpy(landmarks.face_ovals()[splits[split]]).float(),
                "landmark_kind": None if landmarks is None else landmarks.kind,
                "frame_indices": torch.from_numpy(splits[split]).long(),
                "background_filename": sequence.background_path,
            },
        )


class DataParserOptionError(InputError):
    """A dataparser option out of its range; the message names the flag."""


OPTION_PREFIX = "--pipeline.datamanager.dataparser."


def _check_options(config: NerfBlendDataParserConfig) -> None:
    """Refuses options that would give a mirrored or NaN scene, or splits of negative size, before reading."""
    radius, fraction = config.head_radius, config.test_fraction
    problems = {
        "head-radius": radius is not None and not (math.isfinite(radius) and radius > 0),
        "test-fraction": not (math.isfinite(fraction) and 0 <= fraction <= 1),
        "test-frames": config.test_frames is not None and config.test_frames < 0,
        "val-frames": config.val_frames < 0,
    }
    ranges = {
        "head-radius": (radius, "a positive number"), "test-fraction": (fraction, "between 0 and 1"),
        "test-frames": (config.test_frames, "≥ 0"), "val-frames": (config.val_frames, "≥ 0"),
    }
    for flag, bad in problems.items():
        if bad:
            value, accepted = ranges[flag]
            raise DataParserOptionError(f"{OPTION_PREFIX}{flag} {value}: must be {accepted}")


def _splits(sequence: TrackedSequence, config: NerfBlendDataParserConfig) -> Dict[str, np.ndarray]:
    """Frame indices per split: the data's published splits where it has them, else the end of the video."""
    if sequence.predefined_splits is not None:
        CONSOLE.print("[bold]nerfblend-data[/bold]: using the train/val/test splits published with the data")
        return {name: np.asarray(indices, dtype=np.int64) for name, indices in sequence.predefined_splits.items()}
    test_frames = config.test_frames
    if test_frames is None and (sequence.default_test_frames or 0) < len(sequence.frames):
        test_frames = sequence.default_test_frames  # a short clip of a long-video layout uses the fraction
    return split_indices(len(sequence.frames), test_frames, config.test_fraction, config.val_frames)


def _check_frame_files(frame: SequenceFrame, sequence: TrackedSequence) -> None:
    expected = (frame.intrinsics.width, frame.intrinsics.height)
    found = image_size(frame.image_path)
    if found != expected:
        raise WorkspaceError(frame.image_path, f"image is {found[0]}×{found[1]}, {sequence.source.name} says {expected[0]}×{expected[1]}")
    for name, rect in (("mouth_rect", frame.mouth_rect), ("face_rect", frame.face_rect)):
        # Patches are moved inside the image: a box outside it would train its patches at the image's edge.
        if rect is not None and (rect[2] <= 0 or rect[3] <= 0 or rect[0] >= expected[0] or rect[1] >= expected[1]):
            raise WorkspaceError(
                sequence.source, f"{frame.image_path.name}: its {name} {list(rect)} lies outside its {expected[0]}×{expected[1]} image"
            )
    mask = read_head_mask(frame.mask_path, sequence.mask_encoding, sequence.background_path)
    if mask.shape[::-1] != expected:
        raise WorkspaceError(frame.mask_path, f"mask is {mask.shape[1]}×{mask.shape[0]}, its image is {expected[0]}×{expected[1]}")


def _cameras(frames: List[SequenceFrame], scale: float) -> Cameras:
    camera_to_worlds = torch.from_numpy(np.stack([frame.camera_to_world[:3] for frame in frames])).float()  # [N, 3, 4]
    camera_to_worlds[:, :, 3] *= scale

    def column(name: str, dtype=torch.float32) -> torch.Tensor:
        return torch.tensor([[getattr(frame.intrinsics, name)] for frame in frames], dtype=dtype)  # [N, 1]

    return Cameras(
        camera_to_worlds=camera_to_worlds,
        fx=column("fx"),
        fy=column("fy"),
        cx=column("cx"),
        cy=column("cy"),
        width=column("width", torch.int64),
        height=column("height", torch.int64),
        camera_type=CameraType.PERSPECTIVE,
        metadata={"expr": torch.from_numpy(np.stack([frame.expression for frame in frames])).float()},  # [N, K]
    )


nerfblend_dataparser = DataParserSpecification(
    config=NerfBlendDataParserConfig(),
    description="Tracked head videos with per-frame expression coefficients (nerfblend workspace, NeRFBlendShape release, INSTA, NerFACE).",
)
