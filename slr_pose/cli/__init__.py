"""The ``slr-pose`` command line: a thin layer over the library (one module per group of commands)."""

from slr_pose._exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {"cli": "main", "main": "main"})
