"""Pose encoders side by side with the reference ST-GCN, in one run, on real clips.

Input: real MediaPipe landmarks (the 86 MSL-150 clips, and the 42 Kaggle
asl-signs clips when ../shared/data is there) through the project's own
importers and Preprocessor (subset upper_body_hands: 57 nodes; joint + bone
streams: 6 channels; every clip resampled to 64 frames).

For every registered pose encoder (video encoders: ``rgb_models.py``), inside a Recognizer with one 100-class head:

- parameters (encoder + head);
- training samples/s: batch 32 x 64 frames, forward + backward + AdamW step,
  2 threads;
- CPU latency of one 64-frame clip on ONE thread (``torch.set_num_threads(1)``,
  inference mode): median of many warm runs, in rounds of ten runs beside one
  run of ``stgcn`` on the same clip, so the ratio is fair on a shared machine.

``--accuracy`` adds a small-data probe: one model for two sign languages at
once (gated heads: MSL-150 "lsm", 5 signs, 2 training clips per sign, the other
76 for testing; Kaggle asl-signs "ase", 2 signs, the clips of 4 signers for
training and those of the 17 unseen signers for testing), trained jointly on
mixed batches with the Preprocessor's augmentation, for several seeds.

Usage: python benchmarks/models.py [--models a,b] [--accuracy] [--seeds 3]
       [--out benchmarks/results/models.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from slr_pose.graphs.normalisation.augment import Augment
from slr_pose.graphs.normalisation.pipeline import Preprocessor
from slr_pose.keypoints.importers import Geometry
from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.models import DEFAULT_MODEL, Recognizer, create_model, gated_cross_entropy, list_models

REPO = Path(__file__).resolve().parent.parent
MSL = REPO / "data" / "msl150" / "keypoints_sample.npz"
KAGGLE = REPO.parent / "shared" / "data" / "gislr_asl_signs" / "parquet"
REFERENCE = "stgcn"
MSL_SHOTS = 2  # training clips per MSL-150 sign in the probe
KAGGLE_TRAIN_SIGNERS = 4  # of 21; the others' clips are the test set
# run only by --accuracy: the CPU-sized models and the reference (the other full-size ones take too long here)
PROBE_MODELS = ("conv_transformer_graph", "conv_transformer_small", "pose_transformer_small", "stgcn_small",
                "ctrgcn_tiny", "pyg_gcn", "stgcn")


def real_samples() -> dict[str, list]:
    """``{"lsm": MSL-150 samples, "ase": Kaggle samples (if present)}`` read by the project's importers."""
    spec = ColumnSpec.parse("msl150")
    msl = [c.load() for c in array_candidates([MSL], spec, holistic_layout("none"),
                                              geometry=Geometry(fps=30.0, width=1280, height=720))]
    out = {"lsm": msl}
    if KAGGLE.is_dir():
        out["ase"] = [c.load() for c in kaggle_candidates(KAGGLE, holistic_layout("full"), geometry=Geometry(fps=30.0))]
    return out


def preprocess(samples: list, length: int, fit: str, augment: Augment | None = None,
               rng: np.random.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Preprocessor]:
    pre = Preprocessor(_layout_of(samples[0]), subset="upper_body_hands", length=length, fit=fit,
                       streams=("joint", "bone"), augment=augment)
    outs = [pre(s, rng=rng) for s in samples]
    return (torch.from_numpy(np.stack([o.x for o in outs])), torch.from_numpy(np.stack([o.frame_mask for o in outs])),
            pre)


def _layout_of(sample):
    """Kaggle samples hold the full holistic layout (543 points), MSL-150 the face-less one (75)."""
    return holistic_layout("full") if sample.xyz.shape[1] > 75 else holistic_layout("none")


def build(name: str, pre: Preprocessor, classes: dict[str, int], **kwargs) -> Recognizer:
    sk = pre.skeleton
    enc = create_model(name, in_channels=pre.num_channels, num_nodes=pre.num_nodes,
                       adjacency=sk.adjacency("spatial"), edge_index=sk.edge_index)
    return Recognizer(enc, classes, **kwargs)


