"""Indices of MediaPipe face-mesh landmarks that the tracker reasons about."""

FOREHEAD = 10
"""Top of the face oval, on the midline."""
CHIN = 152
NOSE_TIP = 4
CHEEKS = (234, 454)
"""Outermost face-oval points on each side, level with the ears."""
