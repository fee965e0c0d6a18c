"""The tracking report's expression fidelity: per face part, and the frames its coefficients explain least."""

import numpy as np
from face_landmark_scene import INTRINSICS, clip_with_hidden_motion

from nerfblend_ns.tracking.expressions.expression_fidelity import LEAST_EXPLAINED_FRAMES
from nerfblend_ns.tracking.reporting.tracking_quality import expression_report


def test_each_part_names_the_frames_with_the_most_hidden_motion():
    clip, hidden = clip_with_hidden_motion()
    report = expression_report(clip, INTRINSICS)["expression_fidelity"]
    assert set(report) == {"mouth", "brows"}
    for part, fidelity in report.items():
        # The hidden factor moves every landmark of the part by |factor| mm; the poses' errors cancel.
        assert fidelity["coefficients_residual_rms_mm"]["held_out"] > 0.8 > fidelity["with_residual_components_rms_mm"]["1"]["held_out"]
        least = fidelity["least_explained_frames"]
        frames = [int(frame["file_path"][len("images/"):-len(".jpg")]) for frame in least]
        values = [frame["unexplained_mm"] for frame in least]
        assert len(least) == LEAST_EXPLAINED_FRAMES and frames[0] == int(np.argmax(np.abs(hidden[part]))), part
        assert values == sorted(values, reverse=True)
        np.testing.assert_allclose(values, np.abs(hidden[part][frames]), rtol=0.05)
