"""The error a tracking run reports to its user instead of a traceback."""

from nerfblend_ns.input_errors import InputError


class TrackingError(InputError):
    """A problem with the input video, the output folder or the model files; the message says how to fix it."""