def latency_pair(model: torch.nn.Module, reference: torch.nn.Module, x: torch.Tensor, lang: torch.Tensor,
                 min_runs: int = 100, budget_s: float = 8.0) -> tuple[float, float]:
    """Median one-thread latency (ms) of ``model`` and ``reference`` on the same clip.

    Measured in rounds of ten runs of ``model`` then one of ``reference``, so
    both see the same machine load; within a round ``model`` runs warm, as it
    does when it serves a stream of clips.
    """
    torch.set_num_threads(1)
    mask = torch.ones(x.shape[0], x.shape[2], dtype=torch.bool)
    ours, ref = [], []

    def timed(m: torch.nn.Module, times: list[float]) -> None:
        t = time.perf_counter()
        m(x, lang, mask)
        times.append(time.perf_counter() - t)

    with torch.inference_mode():
        for _ in range(5):
            model(x, lang, mask)
            reference(x, lang, mask)
        start = time.perf_counter()
        while len(ref) < 5 or (len(ours) < min_runs and time.perf_counter() - start < budget_s):
            model(x, lang, mask)  # re-warm after the reference run
            for _ in range(10):
                timed(model, ours)
            timed(reference, ref)
    return statistics.median(ours) * 1e3, statistics.median(ref) * 1e3


def train_throughput(model: Recognizer, x: torch.Tensor, mask: torch.Tensor, steps: int = 3,
                     budget_s: float = 40.0) -> float:
    """Training samples per second on 2 threads (forward, backward, AdamW step)."""
    torch.set_num_threads(2)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    n = x.shape[0]
    target = torch.arange(n) % 100
    lang = torch.zeros(n, dtype=torch.long)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        out = model(x, lang, mask)
        gated_cross_entropy(out.logits, target, lang).backward()
        opt.step()

    step()  # warm-up
    done, start = 0, time.perf_counter()
    while done < steps or (time.perf_counter() - start < budget_s and done < 2 * steps):
        step()
        done += 1
        if time.perf_counter() - start > budget_s and done >= 1:
            break
    return done * n / (time.perf_counter() - start)


def speed(models: list[str], samples: dict[str, list]) -> list[dict]:
    pool = [s for group in samples.values() for s in group]
    by_layout: dict[int, list] = {}
    for s in pool:
        by_layout.setdefault(s.xyz.shape[1], []).append(s)
    xs, masks = [], []
    for group in by_layout.values():
        x, m, pre = preprocess(group, 64, "resample")
        xs.append(x)
        masks.append(m)
    x_all, m_all = torch.cat(xs), torch.cat(masks)
    batch_x, batch_m = x_all[:32], m_all[:32]
    clip = x_all[-1:]  # one real clip, 64 frames
    rows = []
    torch.manual_seed(0)
    reference = build(REFERENCE, pre, {"x": 100}).eval()
    lang1 = torch.zeros(1, dtype=torch.long)
    ref_train = train_throughput(build(REFERENCE, pre, {"x": 100}), batch_x, batch_m)
    for name in models:
        torch.manual_seed(0)
        model = build(name, pre, {"x": 100})
        params = sum(p.numel() for p in model.parameters())
        train = ref_train if name == REFERENCE else train_throughput(model, batch_x, batch_m)
        ours_ms, ref_ms = latency_pair(model.eval(), reference, clip, lang1)
        rows.append(dict(model=name, params=params, train=train, ref_train=ref_train, ms=ours_ms, ref_ms=ref_ms))
        print(f"{name:24s} {params / 1e6:6.2f} M  train {train:7.1f}/s (stgcn {ref_train:.1f})  "
              f"latency {ours_ms:7.2f} ms (stgcn {ref_ms:.2f})", flush=True)
    return rows


