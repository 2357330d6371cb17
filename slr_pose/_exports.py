"""How every package of slr-pose exposes its public names: lazily.

A package's ``__init__`` names what it offers and where it lives; the module
is imported on first use, so ``import slr_pose.keypoints`` stays fast and free
of numba, torch and h5py until they are needed::

    __getattr__, __all__ = lazy_exports(__name__, {"PoseStore": "store", ...})
"""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], list[str]]:
    """A module ``__getattr__`` that imports ``package.<exports[name]>`` on first access, and ``__all__``."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__, sorted(exports)
