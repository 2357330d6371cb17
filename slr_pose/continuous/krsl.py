"""Exports of the KRSL annotation tool (slan-tool) as timed glosses and transcript lines.

The KRSL-OnlineSchool corpus is annotated with the slan-tool, a web
annotator whose exports are written by JavaScript in the browser. This
module reads them as that code writes them: repository
``krslproject/slan-tool`` (commit d0ec25dd025b7d3cc97bc10f7e3d2aae6ca15f1c),
the click handlers of the ``exportTimeJson``, ``exportTimeXML`` and
``etfexport`` links in ``static/js/range.js`` and in its later version
``staticfiles/js/range.js``. Every time there is
``Math.floor(range * video.duration * 1000)``: milliseconds from the start
of the video, floored (``range`` is the fraction of the video's length).

* **Time JSON** (``project.json``). ``static/js/range.js`` builds the text
  by string concatenation, with single quotes, times as strings and a
  comma after every item::

      {'TIERS':[{'TIER' : {'TIER_ID': 'Gloss','ANNOTATIONS': [{'ANNOTATION_ID': 'H35BKb',
      'BEGIN_TIME': '1350','END_TIME': '2450','VALUE': 'HELLO'},]}},]}

  That is not JSON, but it is a Python literal, so :func:`ast.literal_eval`
  reads it (safely: it evaluates literals only, never code). The later
  ``staticfiles/js/range.js`` writes real JSON (``JSON.stringify``) of the
  same structure with numeric times and, per tier, ``TIER_TYPE`` (``text``,
  ``handshape``, ``segment``) and ``TIER_NAME``; there ``TIER_ID`` is the
  row's internal id and ``TIER_NAME`` the name the annotator gave it.
  Both are read; a tier is named by ``TIER_NAME`` when it has one, else by
  ``TIER_ID``. The old writer does not escape values: a quote in a value
  breaks the file, which is then reported as unreadable.
* **Time XML** (``project.xml``)::

      <ANNOTATION_DOCUMENT><TIER TIER_ID="Gloss"><ANNOTATION ANNOTATION_ID="H35BKb"
      BEGIN_TIME="1350" END_TIME="2450"><ANNOTATION_VALUE>HELLO</ANNOTATION_VALUE></ANNOTATION>...

  (no time slots and no ``ALIGNABLE_ANNOTATION``: not an EAF). It names
  tiers by ``TIER_ID`` only, which in the later version is the internal
  row id; choose tiers by name from the JSON export there.
* **EAF** (``project.eaf``): an ELAN skeleton without a ``VERSION``, whose
  ``TIME_VALUE`` is ``Math.floor(range * video.duration * 100)``:
  centiseconds where ELAN reads milliseconds. It is read with
  :func:`~slr_pose.continuous.elan.read_eaf` at 10 ms per unit.

The frame exports (``exportFrameXML``, ``exportFrameJson``: one value per
0.04 s) are not read: they lose the boundaries of equal neighbouring
annotations, and the frame JSON the tool writes is not parseable
(unquoted ids, ``]}`` closing ``{``). Handshape tiers hold image URLs, not
glosses. The tool names every export ``project.*`` and records no media
file, so the recording id is the file's stem unless given: rename the
exports after their recordings (``lesson01.json``) or pass the id.
"""

from __future__ import annotations

import ast
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from slr_pose.continuous.elan import read_eaf
from slr_pose.errors import SlrPoseError

#: Export kinds and the suffix of each.
KINDS = {"slan-json": ".json", "slan-xml": ".xml", "slan-eaf": ".eaf"}
#: Milliseconds per time unit of the tool's EAF export (it writes centiseconds).
EAF_UNIT_MS = 10.0
#: The largest file read: exports are text of a few MB at most; a literal this size is already absurd.
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SlanDocument:
    """One export: tier name -> ``(start, end, value)`` rows in seconds, in the export's order."""

    path: Path
    recording: str
    tiers: dict[str, list[tuple[float, float, str]]] = field(default_factory=dict)


