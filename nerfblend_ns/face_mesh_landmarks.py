"""MediaPipe face-mesh landmarks: how many there are, and the indices of the face regions this project
names (shared by the dataparser, the tracker and the metrics, so each region has one definition)."""

NUM_LANDMARKS = 478
"""Points of MediaPipe Face Landmarker's face mesh (468 of the face and 10 of the irises)."""

FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
"""Indices of the face oval, in order around it from the top of the forehead."""

OUTER_LIP_LANDMARKS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
"""Indices of the outer lip contour."""
INNER_LIP_LANDMARKS = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
"""Indices of the inner lip contour."""
BROW_LANDMARKS = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
"""Indices of both eyebrows, upper and lower edge."""
EYE_CORNERS = (33, 133, 362, 263)
"""Outer and inner corners of both eyes: points fixed to the skull that no expression moves far."""
MOUTH_MARGIN = 0.25
"""Fraction of the outer lip box's size added on each side for the mouth box, so that patches see the chin
and cheeks around it."""

FOREHEAD = 10
"""Top of the face oval, on the midline."""
CHIN = 152
NOSE_TIP = 4
CHEEKS = (234, 454)
"""Outermost face-oval points on each side, level with the ears."""
