"""Isolated signs from RGB clips: the same samples, labels, splits and heads as the pose task, a video encoder.

Every sample of a pose store has its cropped frames in the store's frame
cache (``slr-pose frames``, :mod:`slr_pose.rgb`): the RGB stream is trained,
evaluated and fused on exactly the samples (ids, labels, languages, splits)
of the pose streams. A clip is :class:`~slr_pose.training.config.ClipConfig`'s
``frames`` cached frames ``stride`` apart inside the sign (a random start in
training, centred in evaluation), augmented in training
(:class:`~slr_pose.rgb.clips.VideoAugment`: random resized crop, colour
jitter) and normalised for the encoder as ``(3, T, H, W)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.rgb.cache import FrameCache
from slr_pose.rgb.clips import ClipSampling, VideoAugment, sign_range, to_model_input
from slr_pose.training.config import ClipConfig
from slr_pose.training.data import SampleSet, relative_boundary
from slr_pose.training.islr import ISLRTask
from slr_pose.training.labels import LabelSpace
from slr_pose.training.modeling import build_recognizer


@dataclass
class VideoClip:
    """Model input of one sample: ``x`` ``(3, T, H, W)`` float32, ``frame_mask`` ``(T,)`` (all real),
    ``source_index`` ``(T,)`` the stored frame each clip frame is."""

    x: np.ndarray
    frame_mask: np.ndarray
    source_index: np.ndarray


def open_caches(samples: SampleSet, paths: list[str]) -> list[FrameCache]:
    """The frame cache of each store, checked to hold every sample used."""
    caches = []
    for k, (store, path) in enumerate(zip(samples.stores, paths)):
        cache = FrameCache(path)
        lacking = [samples.ids[m] for m in np.flatnonzero(samples.store == k) if samples.ids[m] not in cache]
        if lacking:
            raise SlrPoseError(f"frame cache {path} lacks {len(lacking)} samples of {store.path} (first: {lacking[0]!r}); "
                               f"build it with: slr-pose frames {store.path} -o {path}")
        caches.append(cache)
    return caches


class RGBDataset(torch.utils.data.Dataset):
    """RGB clips of one split, with the targets and boundaries of :class:`~slr_pose.training.data.PoseDataset`.

    Augmentation draws from a generator seeded by ``(seed, epoch, index)``, as
    the pose dataset does, so a resumed run sees the same clips.
    """

    def __init__(self, samples: SampleSet, indices: np.ndarray, caches: list[FrameCache], labels: LabelSpace,
                 clip: ClipConfig, *, train: bool, seed: int = 0, augment: VideoAugment | None = None) -> None:
        self.samples, self.caches, self.labels, self.clip = samples, caches, labels, clip
        self.indices = np.asarray(indices, dtype=np.int64)
        self.train, self.seed, self.epoch = train, seed, 0
        self.sampling = ClipSampling(clip.frames, clip.stride)
        self.augment = augment if train else None
        unknown = labels.unknown(zip(samples.language[self.indices], samples.label[self.indices]))
        if unknown:
            shown = ", ".join(f"{lang}/{c}" for lang, c in unknown[:5])
            raise SlrPoseError(f"{len(unknown)} label(s) are not classes of the model: {shown}")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[VideoClip, dict]:
        m = int(self.indices[i])
        s = self.samples
        info = s.stores[s.store[m]].info(int(s.index[m]))
        rng = np.random.default_rng([self.seed, self.epoch, m]) if self.train else None
        start, stop = sign_range(info)
        idx = self.sampling.indices(info.length, rng, start=start, stop=stop)
        frames = self.caches[s.store[m]].clip(info.id, idx)
        if self.augment is not None:
            x, _ = self.augment(frames, rng, s.label[m])
        else:
            x = to_model_input(frames, self.clip.side)
        mask = np.ones(len(idx), bool)
        source = idx.astype(np.float32)
        has = info.sign_start >= 0 and info.sign_end > info.sign_start
        item = {
            "language": self.labels.language_index(s.language[m]),
            "index": m,
            "target": self.labels.class_index(s.language[m], s.label[m]),
            "has_boundary": has,
            "boundary": relative_boundary(source, mask, info.sign_start, info.sign_end) if has else np.zeros(2, np.float32),
        }
        return VideoClip(np.ascontiguousarray(x, dtype=np.float32), mask, source), item


class RGBTask(ISLRTask):
    """Isolated signs from the stores' frame caches: a video encoder under the gated heads (and boundaries)."""

    def prepare(self) -> None:
        self.caches = open_caches(self.samples, [src.frames_path for src in self.config.data.stores])
        self.augment = VideoAugment(out_side=self.config.data.clip.side)

    def dataset(self, indices, *, train: bool) -> RGBDataset:
        return RGBDataset(self.samples, indices, self.caches, self.labels, self.config.data.clip, train=train,
                          seed=self.config.train.seed, augment=self.augment if self.config.train.augment else None)

    def build_model(self) -> torch.nn.Module:
        return build_recognizer(self.config.model, self.labels.sizes, self.config.data.clip)

    def meta(self) -> dict:
        clip = self.config.data.clip
        return {
            "task": "islr",
            "modality": "rgb",
            "labels": self.labels.to_json(),
            "clip": {"frames": clip.frames, "stride": clip.stride, "side": clip.side},
            "landmarks": [],
            "preprocess": {},
            "frames": [c.provenance for c in self.caches],
            "extractors": [st.provenance.get("extractor", {}) for st in self.samples.stores],
            "grouping": sorted([lang, gloss, group] for (lang, gloss), group in self.grouping.table.items())
            if self.grouping else None,
        }
