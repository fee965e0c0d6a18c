"""Head mask from the person segmentation and the face landmarks, by one of two rules.

The selfie segmenter separates the person from the background but keeps neck, shoulders and clothing,
which move on their own. A rule bounds what of the person the mask keeps:

- chin-line: image space. Above the line through the chin across the face's axis
  everything of the person is kept; below it only a band around the face's vertical axis, as wide as a
  neck, ending a short way below the chin. This removes shoulders and clothing even when the chin is
  near the bottom of the frame.
- head-volume (the default): volumes fixed in the head's frame (mask_volume) and the face oval of the landmarks: the
  person's pixels that see the head volume (above a head-fixed plane under the ears) or lie inside the
  face oval (the jaw line below the ears), plus, as an option, those that see the neck cylinder. Since
  the bounds move with the head, a pixel's being in the mask depends on the head's pose and expression,
  not on image-space lines. Holes inside the head (eyes, an open mouth the segmenter missed) are filled.

Under both rules the connected part that holds the nose is the head (a raised hand or a second person
stays out). The head-volume rule is the default since on the fidelity benchmark its workspace of the
long address video scored higher than the chin-line's with the same poses (docs/tracking.md).
"""

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from nerfblend_ns.face_mesh_landmarks import CHEEKS, CHIN, FACE_OVAL, FOREHEAD, NOSE_TIP
from nerfblend_ns.mask_holes import filled_holes
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.masks.mask_volume import (
    WORKSPACE_RADIUS_M,
    MaskVolumeConfig,
    convex_polygon_image,
    head_volume_image,
    neck_in_front,
    neck_volume_points,
    volume_image,
)

MaskRule = Literal["chin-line", "head-volume"]
HEAD_VOLUME_VERSION = "head-fixed volumes and jaw line, 1"
"""Names the head-volume rule's geometry in the cache's settings: a change of it re-tracks cached frames."""
PERSON_THRESHOLD = 0.5
"""Selfie-segmenter confidence above which a pixel belongs to the person."""
NECK_BOTTOM_Y = -2.0 * WORKSPACE_RADIUS_M
"""Height down to which the neck can hide the head volume: the neck reaches below the workspace's ball."""
JAW_MARGIN = 0.03
"""The face oval is grown by this fraction of its size: MediaPipe's oval runs just inside the jaw's edge."""


@dataclass(frozen=True)
class HeadMaskConfig:
    """Which rule bounds the head mask, and the rules' settings."""

    rule: MaskRule = "head-volume"
    """head-volume: the person inside head-fixed volumes and the face oval (docs/tracking.md).
    chin-line, the earlier rule: the person above the chin plus a neck band below it, in the image."""
    neck_length: float = 0.25
    """chin-line: how far below the chin the neck is kept, in face lengths."""
    neck_half_width: float = 0.4
    """chin-line: half-width of the neck kept, in face widths."""
    volume: MaskVolumeConfig = field(default_factory=MaskVolumeConfig)
    """head-volume: the head-fixed bounds (where hair is cut under the ears, whether the neck is kept)."""


def face_oval_region(landmarks: np.ndarray, shape: tuple) -> np.ndarray:
    """Boolean image [H, W] inside the face oval of landmarks [478, 2], grown by JAW_MARGIN about its centre."""
    oval = landmarks[list(FACE_OVAL)]  # [36, 2]
    centre = oval.mean(axis=0)
    return convex_polygon_image(centre + (1.0 + JAW_MARGIN) * (oval - centre), shape)


def head_mask(
    person_confidence: np.ndarray,  # [H, W] selfie segmenter confidence in [0, 1]
    landmarks: np.ndarray,  # [478, 2] pixel coordinates
    camera_to_world: np.ndarray,  # [4, 4] the frame's OpenGL camera in the head-fixed world
    intrinsics: PinholeIntrinsics,
    config: HeadMaskConfig = HeadMaskConfig(),
) -> np.ndarray:
    """Boolean head mask [H, W] of a frame whose head pose is camera_to_world, by the configured rule."""
    if config.rule == "chin-line":
        return chin_line_mask(person_confidence, landmarks, config.neck_length, config.neck_half_width)
    return head_volume_mask(person_confidence, landmarks, camera_to_world, intrinsics, config.volume)


