"""Late fusion of recognition streams and the ablation table that goes with it.

A *stream* is one model's class scores for a set of samples: a trained run
(joint, bone, motion, ... streams are runs with different ``preprocess.streams``;
the RGB stream a run with ``data.modality: rgb``) or a scores file written by
any model (:func:`save_scores` writes one of a run). Streams are matched by
sample id. Fused scores are a weighted sum of each stream's log-probabilities
(per language, over that language's classes). The weights are searched on the
validation split over the grid :data:`WEIGHT_GRID` per stream, keeping the
weights with the best validation top-1 and, among equals, the best validation
log-likelihood; they are then applied unchanged to the test split.

Scores file (``.npz``, self-contained): ``ids`` (M,) str, ``split`` (M,) str,
``language`` (M,) str, ``label`` (M,) str (each sample's true class; ``""``
where unknown), ``scores`` (M, C_max) float (logits or log-probabilities,
columns in the order of ``classes`` for that language), and ``classes`` (a
JSON string ``{language: [class, ...]}``). Files alone fuse: no run, no store.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slr_pose.errors import SlrPoseError
from slr_pose.evaluation.islr import run_scores
from slr_pose.evaluation.samples import run_dataset, run_samples
from slr_pose.inference.runs import load_run
from slr_pose.keypoints.importers.arrays import NUMPY_FAILURES
from slr_pose.keypoints.store import error_reason
from slr_pose.outputs import atomic_path
from slr_pose.training.labels import LabelSpace

SPLITS = ("val", "test")
#: The arrays of a scores file (``label`` may be absent from files of older versions: targets unknown).
SCORE_ARRAYS = ("ids", "split", "language", "scores", "classes")
#: Weights tried per stream when the fusion weights are searched on validation.
WEIGHT_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


@dataclass
class StreamScores:
    """Log-probabilities of one stream, rows keyed by sample id."""

    name: str
    labels: LabelSpace
    ids: np.ndarray  # (M,) str
    split: np.ndarray  # (M,) str
    language: np.ndarray  # (M,) int language index
    target: np.ndarray  # (M,) int class index, -1 when unknown
    log_probs: np.ndarray  # (M, C_max), -inf outside the language's classes

    def rows(self, ids: np.ndarray) -> np.ndarray:
        index = {sid: i for i, sid in enumerate(self.ids.tolist())}
        missing = [sid for sid in ids.tolist() if sid not in index]
        if missing:
            raise SlrPoseError(f"stream {self.name!r} has no scores for sample {missing[0]!r}")
        return np.array([index[sid] for sid in ids.tolist()])


def log_softmax_per_language(scores: np.ndarray, language: np.ndarray, labels: LabelSpace) -> np.ndarray:
    out = np.full(scores.shape, -np.inf)
    for li, lang in enumerate(labels.languages):
        sel = language == li
        n = labels.sizes[lang]
        s = scores[sel, :n].astype(np.float64)
        s = s - s.max(1, keepdims=True)
        out[np.ix_(sel, np.arange(n))] = s - np.log(np.exp(s).sum(1, keepdims=True))
    return out


def run_stream(run_dir: str | Path, store: str | Path) -> StreamScores:
    """Validation and test scores of a trained isolated-sign run (pose or RGB) on one of its stores."""
    run = load_run(run_dir)
    if run.task != "islr":
        raise SlrPoseError(f"{run_dir} is not an isolated-sign run; fusion combines class scores")
    labels = LabelSpace.from_json(run.meta["labels"])
    parts = []
    for split in SPLITS:
        try:
            samples, indices, pre, data = run_samples(run, store, split=split)
        except SlrPoseError:
            continue  # a split the run does not have
        ds = run_dataset(run, samples, indices, labels, data, pre)
        scores, target, language, index = run_scores(run, ds, 64)
        parts.append((samples.ids[index], np.full(len(index), split, dtype=object), language, target, scores))
    if not parts:
        raise SlrPoseError(f"{run_dir} has neither a val nor a test split on {store}")
    ids, split, language, target, scores = (np.concatenate(p) for p in zip(*parts))
    return StreamScores(Path(run_dir).name, labels, ids, split, language, target,
                        log_softmax_per_language(scores, language, labels))


def save_scores(stream: StreamScores, path: str | Path) -> None:
    """Write a stream as a self-contained scores file (see the module docstring), atomically."""
    labels = stream.labels
    names = np.array([labels.classes[labels.languages[li]][t] if t >= 0 else "" for li, t in zip(stream.language, stream.target)])
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, ids=stream.ids.astype(str), split=stream.split.astype(str),
                 language=np.array([labels.languages[li] for li in stream.language]), label=names,
                 scores=np.where(np.isfinite(stream.log_probs), stream.log_probs, -1e30).astype(np.float32),
                 classes=np.array(json.dumps(labels.to_json(), ensure_ascii=False)))


def file_stream(path: str | Path, labels: LabelSpace | None = None) -> StreamScores:
    """A stream from a scores file (see the module docstring); ``labels``, when given, must be its classes."""
    path = Path(path)
    lacking, data = list(SCORE_ARRAYS), {}
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):  # else a plain .npy array
            with loaded as z:
                lacking = [k for k in SCORE_ARRAYS if k not in z.files]
                data = {k: z[k] for k in (*SCORE_ARRAYS, "label") if k in z.files}
    except NUMPY_FAILURES as e:
        raise SlrPoseError(f"{path} is not a scores file ({error_reason(e)})") from None
    if lacking:
        raise SlrPoseError(f"{path} is not a scores file: it lacks {', '.join(lacking)} (needs {', '.join(SCORE_ARRAYS)})")
    classes = _classes(data["classes"], path)
    if labels is not None and classes != labels:
        raise SlrPoseError(f"{path} scores other classes than the runs")
    labels = classes
    scores, width = data["scores"], max(labels.sizes.values())
    if scores.ndim != 2 or scores.dtype.kind not in "fiu" or scores.shape[1] < width:
        raise SlrPoseError(f"{path}: scores is {scores.dtype} {scores.shape}, expected numbers (samples, {width} or more classes)")
    m = len(scores)
    for k in ("ids", "split", "language"):
        if data[k].shape != (m,):
            raise SlrPoseError(f"{path}: {k} has shape {data[k].shape}, expected ({m},): one per row of scores")
    known = {lang: i for i, lang in enumerate(labels.languages)}
    odd = [str(lang) for lang in data["language"] if str(lang) not in known]
    if odd:
        raise SlrPoseError(f"{path}: language {odd[0]!r} has no head in these runs (they know {', '.join(known)})")
    language = np.array([known[str(lang)] for lang in data["language"]], dtype=np.int64)
    scores = scores.astype(np.float64)
    # a row is scored over its own language's classes: those need a finite best score, and NaN or +inf nowhere
    own = np.arange(scores.shape[1]) < np.array([labels.sizes[labels.languages[i]] for i in language])[:, None]
    bad = np.isnan(scores).any(1) | np.isposinf(scores).any(1) | ~(np.isfinite(scores) & own).any(1)
    if bad.any():
        raise SlrPoseError(f"{path}: sample {str(data['ids'][np.argmax(bad)])!r} has NaN, +inf or no finite score")
    target = _targets(path, data["label"], labels, language) if "label" in data else np.full(m, -1)
    return StreamScores(path.stem, labels, data["ids"].astype(str).astype(object), data["split"].astype(str).astype(object),
                        language, target, log_softmax_per_language(scores, language, labels))


def _targets(path: Path, names: np.ndarray, labels: LabelSpace, language: np.ndarray) -> np.ndarray:
    """Class index of each row's ``label`` (-1 where empty); a label outside its language's classes is an error."""
    m = len(language)
    if names.shape != (m,) or names.dtype.kind not in "US":
        raise SlrPoseError(f"{path}: label has shape {names.shape} and dtype {names.dtype}, expected ({m},) text")
    out = np.full(m, -1)
    for k, (li, name) in enumerate(zip(language, names.astype(str))):
        if name:
            classes = labels.classes[labels.languages[li]]
            if name not in classes:
                raise SlrPoseError(f"{path}: label {name!r} is not a class of language {labels.languages[li]!r}")
            out[k] = classes.index(name)
    return out


def _classes(value: np.ndarray, path: Path) -> LabelSpace:
    """The ``classes`` JSON string of a scores file as a label space."""
    try:
        classes = json.loads(str(value)) if value.shape == () and value.dtype.kind == "U" else None
    except (json.JSONDecodeError, RecursionError):
        classes = None
    if not isinstance(classes, dict) or not all(
        isinstance(names, list) and all(isinstance(c, str) for c in names) for names in classes.values()
    ):
        raise SlrPoseError(f"{path}: classes is not a JSON string {{language: [class, ...]}}")
    return LabelSpace.from_json(classes)


def align(streams: list[StreamScores]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Common samples of every stream: ``(ids, split, language, target, log_probs (S, M, C))``."""
    base = next((s for s in streams if (s.target >= 0).all()), None)
    if base is None:
        raise SlrPoseError("fusion needs one stream whose every sample has its true class: a run, or a scores file with labels")
    for s in streams:
        if s.labels != base.labels:
            raise SlrPoseError(f"streams {base.name!r} and {s.name!r} have different classes; fuse runs of the same data")
    stacked = np.stack([s.log_probs[s.rows(base.ids)] for s in streams])
    return base.ids, base.split, base.language, base.target, stacked


