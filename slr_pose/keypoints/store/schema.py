"""The pose store's schema: what the file holds, and the parsing every reader and writer shares.

Schema (version 2; the README's "Pose store" section documents it for users)::

    /                     attrs: format="slr-pose-store", schema_version=2,
                                 layout (name), landmark_names (V,), groups (G,),
                                 provenance (JSON: extractor backend, its version
                                 and settings, slr-pose version, created, modified)
    /frames/xyz           (F, V, 3) float32  image-normalised x, y (0..1 of width,
                                             height) and MediaPipe's relative z;
                                             NaN where the landmark is missing
    /frames/confidence    (F, V)    float32  pose visibility, 1 for detected hand
                                             and face landmarks, 0 where missing
    /frames/missing       (F, G)    bool     True where a landmark group was not
                                             found in that frame
    /frames/time          (F,)      float32  seconds since the start of the source
    /samples/<column>     (N,)               one row per sample, see
                                             :data:`~.sample.COLUMNS`; sample i owns frames
                                             offset[i] : offset[i] + length[i]
    /samples/landmarks_sha256  (N,) str      SHA-256 of the sample's stored arrays
                                             (schema 2; ``slr-pose verify`` checks it)

Schema 1 stores (no ``landmarks_sha256``) are read as they are; the next write
upgrades them, computing the checksums of the samples they hold.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slr_pose.errors import LayoutError, StoreError
from slr_pose.keypoints.layout import Layout

FORMAT = "slr-pose-store"


SCHEMA_VERSION = 2


#: The oldest schema this version reads (and upgrades on its next write).
OLDEST_SCHEMA = 1


#: Frame datasets, their dtypes and their shape after the frame axis
#: (V landmarks, G groups).
FRAME_DATASETS = ("xyz", "confidence", "missing", "time")


FRAME_DTYPES = {"xyz": np.float32, "confidence": np.float32, "missing": np.bool_, "time": np.float32}


#: Failures h5py raises for damaged files; readers turn them into StoreError.
H5_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError)


#: Frames per HDF5 chunk along the frame axis, and the compression filter;
#: chosen by ``benchmarks/store_layout.py`` (see benchmarks/results/extraction.md).
CHUNK_FRAMES = 64


COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


#: Columns the store keeps besides the metadata: where each sample's frames
#: start, and the checksum of its stored arrays (schema 2).
STORE_COLUMNS: dict[str, str] = {"offset": "i8", "landmarks_sha256": "str"}


@dataclass(frozen=True)
class StoreHeader:
    """What a store's root attributes say, parsed and checked."""

    layout: Layout
    provenance: dict
    schema_version: int
    frames: int  # F, stored frames in all


def error_reason(e: BaseException) -> str:
    """A foreign exception's message on one short line."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


KIND_NAMES = {"i8": "whole numbers", "f4": "numbers", "str": "text"}


def column_values(ds, kind: str) -> np.ndarray:
    """A sample column read as its kind (see :data:`COLUMNS`); ValueError when the dataset holds another."""
    if ds.ndim != 1:
        raise ValueError(f"shape {ds.shape}, not (N,)")
    if ds.dtype.kind not in {"str": "OSU", "i8": "iu", "f4": "iuf"}[kind]:
        raise ValueError(f"it holds {ds.dtype}, not {KIND_NAMES[kind]}")
    return np.asarray(ds.asstr()[()] if kind == "str" else ds[()], dtype=column_dtype(kind))


def column_dtype(kind: str):
    return object if kind == "str" else np.dtype(kind)


def text_values(value: Any) -> list[str] | None:
    """An attribute's strings (one for a scalar), or None when it holds anything else or undecodable bytes."""
    values = list(np.atleast_1d(np.asarray(value, dtype=object))) if not isinstance(value, str) else [value]
    if not all(isinstance(v, str) for v in values):
        return None
    try:
        for v in values:
            v.encode("utf-8")  # h5py decodes damaged UTF-8 to lone surrogates
    except UnicodeEncodeError:
        return None
    return values


def is_text(value: Any, text: str) -> bool:
    """``value == text`` for an attribute that may hold anything (an array compares element-wise)."""
    return isinstance(value, str) and value == text


def parse_layout(name: str, names: list[str], path: Path) -> Layout:
    try:
        return Layout(name, tuple(names))
    except LayoutError as e:
        raise StoreError(f"{path}: its landmark names are damaged ({e})") from None


def parse_provenance(text: Any, path: Path) -> dict:
    try:
        prov = json.loads(text)
    except (TypeError, ValueError) as e:
        raise StoreError(f"{path}: its provenance is not valid JSON ({error_reason(e)})") from None
    if not isinstance(prov, dict) or not isinstance(prov.get("extractor"), dict):
        raise StoreError(f"{path}: its provenance has no 'extractor' entry")
    return prov


def frame_tail(name: str, layout: Layout) -> tuple[int, ...]:
    v, g = layout.num_landmarks, len(layout.groups)
    return {"xyz": (v, 3), "confidence": (v,), "missing": (g,), "time": ()}[name]