def chin_line_mask(
    person_confidence: np.ndarray,  # [H, W] selfie segmenter confidence in [0, 1]
    landmarks: np.ndarray,  # [478, 2] pixel coordinates
    neck_length: float,
    neck_half_width: float,
) -> np.ndarray:
    """Boolean head mask [H, W]: the person above the chin line and in the neck band below it.

    neck_length: how far below the chin the neck is kept, in face lengths (forehead to chin).
    neck_half_width: half the width of the kept neck band, in face widths (cheek to cheek).
    """
    chin, forehead = landmarks[CHIN], landmarks[FOREHEAD]
    face_length = float(np.linalg.norm(forehead - chin))
    face_width = float(np.linalg.norm(landmarks[CHEEKS[0]] - landmarks[CHEEKS[1]]))
    if face_length == 0.0 or face_width == 0.0:
        return np.zeros(person_confidence.shape, dtype=bool)
    up = (forehead - chin) / face_length  # [2] image direction from chin to forehead
    across = np.array([-up[1], up[0]])  # [2]
    reach = 4.0 * max(person_confidence.shape)  # far enough to leave the image on every side
    half_width = neck_half_width * face_width
    above_chin = [
        chin - reach * across,
        chin + reach * across,
        chin + reach * (across + up),
        chin + reach * (up - across),
    ]
    neck = [chin - half_width * across, chin + half_width * across]
    neck += [corner - neck_length * face_length * up for corner in neck[::-1]]
    region = np.zeros(person_confidence.shape, np.uint8)
    for polygon in (above_chin, neck):
        # pixel centres sit at +0.5; fillPoly works on integer corners, so shift by a sub-pixel grid of 1/16
        corners = np.round((np.array(polygon) - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(region, [corners], 1, lineType=cv2.LINE_8, shift=4)
    kept = (person_confidence > PERSON_THRESHOLD) & (region > 0)
    return _component_with_face(kept, landmarks)


def head_volume_mask(
    person_confidence: np.ndarray,  # [H, W] selfie segmenter confidence in [0, 1]
    landmarks: np.ndarray,  # [478, 2] pixel coordinates
    camera_to_world: np.ndarray,  # [4, 4] the frame's OpenGL camera in the head-fixed world
    intrinsics: PinholeIntrinsics,
    config: MaskVolumeConfig = MaskVolumeConfig(),
) -> np.ndarray:
    """Boolean head mask [H, W]: the person inside the head volume or the face oval (and the neck, if kept)."""
    shape = (intrinsics.height, intrinsics.width)
    if person_confidence.shape != shape:
        raise ValueError(
            f"person confidence of shape {person_confidence.shape} does not match the camera's "
            f"{intrinsics.height}×{intrinsics.width} image"
        )
    person = person_confidence > PERSON_THRESHOLD
    face = face_oval_region(landmarks, shape)
    kept = person & head_volume_image(config, camera_to_world, intrinsics)
    # Only where the neck's image overlaps the head volume's can the neck hide it: test those pixels' rays.
    neck_image = volume_image(neck_volume_points(config, NECK_BOTTOM_Y), camera_to_world, intrinsics)
    candidates = cv2.findNonZero((kept & neck_image & ~face).view(np.uint8))  # [M, 1, 2] (x, y), or None
    if candidates is not None:
        pixels = candidates[:, 0]
        hidden = pixels[neck_in_front(config, pixels + 0.5, camera_to_world, intrinsics)]
        kept[hidden[:, 1], hidden[:, 0]] = False
    kept |= person & face
    if config.keep_neck:
        kept |= person & volume_image(neck_volume_points(config, config.neck_cut_y), camera_to_world, intrinsics)
    return filled_holes(_component_with_face(kept, landmarks))


def _component_with_face(mask: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    label = _label_at(labels, landmarks[NOSE_TIP])
    if label == 0:  # segmentation hole at the nose: take the part covering most landmarks
        inside = [_label_at(labels, point) for point in landmarks]
        votes = np.bincount([value for value in inside if value > 0], minlength=count)
        label = int(votes.argmax()) if votes.any() else 0
    return labels == label if label > 0 else np.zeros_like(mask)


def _label_at(labels: np.ndarray, point: np.ndarray) -> int:
    col, row = int(np.floor(point[0])), int(np.floor(point[1]))
    if 0 <= row < labels.shape[0] and 0 <= col < labels.shape[1]:
        return int(labels[row, col])
    return 0
