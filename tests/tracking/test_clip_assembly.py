"""Residual coefficients appended to a tracked clip: each face part's motion its named coefficients miss."""

import numpy as np
from face_landmark_scene import INTRINSICS, clip_with_hidden_motion

from nerfblend_ns.tracking.clip_assembly import with_residual_coefficients


def test_residual_coefficients_of_each_part_carry_its_hidden_motion_not_the_pose_error():
    clip, hidden = clip_with_hidden_motion()
    named = clip.expressions.values.shape[1]
    assert with_residual_coefficients(clip, INTRINSICS, {"mouth": 0, "brows": 0}) is clip
    extended = with_residual_coefficients(clip, INTRINSICS, {"mouth": 1, "brows": 1})
    assert extended.expressions.names == clip.expressions.names + ["mouthResidual1", "browResidual1"]
    assert extended.expressions_raw.names == extended.expressions.names
    for column, part in ((named, "mouth"), (named + 1, "brows")):
        assert abs(np.corrcoef(extended.expressions.values[:, column], hidden[part])[0, 1]) > 0.99, part
    np.testing.assert_array_equal(extended.expressions.values[:, :named], clip.expressions.values)
