"""Reads NerFACE data sets as published.

One subject folder holds `transforms_{train,val,test}.json`, each with `camera_angle_x` and `intrinsics`
= [fx, fy, cx / W, cy / H] (focal lengths in pixels, the principal point as a fraction of the image
size; without `intrinsics`, fx = fy from `camera_angle_x` and the principal point at the centre), frames
with `file_path` (without extension: the image is `<file_path>.png`), `bbox` (the face box, [y0, y1, x0,
x1] as fractions of the image size), `transform_matrix` and `expression` (76 Face2Face coefficients), and
the static background `bg/00050.png`.

Cameras: NerFACE casts the ray of pixel (i, j) along [(i − W·cx) / fx, −(j − H·cy) / fy, −1] turned by
`transform_matrix`, an OpenGL camera-to-world (x right, y up, looking down −z), through integer pixel
coordinates where nerfstudio goes through pixel centres: the principal point here is W·cx + ½, H·cy + ½.
The published data sets have a negative fx (and camera_angle_x). A photograph seen by a camera of positive
focal lengths is not mirrored, so a negative one says that NerFACE's world is the mirror image of the real
scene. nerfstudio needs
positive focal lengths, and |fx| alone would mirror each image about its own camera, which no single
scene explains; so the camera's x axis is flipped with the sign of fx (y likewise with fy) and, where
that leaves a reflection, the world is mirrored in x. The camera-to-world is rigid again, every image
renders as published, and the world has the real scene's handedness.

World: fixed to the head (the tracked head pose is the camera pose). The exporter scales translations
so that the cameras are on average 0.5 from the origin, and NerFACE renders between depths 0.2 and 0.8:
along the view, what it models lies within 0.3 of the origin.

Masks: `masks/<file_path>.png` (8-bit, > 127 is head) where the folder has a `masks` folder; else the
difference of each frame to the background image, which keeps neck and shoulders along with the head.

Splits: the three files', used as given.
"""

from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np

from nerfblend_ns.dataparsers.frame_files import image_size
from nerfblend_ns.dataparsers.json_io import require_key
from nerfblend_ns.dataparsers.split_files import PublishedFrame, first_frame, read_split_files, train_top_level
from nerfblend_ns.dataparsers.tracked_sequence import Rect, SequenceFrame, TrackedSequence
from nerfblend_ns.dataparsers.value_checks import finite_array, optional_rect, rigid_transform
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

LAYOUT_NAME = "nerface"
HEAD_RADIUS = 0.3
"""In the exporter's units, where cameras are on average 0.5 from the origin: half NerFACE's own depth range."""
BACKGROUND_FILE = "bg/00050.png"
MASK_FOLDER = "masks"
PIXEL_CENTRE = 0.5
WORLD_MIRROR = np.diag([-1.0, 1.0, 1.0, 1.0])


def is_nerface(root: Path) -> bool:
    meta = train_top_level(root)
    return (
        meta is not None
        and ("camera_angle_x" in meta or "intrinsics" in meta)
        and "expression" in first_frame(meta)
    )


def _signed_camera(meta: Dict[str, Any], path: Path, width: int, height: int) -> Tuple[PinholeIntrinsics, np.ndarray]:
    """Intrinsics with positive focal lengths, and the [4, 4] camera axis flip that their signs ask for."""
    if meta.get("intrinsics"):
        fx, fy, cx, cy = finite_array(meta["intrinsics"], (4,), path, "'intrinsics'").tolist()
    else:
        angle = float(finite_array(require_key(meta, "camera_angle_x", path, "the top level"), (), path, "'camera_angle_x'"))
        fx = fy = 0.5 * width / np.tan(0.5 * angle)
        cx = cy = 0.5
    if not (np.isfinite(fx) and np.isfinite(fy) and fx != 0 and fy != 0):
        raise WorkspaceError(path, f"focal lengths must be finite and non-zero, got fx={fx}, fy={fy}")
    intrinsics = PinholeIntrinsics(
        width=width, height=height, fx=abs(fx), fy=abs(fy),
        cx=cx * width + PIXEL_CENTRE, cy=cy * height + PIXEL_CENTRE,
    )
    return intrinsics, np.diag([np.sign(fx), np.sign(fy), 1.0, 1.0])


def read_nerface(root: Path) -> TrackedSequence:
    published = read_split_files(root, in_file_path_order=False)
    background = root / BACKGROUND_FILE
    masks = root / MASK_FOLDER
    cameras: Dict[Path, Tuple[PinholeIntrinsics, np.ndarray]] = {}
    frames = []
    for frame in published.frames:
        image_path = root / f"{frame.file_path}.png"
        if frame.source not in cameras:
            meta = published.top_levels[frame.source]
            cameras[frame.source] = _signed_camera(meta, frame.source, *image_size(image_path))
        intrinsics, flip = cameras[frame.source]
        if not np.array_equal(flip, cameras[published.frames[0].source][1]):
            raise WorkspaceError(frame.source, "its focal lengths differ in sign from the other split files'")
        frames.append(
            SequenceFrame(
                image_path=image_path,
                mask_path=masks / f"{frame.file_path}.png" if masks.is_dir() else image_path,
                camera_to_world=_rigid_camera(frame, flip),
                expression=_expression(frame, frames[0].expression.size if frames else None),
                intrinsics=intrinsics,
                face_rect=_face_rect(frame, intrinsics),
            )
        )
    if not masks.is_dir() and not background.is_file():
        raise WorkspaceError(
            background, f"background image not found: head masks are taken from it, or from {MASK_FOLDER}/<file_path>.png"
        )
    return TrackedSequence(
        layout=LAYOUT_NAME,
        source=published.frames[0].source,
        expression_names=[f"f2f_expr_{index:03d}" for index in range(frames[0].expression.size)],
        frames=frames,
        head_radius=HEAD_RADIUS,
        mask_encoding="gray" if masks.is_dir() else "background-difference",
        background_path=background if background.is_file() else None,
        predefined_splits=published.splits,
    )


def _rigid_camera(frame: PublishedFrame, flip: np.ndarray) -> np.ndarray:
    """Camera-to-world [4, 4] that, with positive focal lengths, renders what NerFACE renders with signed ones."""
    matrix = require_key(frame.record, "transform_matrix", frame.source, frame.where)
    flipped = rigid_transform(matrix, frame.source, f"{frame.where} 'transform_matrix'") @ flip
    return WORLD_MIRROR @ flipped if np.linalg.det(flip) < 0 else flipped


def _expression(frame: PublishedFrame, count: Optional[int]) -> np.ndarray:
    values = require_key(frame.record, "expression", frame.source, frame.where)
    if not isinstance(values, list) or not values:
        raise WorkspaceError(frame.source, f"{frame.where} 'expression' must be a non-empty list")
    if count is not None and len(values) != count:
        raise WorkspaceError(
            frame.source, f"{frame.where} 'expression' has length {len(values)}, expected {count} like the first frame"
        )
    return finite_array(values, (len(values),), frame.source, f"{frame.where} 'expression'")


def _face_rect(frame: PublishedFrame, intrinsics: PinholeIntrinsics) -> Optional[Rect]:
    if "bbox" not in frame.record:
        return None
    top, bottom, left, right = finite_array(frame.record["bbox"], (4,), frame.source, f"{frame.where} 'bbox'").tolist()
    box = [left * intrinsics.width, top * intrinsics.height, right * intrinsics.width, bottom * intrinsics.height]
    return optional_rect(box, frame.source, f"{frame.where} 'bbox'")
