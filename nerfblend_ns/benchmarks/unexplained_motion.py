"""How much of each test frame's face motion its coefficients leave unexplained, for telling the tracker's
errors from the model's.

The model renders the expression its coefficients give. Where a frame's brows or lips sit where no
coefficient puts them (a brow raise MediaPipe scores as neutral), the model draws the wrong face from the
right inputs. Per face part (tracking/expressions/expression_fidelity.py: landmarks relative to the eye
corners, in head-frame axes), a linear map from the coefficients to the part's landmarks is fitted on the
training frames, and each test frame gets the RMS distance between its landmarks and the map's prediction.
A test PSNR that falls as that distance grows points at the tracker (docs/quality.md).
"""

from typing import Dict, Sequence

import numpy as np
from jaxtyping import Float

from nerfblend_ns.dataparsers.tracked_sequence import TrackedSequence
from nerfblend_ns.tracking.expressions.expression_fidelity import (
    FACE_PARTS,
    part_in_head_frame,
    per_frame_rms,
    unexplained_motion,
)

LANDMARK_KIND = "mediapipe-478"
"""The only landmarks that hold the face parts; other sequences get no measure."""


def unexplained_motion_of_test_frames(
    sequence: TrackedSequence, train_frames: Sequence[int], test_frames: Sequence[int]
) -> Dict[str, Float[np.ndarray, "t"]]:
    """Per face part, each test frame's RMS distance of its part's landmarks from what its coefficients predict
    (mm where the poses are in metres); frames are indices into sequence.frames. Empty without MediaPipe landmarks."""
    if sequence.landmarks is None or sequence.landmarks.kind != LANDMARK_KIND:
        return {}
    used = np.concatenate([np.asarray(train_frames, dtype=np.int64), np.asarray(test_frames, dtype=np.int64)])
    fitted = np.arange(len(used)) < len(train_frames)
    coefficients = np.stack([sequence.frames[i].expression for i in used]).astype(np.float64)  # [N, K]
    landmarks = sequence.landmarks.points[used].astype(np.float64)  # [N, 478, 3]
    result = {}
    for part in FACE_PARTS:
        # Per frame: a sequence's frames may differ in intrinsics.
        points = np.concatenate([
            part_in_head_frame(landmarks[j : j + 1], part, sequence.frames[i].camera_to_world[None], sequence.frames[i].intrinsics)
            for j, i in enumerate(used)
        ])  # [N, M, 3]
        result[part] = per_frame_rms(unexplained_motion(coefficients, points, fitted))[~fitted]
    return result
