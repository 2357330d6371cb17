"""The one exception type that user-facing code raises for bad input.

Library functions raise :class:`SlrPoseError` (or a subclass) with a one-line
message that names the bad value; the CLI turns it into a clean error line and
a non-zero exit code, never a traceback.
"""


class SlrPoseError(Exception):
    """A problem with the user's input, data or environment, stated in one line."""


class StoreError(SlrPoseError):
    """A pose store cannot be opened, read or written as asked."""


class LayoutError(SlrPoseError):
    """Landmarks that a layout or subset asks for are not in the data."""
