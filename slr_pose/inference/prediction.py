"""Predicting signs for one video (extracted on the fly) or one stored sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from slr_pose.decoding import StreamingDecoder, Vocabulary
from slr_pose.errors import SlrPoseError
from slr_pose.inference.runs import LoadedRun, load_run
from slr_pose.keypoints.extraction import ExtractOptions, read_or_extract
from slr_pose.keypoints.store import Sample
from slr_pose.rgb.cache import FrameCache
from slr_pose.rgb.cache_build import CropSettings, crop_video
from slr_pose.rgb.clips import ClipSampling, sign_range, to_model_input
from slr_pose.rgb.crop import DEFAULT_MARGIN
from slr_pose.training.config import default_frames_path
from slr_pose.training.cslr_decoding import (
    DecoderSettings,
    check_window,
    known_fps,
    run_lms,
    step_seconds,
    windowed_log_probs,
)
from slr_pose.training.labels import LabelSpace
from slr_pose.training.rgb import VideoClip


def extraction_options(run: LoadedRun) -> ExtractOptions:
    """Extract new videos the way the run's training videos were extracted (see :meth:`ExtractOptions.like`)."""
    return ExtractOptions.like(run.meta.get("extractors", []), run.meta["landmarks"])


def load_input(run: LoadedRun, source: str | Path, sample_id: str | None = None) -> Sample:
    """A stored sample (``source`` a store and ``sample_id``) or a video extracted now as the run's were."""
    return read_or_extract(source, sample_id, lambda: extraction_options(run))


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


#: Continuous signing: model input frames run at once, and frames of context either side.
DEFAULT_WINDOW, DEFAULT_LOOKAHEAD = 512, 64


def predict(run_dir: str | Path, source: str | Path, *, sample_id: str | None = None, language: str = "",
            top_k: int = 5, beam_width: int | None = None, lm_weight: float | None = None,
            insertion_bonus: float | None = None, window: int | None = None, lookahead: int | None = None) -> Prediction:
    """Run a trained model on one video or stored sample.

    Continuous signing is decoded with the run's decoder settings (each
    ``None`` keeps the run's value), window by window: the model sees at
    most ``window`` input frames at a time, ``lookahead`` of them context
    on either side, and a streaming beam search commits glosses once
    ``lookahead`` frames of future have been seen (see
    :func:`slr_pose.training.cslr_decoding.windowed_log_probs`). ``None``
    window and lookahead mean :data:`DEFAULT_WINDOW` and :data:`DEFAULT_LOOKAHEAD`.

    Raises:
        SlrPoseError: a continuous-signing option given for an isolated-sign run, among others.
    """
    run = load_run(run_dir)
    if run.task == "islr":
        given = {"--window": window, "--lookahead": lookahead, "--beam": beam_width, "--lm-weight": lm_weight,
                 "--insertion-bonus": insertion_bonus}
        named = [k for k, v in given.items() if v is not None]
        if named:
            raise SlrPoseError(f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} for continuous-signing runs; "
                               f"{run_dir} recognises isolated signs")
    lang = _language(run, language)
    sample = load_input(run, source, sample_id)
    if run.modality == "rgb":
        out = rgb_clip(run, source, sample, sample_id)
    else:
        out = run.preprocessor(sample.layout_or())(sample)
    x = torch.from_numpy(out.x)[None]
    mask = torch.from_numpy(np.asarray(out.frame_mask))[None]
    lang_id = torch.tensor([list(run.meta["labels"]).index(lang)])
    if run.task == "islr":
        labels = LabelSpace.from_json(run.meta["labels"])
        with torch.no_grad():
            logits = run.model(x, lang_id, mask).logits[0, : labels.sizes[lang]]
        probs = torch.softmax(logits, 0).numpy()
        order = np.argsort(-probs)[:top_k]
        return Prediction(lang, [(labels.classes[lang][i], float(probs[i])) for i in order], [], len(sample.xyz))
    settings = DecoderSettings.of_run(run_dir).override(beam_width, lm_weight, insertion_bonus)
    return _decode_continuous(run, Path(run_dir), lang, (x, mask, lang_id), out, sample, settings,
                              DEFAULT_WINDOW if window is None else window, DEFAULT_LOOKAHEAD if lookahead is None else lookahead)


def rgb_clip(run: LoadedRun, source: str | Path, sample: Sample, sample_id: str | None) -> VideoClip:
    """The centred RGB clip of a stored sample (its store's frame cache) or of a video (cropped now)."""
    clip = run.config.data.clip
    start, stop = sign_range(sample.info)
    idx = ClipSampling(clip.frames, clip.stride).indices(sample.info.length, start=start, stop=stop)
    if sample_id:
        cache = FrameCache(default_frames_path(str(source)))
        frames = cache.clip(sample_id, idx)
    else:
        crop = (run.meta.get("frames") or [{}])[0].get("crop", {})
        settings = CropSettings(side=int(crop.get("side", clip.side)), margin=float(crop.get("margin", DEFAULT_MARGIN)))
        options = extraction_options(run)
        crops, _, _ = crop_video(sample, Path(source), settings, {"fps": options.fps, "max_side": options.max_side})
        frames = crops[idx]
    x = to_model_input(frames, clip.side)
    return VideoClip(x, np.ones(len(idx), bool), idx.astype(np.float32))


def _decode_continuous(run, run_dir: Path, lang: str, inputs, out, sample: Sample, settings, window: int,
                       lookahead: int) -> Prediction:

    vocab = Vocabulary(run.meta["labels"][lang])
    lm = run_lms(run_dir, {lang: vocab}).get(lang)
    stride = run.model.total_stride
    check_window(window, lookahead, stride)
    decoder = StreamingDecoder(window=window // stride, lookahead=lookahead // stride, beam_width=settings.beam_width,
                               lm=lm, lm_weight=settings.lm_weight if lm else 0.0,
                               insertion_bonus=settings.insertion_bonus if lm else 0.0)
    for chunk in windowed_log_probs(run.model, *inputs, window, lookahead):
        decoder.push(chunk[:, : len(vocab)])
    decoder.flush()
    decoded = decoder.result()
    times = sample.time.astype(np.float64)
    if not np.isfinite(times).all():
        times = np.arange(len(sample.xyz)) / known_fps(sample.info.fps)
    real = np.asarray(out.source_index)[np.asarray(out.frame_mask)]
    spans = step_seconds(decoded.frames.reshape(-1), stride, real, times).reshape(-1, 2)
    glosses = [(vocab.glosses[int(t) - 1], float(a), float(b)) for t, (a, b) in zip(decoded.tokens, spans)]
    return Prediction(lang, [], glosses, len(sample.xyz))
