"""Stitched continuous signing: sentences assembled from real isolated signs.

Where no continuous landmarks exist, a continuous benchmark can be *stitched*:
each sentence is a gloss sequence drawn from a language model
(:mod:`.sentences`), each gloss is played by a real isolated sample of that
sign by the sentence's signer, and the movement between two signs is
interpolated. The result is a store with the same layout as its source, whose
samples carry ``glosses`` and ``gloss_spans``; its provenance says it is
stitched and from what. It is not real continuous signing: co-articulation,
prosody and sign reduction are absent, and each sign is a whole citation-form
token. It tests whether a CTC model and decoder can segment and recognise a
sign stream whose grammar a language model can learn.

How a sentence is made, step by step:

1. **Splits stay apart.** Source samples are split first (the store's split
   column, else by signer, else by sample); train sentences use only train
   samples, test sentences only test samples, and so do validation
   sentences (``val_fraction``), so that choosing an epoch or decoder
   weights on them is not choosing on signs seen in training. Sentences are
   divided over the splits in proportion to their samples.
2. **One signer per sentence.** A sentence is drawn from the grammar, then a
   signer of that split who has samples of all its glosses (sentences no
   signer can play are drawn again); each gloss is played by one of that
   signer's samples, drawn at random. Samples without a signer count as one
   anonymous signer.
3. **Idle frames trimmed.** Each sample is cut to its first .. last frame in
   which a hand is detected (a sample with no hand at all is kept whole):
   with MediaPipe, hands at rest in the lap are mostly not detected.
   Samples left with fewer than ``min_sign_frames`` frames (padding, lost
   tracking) are not used.
4. **Transitions.** Between the last frame ``a`` of one sign and the first
   frame ``b`` of the next, ``n`` frames are inserted:
   ``n = clip(ceil(d / speed), min_transition, max_transition)`` where ``d`` is
   the largest displacement of a wrist (of the pose or a hand model) seen in
   both frames (x scaled by the frame's aspect, so in frame heights) and
   ``speed`` is in frame heights per frame (``max_transition`` when no wrist
   is seen in both).
   Frame ``k = 1..n`` is ``a + s(k / (n + 1)) * (b - a)`` with the minimum-jerk
   profile ``s(u) = 10u^3 - 15u^4 + 6u^5`` of human reaching movements.
   A landmark missing in ``a`` or ``b`` stays missing (NaN, confidence 0)
   throughout the transition: no hand is invented where none was seen.
5. **Spans.** ``gloss_spans`` gives each sign's frames; they are the trimmed
   source frames exactly. Spans and transitions tile the sentence: the first
   span starts at 0, each transition fills the gap to the next span, the last
   span ends at the last frame.

Everything is drawn from generators seeded by ``seed``: the same store,
settings and seed give the same store, sample for sample.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from slr_pose.continuous.gloss_spans import format_spans
from slr_pose.continuous.sentences import BigramGrammar, Grammar
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.layout import Layout
from slr_pose.keypoints.store import PoseStore, Sample, SampleInfo
from slr_pose.keypoints.store.derive import (
    check_new_store,
    derived_provenance,
    new_store,
    open_source,
)

SPLIT_MODES = ("auto", "store", "signer", "sample")
#: Split names a source store may use, in the order sentences are made.
SPLIT_NAMES = ("train", "val", "dev", "test")
#: Grammars over more glosses are recorded by their seed and settings only (HDF5 attributes stay small).
MAX_RECORDED_GLOSSES = 30
#: Tries at drawing a sentence that some signer of the split can play.
MAX_DRAWS = 1000


@dataclass(frozen=True)
class StitchSpec:
    """Settings of a stitched store (see the module docs for their meaning)."""

    sentences: int = 400
    min_glosses: int = 3
    max_glosses: int = 8
    seed: int = 0
    split_by: str = "auto"
    test_fraction: float = 0.25
    val_fraction: float = 0.0
    speed: float = 0.05
    min_transition: int = 2
    max_transition: int = 12
    density: float = 0.5
    min_sign_frames: int = 4

    def __post_init__(self) -> None:
        if self.sentences < 1:
            raise SlrPoseError(f"sentences {self.sentences} must be at least 1")
        if not 1 <= self.min_glosses <= self.max_glosses:
            raise SlrPoseError(f"need 1 <= min glosses ({self.min_glosses}) <= max glosses ({self.max_glosses})")
        if self.split_by not in SPLIT_MODES:
            raise SlrPoseError(f"split mode {self.split_by!r} is not one of {', '.join(SPLIT_MODES)}")
        if not 0 < self.test_fraction < 1:
            raise SlrPoseError(f"test fraction {self.test_fraction} must be between 0 and 1")
        if not 0 <= self.val_fraction < 1 - self.test_fraction:
            raise SlrPoseError(
                f"val fraction {self.val_fraction} must be at least 0 and below 1 - test fraction ({1 - self.test_fraction:g})"
            )
        if not self.speed > 0:
            raise SlrPoseError(f"transition speed {self.speed} must be positive")
        if not 0 < self.density <= 1:
            raise SlrPoseError(f"grammar density {self.density} must be above 0 and at most 1")
        if self.min_sign_frames < 1:
            raise SlrPoseError(f"min sign frames {self.min_sign_frames} must be at least 1")
        if not 0 <= self.min_transition <= self.max_transition:
            raise SlrPoseError(
                f"need 0 <= min transition ({self.min_transition}) <= max transition ({self.max_transition}) frames"
            )


# --------------------------------------------------------------------------- splitting the sources


def source_splits(
    splits: Sequence[str], signers: Sequence[str], labels: Sequence[str], mode: str, test_fraction: float, seed: int,
    val_fraction: float = 0.0,
) -> tuple[np.ndarray, str]:
    """Split of each source sample and the mode used (``auto`` resolved).

    ``store`` keeps the stored split (which must be one of :data:`SPLIT_NAMES`
    for every sample); ``signer`` puts ``round(test_fraction * signers)``
    signers (at least one) in test; ``sample`` puts that fraction of each
    label's samples (at least one of labels with two or more) in test.
    ``auto`` is ``store`` when every sample has a split, else ``signer`` with
    two or more signers, else ``sample``. With ``val_fraction`` > 0 the next
    signers (or samples) of the same draw go to ``val`` the same way (at
    least one; train keeps at least one), so the test split does not depend
    on it.
    """
    n = len(labels)
    if mode == "auto":
        people = {s for s in signers if s}
        mode = "store" if all(splits) else "signer" if len(people) >= 2 and all(signers) else "sample"
    if mode == "store":
        bad = [(i, s) for i, s in enumerate(splits) if s not in SPLIT_NAMES]
        if bad:
            i, s = bad[0]
            raise SlrPoseError(
                f"sample {i} has split {s!r}; stored splits must be one of {', '.join(SPLIT_NAMES)} "
                "(or split here by signer or sample)"
            )
        if val_fraction > 0:
            raise SlrPoseError(
                "the store's own split is kept as it is: a val fraction applies only when splitting by signer or sample"
            )
        return np.asarray(splits, dtype=object), mode
    rng = np.random.default_rng(seed)
    out = np.full(n, "train", dtype=object)
    if mode == "signer":
        if not all(signers):
            raise SlrPoseError("splitting by signer needs a signer for every sample; some have none")
        people = np.array(sorted(set(signers)), dtype=object)
        if len(people) < 2:
            raise SlrPoseError(f"splitting by signer needs two or more signers; the store has {len(people)}")
        rng.shuffle(people)
        k = min(len(people) - 1, max(1, int(round(test_fraction * len(people)))))
        v = _val_count(len(people) - k, val_fraction, len(people))
        test, val = set(people[:k]), set(people[k : k + v])
        out[[s in test for s in signers]] = "test"
        out[[s in val for s in signers]] = "val"
        return out, mode
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    for label in sorted(by_label):
        idx = rng.permutation(by_label[label])
        k = min(len(idx) - 1, max(1, int(round(test_fraction * len(idx))))) if len(idx) > 1 else 0
        v = _val_count(len(idx) - k, val_fraction, len(idx))
        out[idx[:k]] = "test"
        out[idx[k : k + v]] = "val"
    return out, mode


def _val_count(left: int, fraction: float, total: int) -> int:
    """Of ``left`` signers (or samples) not in test, how many go to val: at least one, leaving one for train."""
    if fraction <= 0 or left < 2:
        return 0
    return min(left - 1, max(1, int(round(fraction * total))))


def share(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` divided in proportion to ``weights`` (largest remainders), summing to ``total``."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


# --------------------------------------------------------------------------- frames


def hand_frames(sample: Sample, layout: Layout | None = None) -> np.ndarray:
    """``(T,)`` bool: a hand is detected in the frame (False everywhere for a layout without hands)."""
    layout = sample.layout_or(layout)
    hands = [layout.groups.index(g) for g in ("left_hand", "right_hand") if g in layout.groups]
    if not hands:
        return np.zeros(len(sample.xyz), dtype=bool)
    return ~sample.missing[:, hands].all(axis=1)


def has_hands(sample: Sample, layout: Layout | None = None) -> bool:
    layout = sample.layout_or(layout)
    return bool(hand_frames(sample, layout).any())


def active_range(sample: Sample, layout: Layout | None = None) -> tuple[int, int]:
    """``(start, end)``: first .. last+1 frame in which a hand is detected; all frames if none is."""
    layout = sample.layout_or(layout)
    seen = np.flatnonzero(hand_frames(sample, layout))
    if not len(seen):
        return 0, len(sample.xyz)
    return int(seen[0]), int(seen[-1]) + 1


#: Landmarks whose displacement sets a transition's length.
WRISTS = ("pose/LEFT_WRIST", "pose/RIGHT_WRIST", "left_hand/WRIST", "right_hand/WRIST")


def wrist_landmarks(layout: Layout) -> np.ndarray:
    """Indices of the wrists (pose and hand models) that the layout has."""
    return layout.index(n for n in WRISTS if n in layout)


def min_jerk(n: int) -> np.ndarray:
    """``(n,)`` weights ``s(k / (n + 1))``, ``k = 1..n``, of the minimum-jerk profile."""
    u = np.arange(1, n + 1, dtype=np.float64) / (n + 1)
    return u**3 * (10 - 15 * u + 6 * u**2)


def transition_length(
    a: np.ndarray, b: np.ndarray, valid: np.ndarray, movers: np.ndarray, aspect: float, spec: StitchSpec
) -> int:
    """Frames between two signs whose boundary frames are ``a`` and ``b`` (``(V, 3)``), ``valid`` ``(V,)`` in both."""
    idx = movers[valid[movers]]
    if not len(idx):
        return spec.max_transition
    d = (b[idx, :2] - a[idx, :2]) * np.array([aspect, 1.0])
    dist = float(np.sqrt((d**2).sum(-1)).max())
    return int(np.clip(math.ceil(dist / spec.speed - 1e-9), spec.min_transition, spec.max_transition))


def transition(a: Sample, b: Sample, n: int, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` frames from the last frame of ``a`` to the first of ``b``: ``(xyz (n,V,3), confidence (n,V), missing (n,G))``."""
    valid = a.valid(layout)[-1] & b.valid(layout)[0]
    w = min_jerk(n)
    xa, xb = a.xyz[-1].astype(np.float64), b.xyz[0].astype(np.float64)
    ca, cb = a.confidence[-1].astype(np.float64), b.confidence[0].astype(np.float64)
    xyz = xa[None] + w[:, None, None] * (xb - xa)[None]
    conf = ca[None] + w[:, None] * (cb - ca)[None]
    xyz[:, ~valid] = np.nan
    conf[:, ~valid] = 0.0
    missing = np.array([not valid[s].any() for s in layout.group_slices.values()], dtype=bool)
    return xyz.astype(np.float32), conf.astype(np.float32), np.repeat(missing[None], n, axis=0)


