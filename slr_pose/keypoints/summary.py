"""What a pose store holds, as a dict (``slr-pose inspect --json``) or as text.

The dict's keys are stable (tests pin them); counts are numbers of samples
unless named otherwise; an unknown value is ``None``::

    path          str    the store file
    layout        {name, landmarks, groups}
    samples       int    samples readable now, journal included
    pending       int    of those, samples only in the journal of an interrupted write
    labels        {distinct, missing, top: [{name, samples}]}   (missing: samples without one)
    signers       the same
    languages     the same
    splits        the same
    frames        {total, min, median, max, seconds}   per-sample lengths in frames;
                  seconds: summed duration of samples whose fps is known (None if none)
    fps           {known, unknown, min, median, max}   over samples with a known fps
    frame_sizes   {known, unknown, top: [{name: "WxH", samples}]}
    detection     {<group>: share of frames in which it was found, ..., any_hand}
    provenance    the store's provenance block (extractor {backend, version,
                  settings}, slr_pose_version, created, modified, ...)
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from slr_pose.keypoints.store import PoseStore

#: Entries listed in each ``top`` list unless asked otherwise.
TOP = 10
HANDS = ("left_hand", "right_hand")


def _counts(values: np.ndarray, top: int) -> dict:
    counter = Counter(str(v) for v in values.tolist())
    missing = counter.pop("", 0)
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"distinct": len(counter), "missing": missing, "top": [{"name": k, "samples": n} for k, n in ranked[:top]]}


def _spread(values: np.ndarray) -> tuple:
    if not len(values):
        return None, None, None
    return float(values.min()), float(np.median(values)), float(values.max())


def summarize(store: PoseStore | str | os.PathLike, top: int = TOP) -> dict:
    """Summary of a store (see the module docs for the keys).

    Args:
        store: an open :class:`PoseStore` or the path of one.
        top: entries in each ``top`` list.
    """
    if not isinstance(store, PoseStore):
        store = PoseStore(store)
    lengths = store.column("length").astype(np.int64)
    fps = store.column("fps").astype(np.float64)
    known = np.isfinite(fps) & (fps > 0)
    width, height = store.column("width"), store.column("height")
    sized = (width > 0) & (height > 0)
    sizes = np.array([f"{w}x{h}" if ok else "" for w, h, ok in zip(width.tolist(), height.tolist(), sized.tolist())], dtype=object)
    lo, mid, hi = _spread(lengths)
    flo, fmid, fhi = _spread(fps[known])
    missing = store.missing_mask()  # (F, G)
    groups = store.layout.groups
    found = ~missing
    detection = {g: (float(found[:, j].mean()) if len(found) else None) for j, g in enumerate(groups)}
    hands = [groups.index(h) for h in HANDS if h in groups]
    if hands:
        detection["any_hand"] = float(found[:, hands].any(1).mean()) if len(found) else None
    return {
        "path": str(store.path),
        "layout": {"name": store.layout.name, "landmarks": store.layout.num_landmarks, "groups": list(groups)},
        "samples": len(store),
        "pending": store.pending,
        "labels": _counts(store.column("label"), top),
        "signers": _counts(store.column("signer"), top),
        "languages": _counts(store.column("language"), top),
        "splits": _counts(store.column("split"), top),
        "frames": {
            "total": int(lengths.sum()),
            "min": None if lo is None else int(lo),
            "median": mid,
            "max": None if hi is None else int(hi),
            "seconds": float((lengths[known] / fps[known]).sum()) if known.any() else None,
        },
        "fps": {"known": int(known.sum()), "unknown": int((~known).sum()), "min": flo, "median": fmid, "max": fhi},
        "frame_sizes": {"known": int(sized.sum()), "unknown": int((~sized).sum()), "top": _counts(sizes, top)["top"]},
        "detection": detection,
        "provenance": store.provenance,
    }


# --------------------------------------------------------------------------- text

_W = 12  # width of the heading column


def _line(head: str, text: str) -> str:
    return f"{head:<{_W}}{text}".rstrip()


def _number(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.2f}"


def _count_lines(head: str, block: dict, noun: str) -> list[str]:
    if not block["distinct"]:
        return [_line(head, "none recorded")]
    lines = [_line(head, f"{block['distinct']} distinct" + (f", {block['missing']} samples without one" if block["missing"] else ""))]
    width = max(len(e["name"]) for e in block["top"])
    lines += [" " * (_W + 2) + f"{e['name']:<{width}}  {e['samples']}" for e in block["top"]]
    rest = block["distinct"] - len(block["top"])
    if rest > 0:
        lines.append(" " * (_W + 2) + f"... {rest} more {noun}")
    return lines


def format_summary(s: dict) -> str:
    """The summary as the lines ``slr-pose inspect`` prints."""
    lay = s["layout"]
    samples = f"{s['samples']}" + (f" ({s['pending']} pending in the journal of an interrupted write)" if s["pending"] else "")
    out = [
        _line("store", s["path"]),
        _line("layout", f"{lay['name']}: {lay['landmarks']} landmarks ({', '.join(lay['groups'])})"),
        _line("samples", samples),
    ]
    for key, noun in (("labels", "labels"), ("signers", "signers"), ("languages", "languages"), ("splits", "splits")):
        out += _count_lines(key, s[key], noun)
    f = s["frames"]
    if s["samples"]:
        frames = f"{f['total']} in all; per sample min {f['min']}, median {_number(f['median'])}, max {f['max']}"
        if f["seconds"] is not None:
            frames += f"; {f['seconds']:.1f} s"
        out.append(_line("frames", frames))
    fps = s["fps"]
    if not fps["known"]:
        out.append(_line("fps", f"unknown for all {fps['unknown']} samples" if fps["unknown"] else "none"))
    else:
        text = _number(fps["median"]) if fps["min"] == fps["max"] else (
            f"min {_number(fps['min'])}, median {_number(fps['median'])}, max {_number(fps['max'])}")
        out.append(_line("fps", text + (f"; unknown for {fps['unknown']} samples" if fps["unknown"] else "")))
    sizes = s["frame_sizes"]
    if not sizes["known"]:
        out.append(_line("frame size", f"unknown for all {sizes['unknown']} samples" if sizes["unknown"] else "none"))
    else:
        text = ", ".join(f"{e['name']} ({e['samples']})" for e in sizes["top"])
        out.append(_line("frame size", text + (f"; unknown for {sizes['unknown']} samples" if sizes["unknown"] else "")))
    out.append(_line("detected", "share of frames in which each group was found"))
    for g, rate in s["detection"].items():
        shown = "no frames" if rate is None else f"{100 * rate:5.1f}%"
        out.append(" " * (_W + 2) + f"{g.replace('_', ' '):<11}{shown}")
    prov = s["provenance"]
    ext = prov.get("extractor", {})
    out.append(_line("extractor", f"{ext.get('backend', 'unknown')}, version {ext.get('version', 'unknown')}"))
    settings = ext.get("settings", {})
    out.append(_line("settings", ", ".join(f"{k}={v}" for k, v in sorted(settings.items())) or "none"))
    libs = prov.get("libraries")
    if libs:
        out.append(_line("read with", ", ".join(f"{k} {v}" for k, v in sorted(libs.items()))))
    out.append(_line("slr-pose", str(prov.get("slr_pose_version", "unknown"))))
    out.append(_line("created", str(prov.get("created", "unknown"))))
    out.append(_line("modified", str(prov.get("modified", "never"))))
    return "\n".join(out)
