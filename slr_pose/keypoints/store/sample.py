"""One stored sample: its metadata (:class:`SampleInfo`, one store column each) and its arrays (:class:`Sample`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from slr_pose.errors import StoreError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store.schema import FRAME_DATASETS, FRAME_DTYPES


@dataclass(frozen=True)
class SampleInfo:
    """Metadata of one stored sample. Frame indices count stored frames."""

    id: str
    length: int = 0
    fps: float = float("nan")
    width: int = 0
    height: int = 0
    source: str = ""
    sha256: str = ""
    label: str = ""
    signer: str = ""
    language: str = ""
    split: str = ""
    sign_start: int = -1
    sign_end: int = -1
    glosses: str = ""
    gloss_spans: str = ""
    transcript: str = ""
    meta: str = ""

    @property
    def aspect(self) -> float:
        """Width / height of the source frames, 1.0 when unknown."""
        return self.width / self.height if self.width > 0 and self.height > 0 else 1.0

    @property
    def gloss_list(self) -> list[str]:
        return self.glosses.split()


# Column name -> numpy dtype kind used on disk ("str", "i8", "f4").
COLUMNS: dict[str, str] = {
    f.name: ("str" if f.type in ("str", str) else "f4" if f.type in ("float", float) else "i8")
    for f in fields(SampleInfo)
}


@dataclass
class Sample:
    """One sample's landmarks. ``T`` frames, ``V`` landmarks, ``G`` groups.

    Attributes:
        xyz: ``(T, V, 3)`` float32, NaN where missing.
        confidence: ``(T, V)`` float32 in [0, 1], 0 where missing.
        missing: ``(T, G)`` bool, one column per group of the layout.
        time: ``(T,)`` float32 seconds since the start of the source.
        layout: what the V landmarks are; every store, importer and extractor sets it.
    """

    info: SampleInfo
    xyz: np.ndarray
    confidence: np.ndarray
    missing: np.ndarray
    time: np.ndarray
    layout: Layout | None = None

    def layout_or(self, layout: Layout | None = None) -> Layout:
        """``layout`` if given (a sample cut to a sub-layout), else the sample's own."""
        layout = layout or self.layout
        if layout is None:
            raise StoreError(f"sample {self.info.id!r} carries no layout: say which landmarks its arrays hold")
        return layout

    def valid(self, layout: Layout | None = None) -> np.ndarray:
        """``(T, V)`` bool: the landmark was found in that frame."""
        layout = self.layout_or(layout)
        return ~self.missing[:, layout.group_index] & np.isfinite(self.xyz).all(-1)

    def check(self, layout: Layout | None = None) -> None:
        """Raise :class:`StoreError` unless the arrays agree with the layout and each other."""
        layout = self.layout_or(layout)
        t, v = len(self.xyz), layout.num_landmarks
        expect = {
            "xyz": (t, v, 3),
            "confidence": (t, v),
            "missing": (t, len(layout.groups)),
            "time": (t,),
        }
        for name, shape in expect.items():
            got = getattr(self, name).shape
            if got != shape:
                raise StoreError(f"sample {self.info.id!r}: {name} has shape {got}, layout {layout.name!r} needs {shape}")
        if t == 0:
            raise StoreError(f"sample {self.info.id!r} has no frames")
        if not self.info.id:
            raise StoreError("a sample needs a non-empty id")


def landmarks_sha256(sample: Sample) -> str:
    """SHA-256 of a sample's arrays as the store keeps them (dtype, shape and bytes)."""
    h = hashlib.sha256()
    for name in FRAME_DATASETS:
        a = np.ascontiguousarray(getattr(sample, name), dtype=FRAME_DTYPES[name])
        h.update(f"{name}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()
