"""The input video: probing and decoding the frames a run tracks, and the one square head crop of a clip."""