def accuracy(log_probs: np.ndarray, target: np.ndarray) -> float:
    return float((log_probs.argmax(1) == target).mean()) if len(target) else float("nan")


def fused(stacked: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)[:, None, None]
    with np.errstate(invalid="ignore"):
        out = (np.where(np.isfinite(stacked), stacked, 0.0) * w).sum(0)
    return np.where(np.isfinite(stacked[0]), out, -np.inf)


def search_weights(stacked: np.ndarray, target: np.ndarray, grid=WEIGHT_GRID) -> np.ndarray:
    """The weights of ``grid`` per stream (not all zero) with the best accuracy, then the best mean log-likelihood."""
    k = stacked.shape[0]
    best, best_key = np.ones(k), (-1.0, -np.inf)
    for w in itertools.product(grid, repeat=k):
        if not any(w):
            continue
        f = fused(stacked, np.array(w))
        ll = np.mean(f[np.arange(len(target)), target] - np.log(np.exp(f - f.max(1, keepdims=True)).sum(1)) - f.max(1))
        key = (accuracy(f, target), float(ll))
        if key > best_key:
            best, best_key = np.array(w, dtype=np.float64), key
    return best


def ablation(streams: list[StreamScores]) -> dict:
    """Every subset of streams (equal weights), and all streams with searched weights."""
    ids, split, language, target, stacked = align(streams)
    val, test = split == "val", split == "test"
    names = [s.name for s in streams]
    rows = []
    for r in range(1, len(streams) + 1):
        for combo in itertools.combinations(range(len(streams)), r):
            f = fused(stacked[list(combo)], np.ones(len(combo)))
            rows.append({"streams": "+".join(names[i] for i in combo), "weights": [1.0] * len(combo),
                         "val_top1": accuracy(f[val], target[val]), "test_top1": accuracy(f[test], target[test])})
    if len(streams) > 1:
        if not val.any():
            raise SlrPoseError("weights are searched on the validation split, and these runs have none")
        w = search_weights(stacked[:, val], target[val])
        f = fused(stacked, w)
        rows.append({"streams": "+".join(names) + " (searched weights)", "weights": w.tolist(),
                     "val_top1": accuracy(f[val], target[val]), "test_top1": accuracy(f[test], target[test])})
    return {"streams": names, "val_samples": int(val.sum()), "test_samples": int(test.sum()), "rows": rows}


def ablation_table(result: dict) -> str:
    grid = ", ".join(f"{w:g}" for w in WEIGHT_GRID)
    lines = [f"Validation: {result['val_samples']} samples; test: {result['test_samples']} samples. Searched weights: "
             f"each stream's from {{{grid}}}, best validation top-1, then best validation log-likelihood.", "",
             "| streams | weights | val top-1 | test top-1 |", "|---|---|---|---|"]
    for r in result["rows"]:
        w = ", ".join(f"{x:g}" for x in r["weights"])
        lines.append(f"| {r['streams']} | {w} | {100 * r['val_top1']:.1f}% | {100 * r['test_top1']:.1f}% |")
    return "\n".join(lines) + "\n"