def stitch_parts(
    parts: Sequence[Sample], layout: Layout, spec: StitchSpec
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], list[tuple[int, int]], list[int]]:
    """One sentence from trimmed signs.

    Returns:
        ``(xyz (T,V,3), confidence (T,V), missing (T,G))``, the gloss spans and the transition lengths.
    """
    movers = wrist_landmarks(layout)
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    spans, gaps, pos = [], [], 0
    for k, part in enumerate(parts):
        if k:
            valid = parts[k - 1].valid(layout)[-1] & part.valid(layout)[0]
            n = transition_length(parts[k - 1].xyz[-1], part.xyz[0], valid, movers, part.info.aspect, spec)
            if n:
                chunks.append(transition(parts[k - 1], part, n, layout))
            gaps.append(n)
            pos += n
        chunks.append((part.xyz, part.confidence, part.missing))
        spans.append((pos, pos + len(part.xyz)))
        pos += len(part.xyz)
    arrays = tuple(np.concatenate([c[j] for c in chunks]) for j in range(3))
    return arrays, spans, gaps


# --------------------------------------------------------------------------- the stitched store


@dataclass
class StitchReport:
    """What :func:`stitch_store` wrote."""

    sentences: dict[str, int] = field(default_factory=dict)  # split -> sentences
    sources: dict[str, int] = field(default_factory=dict)  # split -> source samples used
    split_by: str = ""
    redrawn: int = 0  # sentences drawn again because no signer could play them
    handless: list[str] = field(default_factory=list)  # sources with no hand in any frame (kept whole)
    too_short: list[str] = field(default_factory=list)  # sources left out: fewer than min_sign_frames after trimming
    glosses: tuple[str, ...] = ()


