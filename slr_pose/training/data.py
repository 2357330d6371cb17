"""From pose stores to model batches.

:func:`load_samples` gathers the samples of every store in a config (with
their language, label, split), :class:`PoseDataset` turns them into model
tensors through the graphs pipeline, and :func:`collate` pads a batch.

Batch layout (dict of tensors)::

    x           (N, C, T, V) float32
    frame_mask  (N, T)       bool, True on real frames
    language    (N,)         int64, index into LabelSpace.languages
    target      (N,)         int64 class index in its language (ISLR)
    boundary    (N, 2)       float32 sign start/end relative to the clip
    has_boundary (N,)        bool
    tokens      (sum L,)     int64 gloss ids 1..K, concatenated (CSLR)
    token_lengths (N,)       int64 L, glosses per sample (CSLR)
    spans       (N, S, 2)    int64 [start, end) input frames of each gloss (CSLR with spans)
    span_glosses (N, S)      int64 the gloss id of each span, 0 on padding and cut-away spans
    source_index (N, T)      float32 stored frame of each input frame, -1 on padding (CSLR)
    index       (N,)         int64 position in the SampleSet
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.errors import SlrPoseError
from slr_pose.graphs.batch import collate as pad
from slr_pose.graphs.normalisation.pipeline import PreprocessConfig, Preprocessor
from slr_pose.keypoints.store import PoseStore
from slr_pose.training.config import Config, DataConfig
from slr_pose.training.labels import Grouping, LabelSpace
from slr_pose.training.splits import assign_splits, k_shot


@dataclass
class SampleSet:
    """Every sample of the configured stores, with what training needs to know of it."""

    stores: list[PoseStore]
    store: np.ndarray  # (M,) which store
    index: np.ndarray  # (M,) index in that store
    language: np.ndarray  # (M,) str
    label: np.ndarray  # (M,) str, after grouping
    raw_label: np.ndarray  # (M,) str, as stored
    signer: np.ndarray  # (M,) str
    split: np.ndarray  # (M,) str train/val/test
    ids: np.ndarray  # (M,) str
    glosses: list[list[str]] = field(default_factory=list)  # continuous: (M,) gloss sequences

    def __len__(self) -> int:
        return len(self.index)

    def where(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == split)


def transcript_words(text: str) -> list[str]:
    """Lower-cased words of a transcript, punctuation stripped: weak CTC targets."""
    words = (w.strip(".,;:!?\"'()[]«»-").lower() for w in text.split())
    return [w for w in words if w]


def open_stores(paths: list[str]) -> list[PoseStore]:
    stores = []
    for p in paths:
        if not Path(p).exists() and not Path(p + ".journal").exists():
            raise SlrPoseError(f"no pose store at {p}")
        stores.append(PoseStore(p))
    return stores


def load_samples(config: DataConfig, task: str = "islr", stores: list[PoseStore] | None = None,
                 grouping: Grouping | None = None) -> SampleSet:
    """Read the sample tables of the configured stores and split them.

    ``grouping`` replaces the table named by ``config.groups`` (a trained
    run's own grouping, as it was when the run was trained).
    """
    if not config.stores:
        raise SlrPoseError("the config names no pose store (data.stores)")
    stores = stores if stores is not None else open_stores([s.path for s in config.stores])
    if grouping is None:
        grouping = Grouping.load(config.groups) if config.groups else Grouping()
    cols: dict[str, list] = {k: [] for k in ("store", "index", "language", "raw", "signer", "split", "id", "glosses")}
    for k, (source, store) in enumerate(zip(config.stores, stores)):
        n = len(store)
        if n == 0:
            raise SlrPoseError(f"store {store.path} holds no samples")
        langs = [source.language] * n if source.language else store.column("language").tolist()
        if any(not lang for lang in langs):
            raise SlrPoseError(
                f"store {store.path} has samples without a language; set data.stores[{k}].language"
            )
        labels = store.column("label").tolist()
        if task == "islr" and any(not lab for lab in labels):
            raise SlrPoseError(f"store {store.path} has samples without a label; isolated-sign training needs one per sample")
        glosses = store.column("glosses" if config.target == "glosses" else "transcript").tolist()
        if task == "cslr" and config.target == "transcript":
            glosses = [" ".join(transcript_words(t)) for t in glosses]
        if task == "cslr" and any(not g.strip() for g in glosses):
            what = "a gloss sequence" if config.target == "glosses" else "a transcript"
            raise SlrPoseError(f"store {store.path} has samples without {what}; continuous training needs one per sample")
        cols["store"] += [k] * n
        cols["index"] += list(range(n))
        cols["language"] += langs
        cols["raw"] += labels
        cols["signer"] += store.column("signer").tolist()
        cols["split"] += store.column("split").tolist()
        cols["id"] += store.column("id").tolist()
        cols["glosses"] += [g.split() for g in glosses]
    language = np.array(cols["language"], dtype=object)
    raw = np.array(cols["raw"], dtype=object)
    label = np.array([grouping.apply(l, c) for l, c in zip(language, raw)], dtype=object)
    strata = [f"{l}/{c}" for l, c in zip(language, label)]
    split = assign_splits(cols["split"], cols["signer"], strata, config.split)
    samples = SampleSet(
        stores=stores,
        store=np.array(cols["store"], dtype=np.int64),
        index=np.array(cols["index"], dtype=np.int64),
        language=language,
        label=label,
        raw_label=raw,
        signer=np.array(cols["signer"], dtype=object),
        split=split,
        ids=np.array(cols["id"], dtype=object),
        glosses=cols["glosses"],
    )
    if config.shots:
        train = samples.where("train")
        keep = k_shot(train, [strata[i] for i in train], config.shots, config.shots_seed)
        dropped = np.setdiff1d(train, keep)
        samples.split[dropped] = "unused"
    return samples


def preprocess_config(config: Config, *, train: bool) -> PreprocessConfig:
    """The graphs pipeline options of a config; augmentation only for training."""
    augment = config.augment if train and config.train.augment else None
    return dataclasses.replace(config.data.preprocess, augment=augment)


def build_preprocessors(pre_config, stores: list[PoseStore]) -> list:
    """One graphs pipeline per store: stores may differ in layout; the subset is shared."""
    return [Preprocessor(s.layout, pre_config) for s in stores]


def coverage_warnings(stores: list[PoseStore], preprocessors: list) -> list[str]:
    """Lines naming landmark groups a subset uses that a store never detected."""
    lines = []
    for store, pre in zip(stores, preprocessors):
        used = {name.split("/", 1)[0] for name in pre.layout.names}
        missing = store.missing_mask()
        for j, group in enumerate(store.layout.groups):
            if group in used and len(missing) and missing[:, j].all():
                lines.append(
                    f"warning: {group.replace('_', ' ')} landmarks are missing in every frame of {store.path}; "
                    f"subset {pre.config.subset!r} sees zeros there"
                )
    return lines


def gloss_frames(out, info, count: int) -> np.ndarray:
    """``(S, 2)`` int64 ``[start, end)`` output frames of each annotated gloss span of a sample.

    Stored-frame spans map through ``out.source_index`` (trimming, cropping,
    resampling); a span cut away entirely becomes ``(0, 0)``, which losses
    skip. A sample without spans gives ``count`` empty spans.
    """
    frames = np.zeros((count, 2), np.int64)
    if not info.gloss_spans:
        return frames
    try:
        spans = parse_spans(info.gloss_spans, length=info.length, count=count)
    except SlrPoseError as e:
        raise SlrPoseError(f"sample {info.id!r}: {e}") from None
    src = np.where(out.frame_mask, out.source_index, -1.0)
    for k, (a, b) in enumerate(spans):
        inside = np.flatnonzero((src >= a) & (src < b))
        if len(inside):
            frames[k] = inside[0], inside[-1] + 1
    return frames


def relative_boundary(source_index: np.ndarray, frame_mask: np.ndarray, start: int, end: int) -> np.ndarray:
    """Sign start/end as fractions of the sampled clip (0 = first real frame, 1 = last).

    ``source_index`` maps each output frame to its stored frame; boundaries
    outside the clip (cropped away) are clamped to 0 or 1.
    """
    src = source_index[frame_mask]
    n = len(src)
    if n < 2:
        return np.zeros(2, np.float32)
    pos = np.arange(n, dtype=np.float64) / (n - 1)
    order = np.argsort(src, kind="stable")
    return np.interp([start, end], src[order], pos[order]).astype(np.float32)


class PoseDataset(torch.utils.data.Dataset):
    """Model-ready samples of one split.

    ``task``: ``islr`` (class targets and sign boundaries), ``cslr`` (gloss
    token targets; with ``spans``, also each gloss's annotated frames) or
    ``features`` (model input only).

    Augmentation (when ``train``) draws from a generator seeded by
    ``(seed, epoch, index)``: the same epoch gives the same batches whether a
    run is fresh or resumed, and whatever DataLoader worker builds them.
    """

    def __init__(
        self,
        samples: SampleSet,
        indices: np.ndarray,
        preprocessors: list,
        labels: LabelSpace,
        *,
        train: bool,
        seed: int = 0,
        task: str = "islr",
        vocab=None,
        spans: bool = False,
    ) -> None:
        self.samples = samples
        self.indices = np.asarray(indices, dtype=np.int64)
        self.preprocessors = preprocessors
        self.labels = labels
        self.train = train
        self.seed = seed
        self.epoch = 0
        self.task = task
        self.vocab = vocab
        self.spans = spans
        unknown = labels.unknown(zip(samples.language[self.indices], samples.label[self.indices])) if task == "islr" else []
        if unknown:
            shown = ", ".join(f"{l}/{c}" for l, c in unknown[:5])
            raise SlrPoseError(f"{len(unknown)} label(s) are not classes of the model: {shown}")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple:
        """``(Processed, targets)``: the model input and a dict of what the batch needs besides."""
        m = int(self.indices[i])
        s = self.samples
        store = s.stores[s.store[m]]
        sample = store.read(int(s.index[m]))
        rng = np.random.default_rng([self.seed, self.epoch, m]) if self.train else None
        out = self.preprocessors[s.store[m]](sample, rng=rng)
        # "features": samples of another language, read only for their model input
        language = self.labels.language_index(s.language[m]) if self.task != "features" else 0
        item = {"language": language, "index": m}
        if self.task == "islr":
            item["target"] = self.labels.class_index(s.language[m], s.label[m])
            info = sample.info
            has = info.sign_start >= 0 and info.sign_end > info.sign_start
            item["has_boundary"] = has
            item["boundary"] = (
                relative_boundary(out.source_index, out.frame_mask, info.sign_start, info.sign_end)
                if has
                else np.zeros(2, np.float32)
            )
        elif self.task == "cslr":
            vocab = self.vocab[s.language[m]]
            item["tokens"] = vocab.encode(s.glosses[m], skip_unknown=not self.train)
            if self.spans:
                known = np.array([self.train or g in vocab for g in s.glosses[m]], dtype=bool)
                item["spans"] = gloss_frames(out, sample.info, len(known))[known]
        return out, item


def collate(items: list[tuple]) -> dict:
    """A batch of tensors (see the module docstring); time padded to the longest sample."""
    outs = [out for out, _ in items]
    if outs[0].x.ndim == 4:  # RGB clips (3, T, H, W) of one length: stacked as they are
        x, frame_mask, source_index = (np.stack([getattr(o, k) for o in outs]) for k in ("x", "frame_mask", "source_index"))
    else:
        padded = pad(outs)
        x, frame_mask, source_index = padded.x, padded.frame_mask, padded.source_index
    extras = [item for _, item in items]
    batch = {
        "x": torch.from_numpy(x),
        "frame_mask": torch.from_numpy(frame_mask),
        "language": torch.tensor([it["language"] for it in extras], dtype=torch.long),
        "index": torch.tensor([it["index"] for it in extras], dtype=torch.long),
    }
    if "target" in extras[0]:
        batch["target"] = torch.tensor([it["target"] for it in extras], dtype=torch.long)
        batch["boundary"] = torch.from_numpy(np.stack([it["boundary"] for it in extras]))
        batch["has_boundary"] = torch.tensor([it["has_boundary"] for it in extras], dtype=torch.bool)
    if "tokens" in extras[0]:
        batch["tokens"] = torch.from_numpy(np.concatenate([it["tokens"] for it in extras]).astype(np.int64))
        batch["token_lengths"] = torch.tensor([len(it["tokens"]) for it in extras], dtype=torch.long)
        batch["source_index"] = torch.from_numpy(source_index)
    if "spans" in extras[0]:
        spans = np.zeros((len(extras), max(len(it["spans"]) for it in extras), 2), np.int64)
        glosses = np.zeros(spans.shape[:2], np.int64)
        for k, it in enumerate(extras):
            spans[k, : len(it["spans"])] = it["spans"]
            glosses[k, : len(it["spans"])] = np.where(it["spans"][:, 1] > it["spans"][:, 0], it["tokens"], 0)
        batch["spans"], batch["span_glosses"] = torch.from_numpy(spans), torch.from_numpy(glosses)
    return batch
