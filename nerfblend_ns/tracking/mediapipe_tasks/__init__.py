"""MediaPipe Tasks for the tracker: importing the optional dependency quietly, and its pinned model files."""
