"""Tracking a raw video into a nerfblend workspace (`nerfblend-process-video`).

`video_to_workspace` runs the steps in order with the options of `run_config`; `frame_tracking` tracks
one frame and `clip_assembly` turns the tracked frames into a clip. The sub-packages hold the parts:
`video` (decoding, the head crop), `mediapipe_tasks` (the optional dependency and its model files),
`face` (landmarks, blendshape scores, face boxes), `masks`, `poses`, `expressions` (the coefficients),
`workspace` (files written, the resume cache, the lock) and `reporting`.
"""