def probe(models: list[str], samples: dict[str, list], seeds: int, epochs: int = 60) -> list[dict]:
    """Small-data accuracy of each model, two languages trained jointly through gated heads."""
    rows = []
    for name in models:
        accs: dict[str, list[float]] = {"lsm": [], "ase": []}
        start = time.perf_counter()
        for seed in range(seeds):
            acc = _probe_once(name, samples, seed, epochs)
            for k, v in acc.items():
                accs[k].append(v)
        secs = (time.perf_counter() - start) / seeds
        row = dict(model=name, seconds=secs, **{k: (float(np.mean(v)), float(np.std(v))) for k, v in accs.items() if v})
        rows.append(row)
        print(name, {k: v for k, v in row.items() if k != "model"}, flush=True)
    return rows


def _split(samples: dict[str, list], seed: int) -> dict[str, tuple[list, list]]:
    rng = np.random.default_rng(seed)
    out = {}
    msl = samples["lsm"]
    labels = sorted({s.info.label for s in msl})
    train, test = [], []
    for label in labels:
        idx = [i for i, s in enumerate(msl) if s.info.label == label]
        pick = set(rng.choice(idx, MSL_SHOTS, replace=False).tolist())
        train += [msl[i] for i in idx if i in pick]
        test += [msl[i] for i in idx if i not in pick]
    out["lsm"] = (train, test)
    if "ase" in samples:
        ase = samples["ase"]
        signers = sorted({s.info.signer for s in ase})
        seen = set(rng.choice(signers, KAGGLE_TRAIN_SIGNERS, replace=False).tolist())
        out["ase"] = ([s for s in ase if s.info.signer in seen], [s for s in ase if s.info.signer not in seen])
    return out