class _Sources:
    """The usable source samples by split, signer and label; read and trimmed on demand.

    Every sample of a wanted gloss is read once here to find its active range.
    """

    def __init__(self, store: PoseStore, split: np.ndarray, wanted: set[str], spec: StitchSpec, report: StitchReport) -> None:
        self.store = store
        labels, signers = store.column("label").tolist(), store.column("signer").tolist()
        self.ranges: dict[int, tuple[int, int]] = {}
        self.table: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
        for i, (s, p, g) in enumerate(zip(split, signers, labels)):
            if g not in wanted:
                continue
            sample = store.read(i)
            a, b = active_range(sample)
            if not has_hands(sample):
                report.handless.append(sample.info.id)
            if b - a < spec.min_sign_frames:
                report.too_short.append(sample.info.id)
                continue
            self.ranges[i] = (a, b)
            self.table[s][p][g].append(i)
        self.used = np.array(sorted(self.ranges), dtype=np.int64)
        self.trimmed = lru_cache(maxsize=4096)(self._trim)

    def _trim(self, i: int) -> tuple[Sample, tuple[int, int]]:
        sample = self.store.read(i)
        a, b = self.ranges[i]
        return Sample(sample.info, sample.xyz[a:b], sample.confidence[a:b], sample.missing[a:b], sample.time[a:b],
                      layout=sample.layout), (a, b)

    def splits(self) -> dict[str, int]:
        """``{split: usable samples}`` in :data:`SPLIT_NAMES` order."""
        counts = {s: sum(len(v) for p in self.table[s].values() for v in p.values()) for s in self.table}
        return {s: counts[s] for s in SPLIT_NAMES if counts.get(s)}


