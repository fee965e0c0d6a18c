"""Tracking a raw video into a nerfblend workspace: crop, MediaPipe face tracking, head pose, masks."""
