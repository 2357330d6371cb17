"""slr-pose: sign language recognition from body, hand and face landmarks."""

__version__ = "0.1.0"
