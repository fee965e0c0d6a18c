"""Head mask (head, hair, upper neck) from a person segmentation and the face landmarks.

The selfie segmenter separates the person from the background but keeps shoulders and clothing.
Below the chin only a band around the face's vertical axis, as wide as a neck, is kept, and it ends a
short way below the chin: this removes shoulders and clothing even when the chin is near the bottom of
the frame. The connected part that holds the nose is the head (a raised hand or a second person stays
out).
"""

import cv2
import numpy as np

from nerfblend_ns.tracking import face_landmarks


def head_mask(
    person_confidence: np.ndarray,  # [H, W] selfie segmenter confidence in [0, 1]
    landmarks: np.ndarray,  # [478, 2] pixel coordinates
    neck_length: float = 0.25,
    neck_half_width: float = 0.4,
    threshold: float = 0.5,
) -> np.ndarray:
    """Boolean head mask [H, W].

    neck_length: how far below the chin the neck is kept, in face lengths (forehead to chin).
    neck_half_width: half the width of the kept neck band, in face widths (cheek to cheek).
    """
    chin, forehead = landmarks[face_landmarks.CHIN], landmarks[face_landmarks.FOREHEAD]
    face_length = float(np.linalg.norm(forehead - chin))
    face_width = float(np.linalg.norm(landmarks[face_landmarks.CHEEKS[0]] - landmarks[face_landmarks.CHEEKS[1]]))
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
    kept = (person_confidence > threshold) & (region > 0)
    return _component_with_face(kept, landmarks)


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