def _check_sources(store: PoseStore, glosses: Sequence[str] | None) -> tuple[str, ...]:
    labels = store.column("label").tolist()
    unlabelled = [i for i, g in enumerate(labels) if not g]
    if unlabelled:
        raise SlrPoseError(
            f"{len(unlabelled)} of {len(labels)} samples of {store.path} have no label (first: {store.ids[unlabelled[0]]!r}): "
            "stitching needs labelled isolated signs"
        )
    spaced = sorted({g for g in labels if len(g.split()) != 1})
    if spaced:
        raise SlrPoseError(f"label {spaced[0]!r} contains spaces; glosses of a sentence are space-separated words")
    if glosses is None:
        return tuple(sorted(set(labels)))
    unknown = [g for g in glosses if g not in set(labels)]
    if unknown:
        raise SlrPoseError(f"gloss {unknown[0]!r} has no sample in {store.path}")
    return tuple(sorted(set(glosses)))


def _frame_rate(store: PoseStore, used: np.ndarray) -> float:
    fps = store.column("fps")[used].astype(np.float64)
    known = {float(f) for f in fps if math.isfinite(f) and f > 0}
    if len(known) > 1:
        raise SlrPoseError(f"the source samples have different frame rates ({', '.join(f'{f:g}' for f in sorted(known))}): stitch one rate")
    if known and not np.isfinite(fps).all():
        raise SlrPoseError("some source samples have a frame rate and some do not: stitch one rate")
    return known.pop() if known else float("nan")


