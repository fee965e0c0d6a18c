"""The error a tracking run reports to its user instead of a traceback."""


class TrackingError(Exception):
    """A problem with the input video, the output folder or the model files; the message says how to fix it."""
