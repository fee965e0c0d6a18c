"""Reads the layout of the official NeRFBlendShape data release.

One subject folder holds `transforms.json` (top-level `h, w, fx, fy, cx, cy`; frames with
`img_id`, `transform_matrix` and the 46 FaceWarehouse coefficients `exp_ori`), `head_imgs/<id>.jpg`
(frames whose non-head pixels show the static background `bc.jpg`), `parsing/<id>.png` (face parsing,
head pixels RGB (0, 0, 255)) and `ori_imgs/<id>.lms` (478 MediaPipe landmarks in pixels).
"""

from pathlib import Path
from typing import Optional

import numpy as np

from nerfblend_ns.dataparsers.json_io import load_json, require_key
from nerfblend_ns.dataparsers.tracked_sequence import Rect, SequenceFrame, TrackedSequence
from nerfblend_ns.dataparsers.value_checks import finite_array, positive_number, rigid_transform
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.face_mesh_landmarks import MOUTH_MARGIN, NUM_LANDMARKS, OUTER_LIP_LANDMARKS
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

LAYOUT_NAME = "nerfblendshape-release"
TRANSFORMS_FILE = "transforms.json"
HEAD_RADIUS = 0.06 / 0.33
"""The release's code scales translations by 0.33 and bounds the head by ±0.06."""
RELEASE_TEST_FRAMES = 500
"""The release holds out its last 500 frames for testing."""


def is_official_release(root: Path) -> bool:
    return (root / TRANSFORMS_FILE).is_file() and (root / "head_imgs").is_dir() and (root / "parsing").is_dir()


def _landmark_rects(path: Path, width: int, height: int) -> tuple[Optional[Rect], Optional[Rect]]:
    if not path.is_file():
        return None, None
    try:
        landmarks = np.loadtxt(path, dtype=np.float64).reshape(-1, 2)  # [478, 2]
    except ValueError as error:
        raise WorkspaceError(path, f"malformed landmarks ({error})") from None
    if landmarks.shape[0] != NUM_LANDMARKS or not np.all(np.isfinite(landmarks)):
        raise WorkspaceError(path, f"expected {NUM_LANDMARKS} finite (x, y) landmarks, got {landmarks.shape[0]}")
    return _box(landmarks[list(OUTER_LIP_LANDMARKS)], MOUTH_MARGIN, width, height), _box(landmarks, 0.0, width, height)


def _box(points: np.ndarray, margin: float, width: int, height: int) -> Rect:
    low, high = points.min(axis=0), points.max(axis=0)  # [2]
    pad = (high - low) * margin
    low = np.clip(low - pad, 0, [width, height])
    high = np.clip(high + pad, 0, [width, height])
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def read_official_release(root: Path) -> TrackedSequence:
    path = root / TRANSFORMS_FILE
    meta = load_json(path)
    if not isinstance(meta, dict):
        raise WorkspaceError(path, "expected a json object at the top level")
    intrinsics = PinholeIntrinsics(
        width=int(positive_number(require_key(meta, "w", path, "the top level"), path, "'w'")),
        height=int(positive_number(require_key(meta, "h", path, "the top level"), path, "'h'")),
        fx=positive_number(require_key(meta, "fx", path, "the top level"), path, "'fx'"),
        fy=positive_number(require_key(meta, "fy", path, "the top level"), path, "'fy'"),
        cx=positive_number(require_key(meta, "cx", path, "the top level"), path, "'cx'"),
        cy=positive_number(require_key(meta, "cy", path, "the top level"), path, "'cy'"),
    )
    raw_frames = require_key(meta, "frames", path, "the top level")
    if not isinstance(raw_frames, list) or not raw_frames:
        raise WorkspaceError(path, "'frames' must be a non-empty list")
    first = require_key(raw_frames[0], "exp_ori", path, "frame 0")
    num_expressions = len(first) if isinstance(first, list) else 0
    if num_expressions == 0:
        raise WorkspaceError(path, "frame 0 'exp_ori' must be a non-empty list")
    frames = []
    for index, frame in enumerate(sorted(raw_frames, key=lambda f: f.get("img_id", -1) if isinstance(f, dict) else -1)):
        where = f"frame {index}"
        image_id = int(require_key(frame, "img_id", path, where))
        mouth, face = _landmark_rects(root / "ori_imgs" / f"{image_id}.lms", intrinsics.width, intrinsics.height)
        expression = require_key(frame, "exp_ori", path, where)
        if not isinstance(expression, list) or len(expression) != num_expressions:
            raise WorkspaceError(path, f"frame with img_id {image_id} 'exp_ori' does not have {num_expressions} values")
        frames.append(
            SequenceFrame(
                image_path=root / "head_imgs" / f"{image_id}.jpg",
                mask_path=root / "parsing" / f"{image_id}.png",
                camera_to_world=rigid_transform(
                    require_key(frame, "transform_matrix", path, where), path, f"img_id {image_id} 'transform_matrix'"
                ),
                expression=finite_array(expression, (num_expressions,), path, f"img_id {image_id} 'exp_ori'"),
                intrinsics=intrinsics,
                mouth_rect=mouth,
                face_rect=face,
            )
        )
    background = root / "bc.jpg"
    return TrackedSequence(
        layout=LAYOUT_NAME,
        source=path,
        expression_names=[f"exp_{index:03d}" for index in range(num_expressions)],
        frames=frames,
        head_radius=HEAD_RADIUS,
        mask_encoding="parsing",
        background_path=background if background.is_file() else None,
        default_test_frames=RELEASE_TEST_FRAMES,
    )
