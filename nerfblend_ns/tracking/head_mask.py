"""Head mask (face, ears, hair; the neck on request) from the person segmentation, the face oval and the camera.

The selfie segmenter separates the person from the background but keeps neck, shoulders and clothing,
which move on their own. What the mask keeps is bounded by volumes fixed in the head's frame
(mask_volume) and by the face oval of the landmarks: the person's pixels that see the head volume
(above a head-fixed plane under the ears) or lie inside the face oval (the jaw line below the ears),
plus, as an option, those that see the neck cylinder. Since the bounds move with the head, a pixel's
being in the mask depends on the head's pose and expression, not on image-space rules. The connected
part that holds the nose is the head (a raised hand or a second person stays out), and holes inside it
(eyes, an open mouth the segmenter missed) are filled.
"""

import cv2
import numpy as np

from nerfblend_ns.dataparsers.landmark_file import FACE_OVAL
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking import face_landmarks
from nerfblend_ns.tracking.mask_volume import (
    WORKSPACE_RADIUS_M,
    MaskVolumeConfig,
    convex_polygon_image,
    head_volume_image,
    neck_in_front,
    neck_volume_points,
    volume_image,
)

MASK_RULE = "head-fixed volumes and jaw line, 1"
"""Names the rule in the cache's settings: a workspace tracked under another rule re-tracks its frames."""
PERSON_THRESHOLD = 0.5
"""Selfie-segmenter confidence above which a pixel belongs to the person."""
NECK_BOTTOM_Y = -2.0 * WORKSPACE_RADIUS_M
"""Height down to which the neck can hide the head volume: the neck reaches below the workspace's ball."""
JAW_MARGIN = 0.03
"""The face oval is grown by this fraction of its size: MediaPipe's oval runs just inside the jaw's edge."""


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
    config: MaskVolumeConfig = MaskVolumeConfig(),
) -> np.ndarray:
    """Boolean head mask [H, W] of a frame whose head pose is camera_to_world."""
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
    return _fill_holes(_component_with_face(kept, landmarks))


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """mask [H, W] with every background region that does not touch the image border added."""
    outside = np.pad(~mask, 1, constant_values=True).astype(np.uint8)  # a border ring joins every outside region
    cv2.floodFill(outside, None, (0, 0), 0)
    return mask | (outside[1:-1, 1:-1] > 0)


def _component_with_face(mask: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    label = _label_at(labels, landmarks[face_landmarks.NOSE_TIP])
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
