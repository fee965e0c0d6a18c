"""Expression coefficients from blendshape scores, and how well they explain the mouth's motion."""
