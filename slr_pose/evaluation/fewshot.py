"""Transfer to a new sign language with few samples per class (as in Logos).

:func:`label_mapping_baseline` uses a source model unchanged: each of its
classes is mapped to the target class it is most often predicted for on the
target's training samples (majority vote), and test samples get the mapped
prediction. :func:`probe_baseline` is the standard frozen-encoder probe: the
source encoder's pooled features of the target's training samples fit a
scikit-learn classifier (logistic regression, or cosine 1-nearest-neighbour),
which then labels the test samples. :func:`run_fewshot` compares them with
training on ``k`` samples per class from scratch, with the source encoder
frozen under a new head, and fine-tuned.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.inference.runs import load_run
from slr_pose.outputs import write_text
from slr_pose.training.config import Config
from slr_pose.training.data import PoseDataset, collate, load_samples
from slr_pose.training.labels import LabelSpace
from slr_pose.training.trainer import train

#: How each compared method changes the target config.
METHODS = {
    "scratch": {"init": False, "freeze": False},
    "frozen": {"init": True, "freeze": True},
    "finetune": {"init": True, "freeze": False},
}
#: Methods that use the source model unchanged (no training on the target but a probe).
PROBES = ("probe_lr", "probe_knn")
ALL_METHODS = ("label_map", *PROBES, *METHODS)


def _source_outputs(source: str | Path, config: Config, source_language: str, batch_size: int):
    """The source head's language, the target samples, their train and test indices, and a function:
    target indices -> (the source encoder's pooled features, the source head's predictions)."""
    run = load_run(source)
    if run.task != "islr":
        raise SlrPoseError(f"{source} is not an isolated-sign run")
    src_labels = LabelSpace.from_json(run.meta["labels"])
    lang = source_language or max(src_labels.languages, key=lambda l: src_labels.sizes[l])
    lang_id = src_labels.language_index(lang)
    samples = load_samples(config.data, "islr")
    pre = [run.preprocessor(s.layout) for s in samples.stores]
    # the source model scores every target sample as if it were in the source language
    fake = LabelSpace({lang: src_labels.classes[lang]})

    def outputs(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ds = PoseDataset(samples, indices, pre, fake, train=False, task="features")
        loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, collate_fn=collate)
        feats, preds = [], []
        run.model.eval()
        with torch.no_grad():
            for b in loader:
                language = torch.full((len(b["x"]),), lang_id, dtype=torch.long)
                h = run.model.forward_features(b["x"], b["frame_mask"])
                logits = run.model.forward_head(h, language)[0][:, : src_labels.sizes[lang]]
                feats.append(h.numpy())
                preds.append(logits.argmax(1).numpy())
        if not feats:
            return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
        return np.concatenate(feats), np.concatenate(preds)

    train, test = samples.where("train"), samples.where("test")
    if len(train) == 0 or len(test) == 0:
        raise SlrPoseError("a few-shot baseline needs a train and a test split in the target config")
    return lang, samples, train, test, outputs


def label_mapping_baseline(source: str | Path, config: Config, *, source_language: str = "", batch_size: int = 64) -> dict:
    """Accuracy on the target test split of a source model whose labels are mapped by majority.

    Args:
        source: a trained run (another sign language).
        config: the target's config (stores, split, shots); its train split
            decides the mapping, its test split is scored.
        source_language: which of the source's heads to use (default: the one
            with most classes).
    """
    lang, samples, train, test, outputs = _source_outputs(source, config, source_language, batch_size)
    votes: dict[int, Counter] = defaultdict(Counter)
    for p, truth in zip(outputs(train)[1], samples.label[train]):
        votes[int(p)][truth] += 1
    fallback = Counter(samples.label[train]).most_common(1)[0][0]
    mapping = {p: c.most_common(1)[0][0] for p, c in votes.items()}
    guesses = [mapping.get(int(p), fallback) for p in outputs(test)[1]]
    hits = np.array([g == t for g, t in zip(guesses, samples.label[test])])
    return {
        "top1": float(hits.mean()),
        "samples": int(len(test)),
        "source_language": lang,
        "mapped_source_classes": len(mapping),
        "target_classes": len(set(samples.label[train])),
    }


def probe_baseline(source: str | Path, config: Config, kind: str = "lr", *, source_language: str = "",
                   batch_size: int = 64) -> dict:
    """Accuracy on the target test split of a scikit-learn probe on the frozen source encoder's pooled features.

    Args:
        source: a trained run (another sign language).
        config: the target's config (stores, split, shots): the probe is fit on its train split.
        kind: ``lr``: logistic regression on standardised features (L2, C = 1); ``knn``: the nearest
            training sample by cosine similarity (1-NN).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind not in ("lr", "knn"):
        raise SlrPoseError(f"unknown probe {kind!r}; choose lr or knn")
    lang, samples, train, test, outputs = _source_outputs(source, config, source_language, batch_size)
    (x_train, _), (x_test, _) = outputs(train), outputs(test)
    y_train, y_test = samples.label[train], samples.label[test]
    if len(set(y_train.tolist())) < 2:
        raise SlrPoseError("a probe needs training samples of at least two classes")
    if kind == "lr":
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    else:
        probe = KNeighborsClassifier(n_neighbors=1, metric="cosine")
    probe.fit(x_train, y_train)
    hits = probe.predict(x_test) == y_test
    return {"top1": float(hits.mean()), "samples": int(len(test)), "source_language": lang,
            "features": int(x_train.shape[1]), "train_samples": int(len(train))}


def run_fewshot(config: Config, source: str | Path, shots: list[int], out_dir: str | Path, *,
                methods: tuple[str, ...] = ALL_METHODS, log=print) -> list[dict]:
    """Train and score each method at each ``k``; writes ``out_dir/fewshot.json`` and ``.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in shots:
        cfg_k = dataclasses.replace(config, data=dataclasses.replace(config.data, shots=k))
        for method in methods:
            if method == "label_map":
                result = label_mapping_baseline(source, cfg_k)
                rows.append({"shots": k, "method": method, "top1": result["top1"], "samples": result["samples"]})
            elif method in PROBES:
                result = probe_baseline(source, cfg_k, method.split("_")[1])
                rows.append({"shots": k, "method": method, "top1": result["top1"], "samples": result["samples"]})
            else:
                change = METHODS[method]
                model = dataclasses.replace(
                    cfg_k.model, init=str(source) if change["init"] else "", freeze_encoder=change["freeze"]
                )
                result = train(dataclasses.replace(cfg_k, model=model), out_dir / f"k{k}-{method}", progress=False,
                               log=lambda *_: None)
                rows.append({"shots": k, "method": method, "top1": result.test.get("top1", float("nan")),
                             "samples": result.test.get("samples", 0)})
            log(f"k={k:<3} {method:<10} top-1 {100 * rows[-1]['top1']:5.1f}% over {rows[-1]['samples']} test samples")
    write_text(out_dir / "fewshot.json", json.dumps(rows, indent=1))
    write_text(out_dir / "fewshot.md", fewshot_table(rows))
    return rows


def fewshot_table(rows: list[dict]) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    shots = sorted({r["shots"] for r in rows})
    lines = ["| k per class | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for k in shots:
        cells = []
        for m in methods:
            r = next((r for r in rows if r["shots"] == k and r["method"] == m), None)
            cells.append(f"{100 * r['top1']:.1f}%" if r else "")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