def _probe_once(name: str, samples: dict[str, list], seed: int, epochs: int) -> dict[str, float]:
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    split = _split(samples, seed)
    langs = list(split)
    label_index = {lang: sorted({s.info.label for s in split[lang][0]}) for lang in langs}
    classes = {lang: len(v) for lang, v in label_index.items()}
    aug, rng = Augment(), np.random.default_rng(seed)
    train = [(lang, s) for lang in langs for s in split[lang][0]]
    _, _, pre = preprocess([train[0][1]], 32, "pad")
    model = build(name, pre, classes, dropout=0.2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    steps = epochs * ((len(train) + 15) // 16)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps, pct_start=0.1)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(train))
        for b in range(0, len(order), 16):
            batch = [train[i] for i in order[b:b + 16]]
            x, m, lang, y = _tensors(batch, label_index, langs, aug, rng)
            loss = gated_cross_entropy(model(x, lang, m).logits, y, lang, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    acc = {}
    with torch.inference_mode():
        for lang in langs:
            test = [(lang, s) for s in split[lang][1]]
            x, m, language, y = _tensors(test, label_index, langs, None, None)
            acc[lang] = float((model(x, language, m).logits.argmax(1) == y).float().mean())
    return acc


def _tensors(batch, label_index, langs, aug, rng):
    xs, ms = [], []
    for _, s in batch:
        x, m, _ = preprocess([s], 32, "pad", aug, rng)
        xs.append(x)
        ms.append(m)
    lang = torch.tensor([langs.index(lang) for lang, _ in batch])
    y = torch.tensor([label_index[lang].index(s.info.label) for lang, s in batch])
    return torch.cat(xs), torch.cat(ms), lang, y


def write(rows: list[dict], accuracy: list[dict], out: Path, kaggle: bool, seeds: int, load_before: float) -> None:
    """The results file; a table this run did not measure (--skip-speed, no --accuracy) is kept from ``out``."""
    old = out.read_text() if out.is_file() else ""
    lines = [
        "# Pose encoders",
        "",
        f"Speed table run {datetime.date.today()} (load average {load_before:.1f} before it); machine: "
        f"{os.cpu_count()}-core {platform.machine()} CPU, no GPU. Ratios to ST-GCN, taken side by side in one "
        "run, are what to compare across machines; absolute times vary with the machine.",
        "`python benchmarks/models.py`.",
        "",
        "Input: real clips (MSL-150" + (" + Kaggle asl-signs" if kaggle else "") + ") through the project's "
        "importers and Preprocessor: upper_body_hands (57 nodes), joint + bone (6 channels), 64 frames. "
        "Each encoder inside a Recognizer with one 100-class head.",
        "",
        "| model | parameters | train samples/s (2 threads, batch 32) | vs stgcn | latency ms (1 thread, 64 frames) "
        "| stgcn ms (same run) | speed-up vs stgcn |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    if not rows and old:  # --skip-speed: keep the speed table of the last full run
        lines = old.split("\n## ")[0].rstrip("\n").split("\n")
    for r in rows:
        mark = " (default)" if r["model"] == DEFAULT_MODEL else ""
        lines.append(
            f"| {r['model']}{mark} | {r['params'] / 1e6:.2f} M | {r['train']:.1f} | {r['train'] / r['ref_train']:.2f}x "
            f"| {r['ms']:.2f} | {r['ref_ms']:.1f} | {r['ref_ms'] / r['ms']:.1f}x |"
        )
    if accuracy:
        lines += [
            "",
            "## Small-data probe (two sign languages, one model, gated heads)",
            "",
            f"Run {datetime.date.today()}: `python benchmarks/models.py --accuracy --seeds {seeds}`.",
            "",
            f"lsm: MSL-150, 5 signs, {MSL_SHOTS} training clips per sign, the other clips for testing (one signer). "
            f"ase: Kaggle asl-signs hello/thankyou, signer-independent: clips of {KAGGLE_TRAIN_SIGNERS} signers "
            "for training, those of the other 17 for testing. "
            "Both trained jointly on mixed batches (gated cross-entropy, label smoothing 0.1), 60 epochs, "
            "AdamW + one-cycle, Preprocessor augmentation, 32 frames; mean +- std (population, numpy.std) over "
            f"{seeds} seeds, {', '.join(map(str, range(seeds)))}; each seed draws the split and the initialisation.",
            "",
            "| model | lsm accuracy | ase accuracy | seconds per run (2 threads) |",
            "|---|---:|---:|---:|",
        ]
        for r in accuracy:
            cells = [f"{r[k][0]:.3f} +- {r[k][1]:.3f}" if k in r else "-" for k in ("lsm", "ase")]
            lines.append(f"| {r['model']} | {cells[0]} | {cells[1]} | {r['seconds']:.0f} |")
    elif "\n## Small-data probe" in old:  # keep the probe of the last --accuracy run
        lines += ["", "## Small-data probe" + old.split("\n## Small-data probe")[1].split("\n## Reading")[0].rstrip("\n")]
    lines += [
        "",
        "## Reading the tables",
        "",
        f"- The default encoder is `{DEFAULT_MODEL}`; its goal is at most 5 M parameters and 5 ms per "
        "64-frame clip on one thread. On a loaded machine its latency is read best as stgcn's latency "
        "divided by the speed-up column.",
        "- `stgcn_small` and `pyg_gcn` share one schedule (6 blocks, 32-64-128 channels, time halved twice): "
        "the difference between them is the spatial layer, a dense einsum over the (3, V, V) partitions "
        "against torch-geometric's GCNConv (gather/scatter over the edge list of a static graph, one "
        "weight matrix instead of one per partition). "
        "`pyg_gatv2` tiles the edge list over the N*T frame graphs, as GATv2Conv needs.",
        "- CTR-GCN refines a V x V topology per sample and channel; at 57 nodes that is the costliest "
        "operation here, which is why even `ctrgcn_tiny` is far from the 5 ms goal.",
        "- The probe's test sets are small (76 and about 34 clips): differences of a few points are "
        "within the spread across seeds.",
    ]
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="", help="comma-separated names (default: every registered pose encoder)")
    parser.add_argument("--accuracy", action="store_true", help="also run the small-data probe")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-speed", action="store_true", help="keep the speed table already in --out")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "models.md")
    args = parser.parse_args()
    models = args.models.split(",") if args.models else list_models("pose")  # video encoders: rgb_models.py
    load_before = os.getloadavg()[0]
    samples = real_samples()
    rows = [] if args.skip_speed else speed(models, samples)
    accuracy = probe([m for m in PROBE_MODELS if m in models], samples, args.seeds) if args.accuracy else []
    write(rows, accuracy, args.out, "ase" in samples, args.seeds, load_before)


if __name__ == "__main__":
    main()
