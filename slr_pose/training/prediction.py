"""Predicting signs for one video (extracted on the fly) or one stored sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.store import PoseStore, Sample
from slr_pose.training.labels import LabelSpace
from slr_pose.training.modeling import LoadedRun, load_run

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def extraction_options(run: LoadedRun):
    """Extract new videos the way the run's training videos were extracted (Holistic otherwise)."""
    from slr_pose.keypoints.backends import create_spec
    from slr_pose.keypoints.extract import ExtractOptions

    names = set(run.meta["landmarks"])
    face = "full" if any(n.startswith("face/") for n in names) else "contour"
    source = next((e for e in run.meta.get("extractors", []) if e.get("backend") == "holistic"), None)
    if source is None:
        return ExtractOptions(create_spec("holistic"), face=face)
    s = source.get("settings", {})
    spec = create_spec("holistic", model_complexity=s.get("model_complexity", 1), refine_face=s.get("refine_face", False))
    return ExtractOptions(spec, face=s.get("face", face), fps=s.get("fps"), max_side=s.get("max_side"))


def load_input(run: LoadedRun, source: str | Path, sample_id: str | None = None) -> Sample:
    """A stored sample (``source`` a store and ``sample_id``) or a video extracted now."""
    source = Path(source)
    if source.suffix == ".h5" or (source.with_name(source.name + ".journal")).is_dir():
        if not sample_id:
            raise SlrPoseError(f"{source} is a pose store: name the sample with --id")
        store = PoseStore(source)
        return store.read(store.index_of(sample_id))
    if not source.is_file():
        raise SlrPoseError(f"no such file: {source}")
    if source.suffix.lower() not in VIDEO_SUFFIXES:
        raise SlrPoseError(f"{source} is neither a pose store (.h5) nor a video ({', '.join(VIDEO_SUFFIXES)})")
    from slr_pose.keypoints.backends import native_logs_silenced
    from slr_pose.keypoints.extract import extract_video
    from slr_pose.keypoints.inputs import VideoInput

    options = extraction_options(run)
    with native_logs_silenced(), options.backend.create() as backend:
        return extract_video(backend, VideoInput(id=source.stem, path=source), options)


@dataclass
class Prediction:
    """Top-k classes of an isolated sign, or the glosses of continuous signing with times."""

    language: str
    top: list[tuple[str, float]]  # (class, probability), best first (ISLR)
    glosses: list[tuple[str, float, float]]  # (gloss, start s, end s) (CSLR)
    frames: int

    def to_json(self) -> dict:
        if self.glosses or not self.top:
            return {"language": self.language, "frames": self.frames,
                    "glosses": [{"gloss": g, "start": round(a, 3), "end": round(b, 3)} for g, a, b in self.glosses]}
        return {"language": self.language, "frames": self.frames,
                "top": [{"label": c, "probability": round(p, 6)} for c, p in self.top]}


def _language(run: LoadedRun, language: str) -> str:
    languages = list(run.meta["labels"])
    if language:
        if language not in languages:
            raise SlrPoseError(f"language {language!r} has no head in this model (it knows {', '.join(languages)})")
        return language
    if len(languages) > 1:
        raise SlrPoseError(f"this model knows several languages ({', '.join(languages)}): choose one with --language")
    return languages[0]


def predict(run_dir: str | Path, source: str | Path, *, sample_id: str | None = None, language: str = "",
            top_k: int = 5, beam_width: int = 10, lm_weight: float = 0.5, insertion_bonus: float = 0.5) -> Prediction:
    """Run a trained model on one video or stored sample."""
    run = load_run(run_dir)
    lang = _language(run, language)
    sample = load_input(run, source, sample_id)
    pre = run.preprocessor(_layout_of(sample, source, sample_id))
    out = pre(sample)
    x = torch.from_numpy(out.x)[None]
    mask = torch.from_numpy(np.asarray(out.frame_mask))[None]
    lang_id = torch.tensor([list(run.meta["labels"]).index(lang)])
    with torch.no_grad():
        if run.task == "islr":
            labels = LabelSpace.from_json(run.meta["labels"])
            logits = run.model(x, lang_id, mask).logits[0, : labels.sizes[lang]]
            probs = torch.softmax(logits, 0).numpy()
            order = np.argsort(-probs)[:top_k]
            return Prediction(lang, [(labels.classes[lang][i], float(probs[i])) for i in order], [], len(sample.xyz))
        result = run.model(x, lang_id, mask)
    return _decode_continuous(run, Path(run_dir), lang, result, out, sample, beam_width, lm_weight, insertion_bonus)


def _layout_of(sample: Sample, source, sample_id):
    if sample_id:
        return PoseStore(source).layout
    from slr_pose.keypoints.layout import holistic_layout

    n = sample.xyz.shape[1]
    for face in ("contour", "full", "none"):
        layout = holistic_layout(face)
        if layout.num_landmarks == n:
            return layout
    raise SlrPoseError(f"cannot tell the layout of a sample with {n} landmarks")  # pragma: no cover


def _decode_continuous(run, run_dir: Path, lang, result, out, sample: Sample, beam_width, lm_weight, insertion_bonus):
    from slr_pose.decoding import NGramLM, Vocabulary, decode_stream

    vocab = Vocabulary(run.meta["labels"][lang])
    steps = result.log_probs[0, : int(result.out_lengths[0]), : len(vocab)].float().numpy()
    lm_path = run_dir / f"lm_{lang}.arpa"
    lm = NGramLM.load(lm_path).bind(vocab) if lm_path.exists() else None
    decoded = decode_stream(steps, beam_width=beam_width, lm=lm, lm_weight=lm_weight if lm else 0.0,
                            insertion_bonus=insertion_bonus if lm else 0.0)
    stride = run.model.total_stride
    source = np.asarray(out.source_index)
    real = source[np.asarray(out.frame_mask)]
    times = sample.time.astype(np.float64)
    if not np.isfinite(times).all():
        fps = sample.info.fps if np.isfinite(sample.info.fps) and sample.info.fps > 0 else 25.0
        times = np.arange(len(sample.xyz)) / fps

    def seconds(step: int) -> float:
        frame = min(step * stride, len(real) - 1)
        return float(np.interp(real[frame], np.arange(len(times)), times))

    glosses = []
    for token, (a, b) in zip(decoded.tokens, decoded.frames):
        glosses.append((vocab.glosses[int(token) - 1], seconds(int(a)), seconds(int(b))))
    return Prediction(lang, [], glosses, len(sample.xyz))
