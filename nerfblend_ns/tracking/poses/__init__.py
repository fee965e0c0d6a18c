"""Head poses: cameras from MediaPipe's facial transform, the whole-clip pose fit, and temporal smoothing."""
