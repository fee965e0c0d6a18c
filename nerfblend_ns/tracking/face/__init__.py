"""The face in each frame: MediaPipe landmarks, blendshape scores and facial transform, and the mouth and face boxes."""