def stitch_store(
    isolated: str | os.PathLike,
    out: str | os.PathLike,
    spec: StitchSpec = StitchSpec(),
    *,
    grammar: Grammar | None = None,
    glosses: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StitchReport:
    """Write a new store ``out`` of ``spec.sentences`` stitched sentences made from ``isolated``.

    Args:
        grammar: where gloss sequences come from; default a
            :meth:`BigramGrammar.random` over the glosses with ``spec.seed``
            and ``spec.density``.
        glosses: use only these labels (default: every label in the store).

    Raises:
        SlrPoseError: ``out`` exists, a sample without a label, a split name the
            store uses that is not a split, a gloss with no usable sample (in
            the store or in one of its splits), sources at different frame
            rates, or sentences that no signer of a split can play.
    """
    out = check_new_store(out, isolated)
    store = open_source(isolated)
    glosses = _check_sources(store, glosses)
    if grammar is None:
        grammar = BigramGrammar.random(glosses, spec.seed, density=spec.density)
    lacking = [g for g in grammar.glosses if g not in glosses]
    if lacking:
        raise SlrPoseError(f"gloss {lacking[0]!r} of the language model has no sample in {store.path}")
    split, mode = source_splits(
        store.column("split").tolist(), store.column("signer").tolist(), store.column("label").tolist(),
        spec.split_by, spec.test_fraction, spec.seed, spec.val_fraction,
    )
    report = StitchReport(split_by=mode, glosses=tuple(grammar.glosses))
    sources = _Sources(store, split, set(grammar.glosses), spec, report)
    report.sources = sources.splits()
    for s in report.sources:
        absent = sorted(g for g in grammar.glosses if not any(g in p for p in sources.table[s].values()))
        if absent:
            raise SlrPoseError(f"gloss {absent[0]!r} has no usable sample in split {s!r} of {store.path}")
    fps = _frame_rate(store, sources.used)
    names = list(report.sources)
    counts = share(spec.sentences, list(report.sources.values()))
    description = grammar.describe()
    if len(grammar.glosses) > MAX_RECORDED_GLOSSES:
        description = {k: v for k, v in description.items() if k not in ("start", "transitions")}
    settings = {"stitched": True, **asdict(spec), "split_by": mode, "grammar": description, "sources": report.sources,
                "left_out_short": len(report.too_short)}
    if mode == "signer":
        settings["test_signers"] = sorted(sources.table["test"])
        if "val" in sources.table:
            settings["val_signers"] = sorted(sources.table["val"])
    prov = derived_provenance(store, "stitch", settings)
    with new_store(out, store.layout, prov) as writer:
        for k, (s, count) in enumerate(zip(names, counts)):
            rng = np.random.default_rng([spec.seed, k])
            for n in range(count):
                sentence, signer = _draw(rng, grammar, sources.table[s], spec, report)
                picks = [int(rng.choice(sources.table[s][signer][g])) for g in sentence]
                sample = _sentence_sample(sources, picks, sentence, f"{s}/{n:05d}", s, fps, spec)
                writer.add(sample)
                if progress is not None:
                    progress(sample.info.id)
            report.sentences[s] = count
    return report


def _draw(
    rng: np.random.Generator, grammar: Grammar, by_signer: dict[str, dict[str, list[int]]], spec: StitchSpec, report: StitchReport
) -> tuple[list[str], str]:
    """A sentence and a signer of the split who has samples of all its glosses."""
    people = sorted(by_signer)
    for _ in range(MAX_DRAWS):
        length = int(rng.integers(spec.min_glosses, spec.max_glosses + 1))
        sentence = grammar.sample(rng, length)
        able = [p for p in people if all(by_signer[p].get(g) for g in sentence)]
        if able:
            return sentence, able[int(rng.integers(len(able)))]
        report.redrawn += 1
    raise SlrPoseError(
        f"no signer has samples of all glosses of {MAX_DRAWS} sentences drawn in a row "
        f"(last: {' '.join(sentence)}): each signer needs samples of most glosses"
    )


def _sentence_sample(
    sources: _Sources, picks: list[int], sentence: list[str], sid: str, split: str, fps: float, spec: StitchSpec
) -> Sample:
    parts, ranges = zip(*(sources.trimmed(i) for i in picks))
    (xyz, conf, missing), spans, gaps = stitch_parts(parts, sources.store.layout, spec)
    first = parts[0].info
    t = len(xyz)
    time = (np.arange(t) / fps if math.isfinite(fps) else np.full(t, np.nan)).astype(np.float32)
    ids = [p.info.id for p in parts]
    digest = hashlib.sha256(xyz.tobytes() + json.dumps(ids).encode()).hexdigest()
    meta = {"stitched": True, "sources": ids, "source_frames": [list(r) for r in ranges], "transitions": gaps}
    info = SampleInfo(
        id=sid, length=t, fps=fps, width=first.width, height=first.height, source="stitched", sha256=digest,
        signer=first.signer, language=first.language, split=split, glosses=" ".join(sentence),
        gloss_spans=format_spans(spans), meta=json.dumps(meta),
    )
    return Sample(info, xyz, conf, missing, time, layout=parts[0].layout)
