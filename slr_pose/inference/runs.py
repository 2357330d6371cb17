"""A trained run, loaded: its model rebuilt from the checkpoint's metadata, and its weights."""

from __future__ import annotations

import dataclasses

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from slr_pose.errors import SlrPoseError
from slr_pose.graphs.normalisation.pipeline import PreprocessConfig, Preprocessor
from slr_pose.keypoints.layout import Layout
from slr_pose.training.config import Config, config_from_dict
from slr_pose.training.labels import Grouping
from slr_pose.training.modeling import (
    build_ctc_model,
    build_recognizer,
    read_checkpoint,
)


def _strings(value, size: int | None = None) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value) and size in (None, len(value))


def _meta_problem(meta: Mapping) -> str | None:
    """What makes a checkpoint's metadata unusable (a damaged or foreign file), or None."""
    if meta.get("task", "islr") not in ("islr", "cslr"):
        return f"task {meta.get('task')!r} is not islr or cslr"
    for key in ("config", "preprocess"):
        if not isinstance(meta.get(key), Mapping):
            return f"{key} is not a mapping"
    if meta.get("modality", "pose") not in ("pose", "rgb"):
        return f"modality {meta.get('modality')!r} is not pose or rgb"
    if not _strings(meta.get("landmarks")) or (not meta["landmarks"] and meta.get("modality", "pose") == "pose"):
        return "landmarks is not a list of landmark names"
    labels = meta.get("labels")
    if not isinstance(labels, Mapping) or not labels or not all(isinstance(k, str) and _strings(v) for k, v in labels.items()):
        return "labels is not a mapping of languages to class lists"
    rows = meta.get("grouping")
    if rows is not None and not (isinstance(rows, (list, tuple)) and all(_strings(r, 3) for r in rows)):
        return "grouping is not a list of (language, gloss, group) rows"
    return None


@dataclass
class LoadedRun:
    """A trained run, ready for evaluation or prediction."""

    model: torch.nn.Module
    config: Config
    meta: dict

    @property
    def task(self) -> str:
        return self.meta.get("task", "islr")

    @property
    def modality(self) -> str:
        """``"pose"`` (landmarks) or ``"rgb"`` (clips of a frame cache)."""
        return self.meta.get("modality", "pose")

    @property
    def grouping(self):
        """The VSSign :class:`~slr_pose.training.labels.Grouping` the run's classes are groups of, or None."""
        rows = self.meta.get("grouping")
        if rows is not None:  # the table as it was at training time, even if edited since
            return Grouping({(lang, gloss): group for lang, gloss, group in rows})
        return Grouping.load(self.config.data.groups) if self.config.data.groups else None

    def preprocessor(self, layout, *, mirrored: bool = False):
        """The run's (unaugmented) graphs pipeline for samples of a store ``layout``.

        ``mirrored``: the pipeline that mirrors every sample the run's does not
        (and leaves alone those it mirrors): the second view of test-time augmentation.

        Raises:
            SlrPoseError: when ``layout`` cannot give the landmarks the model was trained on,
                or ``mirrored`` is asked of a run that mirrors left-dominant signers (``mirror: auto``).
        """
        config = PreprocessConfig.from_dict(self.meta["preprocess"])
        if mirrored:
            if config.mirror == "auto":
                raise SlrPoseError("this run mirrors left-dominant signers (preprocess.mirror: auto), so it has no "
                                   "mirrored view for test-time augmentation")
            config = dataclasses.replace(config, mirror=not config.mirror)
        pre = Preprocessor(layout, config)
        want, got = list(self.meta["landmarks"]), list(pre.layout.names)
        if got != want:
            odd = sorted(set(got) ^ set(want))
            why = f"{odd[0]!r} is in only one of them" if odd else "the same landmarks in another order"
            raise SlrPoseError(
                f"layout {layout.name!r} does not give the {len(want)} landmarks this model was trained on "
                f"(subset {pre.config.subset!r}: {why}); a run from another slr-pose version?"
            )
        return pre


def load_run(run_dir: str | Path, *, which: str = "best") -> LoadedRun:
    """Rebuild the model of a run directory and load its ``best`` (or ``last``) weights."""
    run_dir = Path(run_dir)
    if not (run_dir / "checkpoints").is_dir():
        raise SlrPoseError(f"{run_dir} is not a training run (no checkpoints folder)")
    state = read_checkpoint(run_dir / "checkpoints" / f"{which}.pt")
    meta = state.get("meta")
    if not meta or not isinstance(meta, Mapping):
        raise SlrPoseError(f"{run_dir} has a checkpoint without metadata; it was not written by slr-pose train")
    problem = _meta_problem(meta)
    if problem:
        raise SlrPoseError(f"{run_dir}: the checkpoint's metadata is damaged ({problem})")
    try:
        config = config_from_dict(meta["config"])
        # The model's shape depends only on the subset's landmarks and the streams.
        run = LoadedRun(torch.nn.Identity(), config, meta)
        # RGB clips are described by the config's clip settings, landmarks by the subset and streams
        pre = config.data.clip if run.modality == "rgb" else run.preprocessor(Layout("checkpoint", tuple(meta["landmarks"])))
    except SlrPoseError as e:
        raise SlrPoseError(f"{run_dir}: the checkpoint's metadata is damaged ({e})") from None
    if run.task == "islr":
        sizes = {lang: len(c) for lang, c in meta["labels"].items()}
        model = build_recognizer(config.model, sizes, pre)
    else:
        sizes = {lang: len(g) for lang, g in meta["labels"].items()}
        model = build_ctc_model(config.model, sizes, pre)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError:
        raise SlrPoseError(
            f"the weights in {run_dir} do not fit model {config.model.name!r} as this slr-pose builds it "
            "(a run from another version?)"
        ) from None
    model.eval()
    run.model = model
    return run