def read_slan(path: str | os.PathLike, kind: str | None = None, *, recording: str | None = None) -> SlanDocument:
    """Read a slan-tool export; ``kind`` (:data:`KINDS`) defaults to the one its suffix names.

    Raises:
        SlrPoseError: an unknown kind, a file that is not what its kind says, a bad time.
    """
    path = Path(path)
    if kind is None:
        kind = next((k for k, s in KINDS.items() if path.suffix.lower() == s), None)
        if kind is None:
            raise SlrPoseError(f"{path}: a slan-tool export is .json, .xml or .eaf")
    rid = recording or path.stem
    if kind == "slan-eaf":
        doc = read_eaf(path, recording=rid, unit_ms=EAF_UNIT_MS)
        return SlanDocument(path, doc.recording, doc.tiers)
    if kind not in KINDS:
        raise SlrPoseError(f"slan-tool export kind {kind!r} is not one of {', '.join(KINDS)}")
    text = _text(path)
    tiers = _json_tiers(path, text) if kind == "slan-json" else _xml_tiers(path, text)
    return SlanDocument(path, rid, tiers)


def _text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SlrPoseError(f"{path} is larger than {MAX_BYTES >> 20} MB: not a slan-tool export")
        return path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise SlrPoseError(f"cannot read {path} ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise SlrPoseError(f"{path} is not UTF-8 (byte at offset {e.start}); the tool writes UTF-8") from None


def _json_tiers(path: Path, text: str) -> dict[str, list[tuple[float, float, str]]]:
    try:
        data = json.loads(text)  # the later writer: JSON.stringify
    except ValueError:
        try:
            data = ast.literal_eval(text)  # the first writer: single quotes, trailing commas
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
            raise SlrPoseError(f"{path} is not a slan-tool time-JSON export ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("TIERS"), list):
        raise SlrPoseError(f"{path} is not a slan-tool time-JSON export: it has no TIERS list")
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    for k, item in enumerate(data["TIERS"]):
        tier = item.get("TIER") if isinstance(item, dict) else None
        if not isinstance(tier, dict) or not isinstance(tier.get("ANNOTATIONS"), list):
            raise SlrPoseError(f"{path}: TIERS[{k}] is not {{'TIER': {{'TIER_ID': ..., 'ANNOTATIONS': [...]}}}}")
        name = str(tier.get("TIER_NAME") or tier.get("TIER_ID") or "").strip()
        if not name:
            raise SlrPoseError(f"{path}: TIERS[{k}] has neither a TIER_NAME nor a TIER_ID")
        if name in tiers:
            raise SlrPoseError(f"{path}: two tiers are named {name!r}")
        rows = []
        for a in tier["ANNOTATIONS"]:
            if not isinstance(a, dict):
                raise SlrPoseError(f"{path} tier {name!r}: an annotation is not a {{'BEGIN_TIME': ..., ...}} record")
            rows.append(_row(path, name, a.get("BEGIN_TIME"), a.get("END_TIME"), a.get("VALUE")))
        tiers[name] = rows
    return tiers


def _xml_tiers(path: Path, text: str) -> dict[str, list[tuple[float, float, str]]]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise SlrPoseError(f"{path} is not well-formed XML ({e})") from None
    if root.tag != "ANNOTATION_DOCUMENT" or root.find("TIME_ORDER") is not None:
        what = "an ELAN .eaf (read it as ELAN or slan-eaf)" if root.tag == "ANNOTATION_DOCUMENT" else f"<{root.tag}>"
        raise SlrPoseError(f"{path} is not a slan-tool time-XML export: it is {what}")
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    for tier in root.iter("TIER"):
        name = (tier.get("TIER_ID") or "").strip()
        if not name:
            raise SlrPoseError(f"{path}: a TIER has no TIER_ID")
        if name in tiers:
            raise SlrPoseError(f"{path}: two tiers are named {name!r}")
        tiers[name] = [
            _row(path, name, a.get("BEGIN_TIME"), a.get("END_TIME"), a.findtext("ANNOTATION_VALUE", default=""))
            for a in tier.iter("ANNOTATION")
        ]
    return tiers


def _row(path: Path, tier: str, begin, end, value) -> tuple[float, float, str]:
    """One annotation in seconds; the tool writes whole milliseconds, as numbers or as strings."""
    try:
        b, e = int(str(begin).strip()), int(str(end).strip())
    except ValueError:
        raise SlrPoseError(f"{path} tier {tier!r}: BEGIN_TIME {begin!r} / END_TIME {end!r} are not whole ms") from None
    return b / 1000.0, e / 1000.0, "" if value is None else str(value)
