"""ELAN ``.eaf`` annotations as timed glosses and transcript lines, for cutting long recordings.

Most sign language corpora are annotated in ELAN: one ``.eaf`` per
recording, with tiers of glosses (often one per hand, ``RH-gloss`` and
``LH-gloss``), of translations and of other phenomena. :func:`read_eaf`
reads one through pympi (``pip install "slr-pose[elan]"``), which parses
ELAN's own format (EAF 2.7-3.0); :func:`eaf_events` turns the chosen tiers
into the :class:`~slr_pose.continuous.segments.Timed` events that
``slr-pose segment`` cuts recordings with, exactly as it does with a CSV
gloss table.

* **Tiers** are chosen by name or pattern (:mod:`.tiers`; the default
  :data:`DEFAULT_GLOSS_TIERS` takes every tier with "gloss" in its name).
  Several gloss tiers (both hands) are merged into one sequence, the same
  sign annotated on both hands' tiers counting once; translation or
  transcript tiers are merged the same way.
* **Time.** EAF times are milliseconds on the annotation timeline. A media
  file linked with an offset (``TIME_ORIGIN``, ELAN's media offset: the
  media time shown at annotation time 0) shifts them: annotation time
  ``t`` ms is ``(t + origin) / 1000`` s into the recording, the clock of
  the store's ``/frames/time``. Annotations on a symbolic tier take the
  times of the aligned annotation they depend on.
* **Recording id** (the store sample the annotations belong to): the stem
  of the first linked video (``MEDIA_URL="file:///corpus/lesson01.mp4"``:
  ``lesson01``), else of the first linked media file, else of the ``.eaf``
  itself; ``recording=`` overrides it.

Bad input is one line naming the file (and the tier): not XML, not an EAF,
not UTF-8, a missing tier or a pattern matching none, overlapping
annotations on one tier, an annotation whose time slot has no time.
"""

from __future__ import annotations

import os
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence
from urllib.parse import unquote, urlparse

from slr_pose.continuous.segments import Timed
from slr_pose.continuous.tiers import chosen_events
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.importers.core import require
from slr_pose.keypoints.video import VIDEO_EXTENSIONS

#: Gloss tiers taken when none are named: every tier with "gloss" in its name, any case.
DEFAULT_GLOSS_TIERS = ("(?i).*gloss.*",)


@dataclass(frozen=True)
class EafDocument:
    """What one ``.eaf`` holds that cutting needs.

    Attributes:
        tiers: tier name -> ``(start, end, value)`` rows in seconds on the
            recording's clock (time origin applied), in document order.
        media: the linked media URLs, in order.
        origin_ms: the time origin applied, in ms.
    """

    path: Path
    recording: str
    tiers: dict[str, list[tuple[float, float, str]]] = field(default_factory=dict)
    media: tuple[str, ...] = ()
    origin_ms: int = 0

    @property
    def tier_names(self) -> list[str]:
        return list(self.tiers)


def read_eaf(path: str | os.PathLike, *, recording: str | None = None, unit_ms: float = 1.0) -> EafDocument:
    """Read an ``.eaf`` file.

    Args:
        recording: the store sample id of the recording (default: see the module docs).
        unit_ms: milliseconds per stored time unit; 1 for ELAN's own files
            (the slan-tool's EAF export stores centiseconds: 10, see :mod:`.krsl`).

    Raises:
        SlrPoseError: the file is not UTF-8 XML, not an EAF, or has an annotation without a time.
    """
    path = Path(path)
    _check_xml(path, "ANNOTATION_DOCUMENT", "an ELAN .eaf file")
    pympi = require("pympi", "elan", "reading ELAN .eaf files")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pympi warns about EAF versions it does not list; the format is stable since 2.7
        try:
            eaf = pympi.Eaf(str(path), suppress_version_warning=True)
        except Exception as e:  # pympi raises bare Exception, KeyError and ValueError for malformed documents
            raise SlrPoseError(f"{path} is not a readable ELAN .eaf file ({_reason(e)})") from None
    units = eaf.header.get("TIME_UNITS") or "milliseconds"
    if units != "milliseconds":
        raise SlrPoseError(f"{path}: time units {units!r}; only ELAN's milliseconds are read")
    media = tuple(d.get("MEDIA_URL") or "" for d in eaf.media_descriptors)
    origin = _origin(eaf.media_descriptors, path)
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    for name in sorted(eaf.tiers, key=lambda n: eaf.tiers[n][3]):  # document order
        try:
            rows = eaf.get_annotation_data_for_tier(name)
        except KeyError as e:
            raise SlrPoseError(f"{path} tier {name!r}: an annotation refers to a missing annotation or time slot ({e})") from None
        out = []
        for row in rows:
            start, end, value = row[0], row[1], row[2]
            if start is None or end is None:
                raise SlrPoseError(f"{path} tier {name!r}: annotation {value!r} has a time slot without a time; align it in ELAN")
            out.append(((start * unit_ms + origin) / 1000.0, (end * unit_ms + origin) / 1000.0, value))
        tiers[name] = out
    rid = recording or _recording_id(media, path)
    return EafDocument(path, rid, tiers, media, origin)


def eaf_events(
    doc: EafDocument, gloss_tiers: Sequence[str] = DEFAULT_GLOSS_TIERS, text_tiers: Sequence[str] = ()
) -> tuple[list[Timed], list[Timed]]:
    """The merged glosses and transcript lines of one document, as :class:`Timed` events in seconds.

    Raises:
        SlrPoseError: a selector matching no tier, overlapping annotations on a tier, a gloss with spaces.
    """
    return chosen_events(doc.tiers, doc.recording, str(doc.path), gloss_tiers, text_tiers)


def _check_xml(path: Path, root: str, what: str) -> None:
    """The file is UTF-8 (unless its XML declaration names another encoding), well-formed, with root ``root``."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SlrPoseError(f"cannot read {path} ({e.strerror or e})") from None
    declared = _DECLARED.match(data[:200])
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SlrPoseError(f"{path} is not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); save it as UTF-8") from None
    try:
        tag = ET.fromstring(data).tag
    except ET.ParseError as e:
        raise SlrPoseError(f"{path} is not well-formed XML ({e})") from None
    if tag != root:
        raise SlrPoseError(f"{path} is not {what}: its root element is <{tag}>, not <{root}>")


_DECLARED = re.compile(rb"""\s*<\?xml[^>]*?encoding=["']([A-Za-z0-9._-]+)["']""")


def _origin(descriptors: list[dict], path: Path) -> int:
    """The time origin (ms) of the first linked media file that has one."""
    for d in descriptors:
        raw = d.get("TIME_ORIGIN")
        if raw not in (None, ""):
            try:
                return int(raw)
            except (TypeError, ValueError):
                raise SlrPoseError(f"{path}: media time origin {raw!r} is not a whole number of ms") from None
    return 0


def _recording_id(media: Sequence[str], path: Path) -> str:
    """The stem of the first linked video, else of the first linked file, else of the ``.eaf``."""
    urls = [m for m in media if m]
    videos = [m for m in urls if PurePosixPath(_url_path(m)).suffix.lower() in VIDEO_EXTENSIONS]
    for url in videos + urls:
        stem = PurePosixPath(_url_path(url)).stem
        if stem:
            return stem
    return path.stem


def _url_path(url: str) -> str:
    """The path of a ``file:`` URL or a plain path, with ``%20`` and friends decoded and ``\\`` as ``/``."""
    parsed = urlparse(url)
    raw = parsed.path if parsed.scheme in ("file", "http", "https", "rtsp") else url
    return unquote(raw).replace("\\", "/")


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
