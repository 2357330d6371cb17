"""Decoding a continuous-signing run: its decoder settings, posteriors, tuning, long inputs.

A CTC run decodes with beam search and, where the run has one, its gloss
LM (``RUN/lm_<language>.arpa``), under three settings kept in
``RUN/decoding.json``: beam width, LM weight and insertion bonus. At the end
of training the last two are picked on the validation split from a small
grid (:func:`tune`); a run without validation samples keeps
:class:`DecoderSettings`'s defaults and says so (``chosen_on`` is empty).

Long inputs (a lesson, a broadcast) are not run through the model at once:
:func:`windowed_log_probs` runs it over overlapping windows of input frames
and yields the posteriors of consecutive output steps, which a
:class:`~slr_pose.decoding.streaming.StreamingDecoder` decodes as they come,
so memory and time stay proportional to the window, not the input.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from slr_pose.decoding import NGramLM, beam_search, greedy_decode, wer
from slr_pose.decoding.lm_tables import BoundLM
from slr_pose.errors import SlrPoseError
from slr_pose.outputs import write_text
from slr_pose.training.data import SampleSet

DECODING_FILE = "decoding.json"
#: Frame rate assumed for stored frames without times (PHOENIX's 25 fps).
FALLBACK_FPS = 25.0


def known_fps(fps: float) -> float:
    """``fps`` where it is a usable frame rate, else :data:`FALLBACK_FPS`."""
    return float(fps) if math.isfinite(fps) and fps > 0 else FALLBACK_FPS

def _number(x) -> bool:
    """A finite number, not a bool (nor a JSON integer too large for a float)."""
    try:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
    except OverflowError:
        return False


#: The grid :func:`tune` searches (LM weight x insertion bonus); (0, 0) is plain beam search.
LM_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
INSERTION_BONUSES = (0.0, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class DecoderSettings:
    """How a run's posteriors are decoded.

    The defaults are what a run without a validation split uses: a point in
    the middle of the grid :func:`tune` searches, where the LM counts half as
    much as the acoustic evidence; a run with one stores what :func:`tune`
    picked.
    """

    beam_width: int = 10
    lm_weight: float = 0.5
    insertion_bonus: float = 0.5
    chosen_on: str = ""  # what picked lm_weight and insertion_bonus; "" for the defaults

    def __post_init__(self) -> None:
        if isinstance(self.beam_width, bool) or not isinstance(self.beam_width, int) or self.beam_width < 1:
            raise SlrPoseError(f"beam width must be a positive integer, got {self.beam_width!r}")
        if not (_number(self.lm_weight) and self.lm_weight >= 0):
            raise SlrPoseError(f"LM weight must be a number >= 0, got {self.lm_weight!r}")
        if not _number(self.insertion_bonus):
            raise SlrPoseError(f"insertion bonus must be a finite number, got {self.insertion_bonus!r}")
        if not isinstance(self.chosen_on, str):
            raise SlrPoseError(f"chosen_on must be text, got {self.chosen_on!r}")

    def override(self, beam_width: int | None = None, lm_weight: float | None = None,
                 insertion_bonus: float | None = None) -> "DecoderSettings":
        """These settings with the values given (None keeps a value)."""
        given = {"beam_width": beam_width, "lm_weight": lm_weight, "insertion_bonus": insertion_bonus}
        given = {k: v for k, v in given.items() if v is not None and v != getattr(self, k)}
        return dataclasses.replace(self, **given, chosen_on="given") if given else self

    @classmethod
    def of_run(cls, run_dir: str | Path) -> "DecoderSettings":
        """The run's stored settings; the defaults when it has none."""
        path = Path(run_dir) / DECODING_FILE
        if not path.exists():
            return cls()
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise SlrPoseError(f"{path} is not readable decoder settings ({type(e).__name__}: {e})") from None
        if not isinstance(stored, dict):
            raise SlrPoseError(f"{path} is not decoder settings: it holds no JSON object")
        try:
            return cls(**{f.name: stored[f.name] for f in dataclasses.fields(cls) if f.name in stored})
        except SlrPoseError as e:
            raise SlrPoseError(f"{path}: {e}") from None

    def save(self, run_dir: str | Path, **extra) -> None:
        write_text(Path(run_dir) / DECODING_FILE, json.dumps({**dataclasses.asdict(self), **extra}, indent=1))


@dataclass
class Posterior:
    """One sample's CTC output: ``log_probs (T'', 1 + K)`` over blank and its language's glosses,
    and ``source_index (T,)``, the stored frame each real input frame was sampled at."""

    index: int  # position in the SampleSet
    language: str
    log_probs: np.ndarray
    source_index: np.ndarray


@torch.no_grad()
def posteriors(model, loader, vocab: dict) -> list[Posterior]:
    """Run ``model`` over a CSLR loader (``PoseDataset(task="cslr")``); one :class:`Posterior` per sample."""
    model.eval()
    device = next(model.parameters()).device
    languages = list(vocab)
    out = []
    for batch in loader:
        res = model(batch["x"].to(device), batch["language"].to(device), batch["frame_mask"].to(device))
        lp = res.log_probs.float().cpu().numpy()
        for n in range(len(lp)):
            lang = languages[int(batch["language"][n])]
            steps = lp[n, : int(res.out_lengths[n]), : 1 + len(vocab[lang].glosses)]
            source = batch["source_index"][n][batch["frame_mask"][n]].numpy()
            out.append(Posterior(int(batch["index"][n]), lang, steps, source))
    return out


def decode(log_probs: np.ndarray, beam_width: int, lm=None, lm_weight: float = 0.0, insertion_bonus: float = 0.0):
    """Greedy (``beam_width`` 0) or prefix beam search; the LM terms count only with an LM."""
    if beam_width == 0:
        return greedy_decode(log_probs)
    if lm is None:
        lm_weight = insertion_bonus = 0.0
    return beam_search(log_probs, beam_width=beam_width, lm=lm, lm_weight=lm_weight, insertion_bonus=insertion_bonus)[0]


def tune(posts: list[Posterior], refs: list[list[str]], vocab: dict, lms: dict, beam_width: int):
    """Pick LM weight and insertion bonus on ``posts`` (validation samples) by corpus WER.

    Ties go to the earlier grid point (lighter LM, smaller bonus), the
    settings closest to plain beam search. Returns ``(weight, bonus, rows)``
    with one ``{"lm_weight", "insertion_bonus", "wer"}`` row per grid point.
    """
    rows, best = [], None
    for w in LM_WEIGHTS:
        for b in INSERTION_BONUSES:
            hyps = [vocab[p.language].decode(decode(p.log_probs, beam_width, lms.get(p.language), w, b).tokens)
                    for p in posts]
            score = wer(refs, hyps).wer / 100
            rows.append({"lm_weight": w, "insertion_bonus": b, "wer": score})
            if best is None or score < best[2]:
                best = (w, b, score)
    return best[0], best[1], rows


def step_seconds(steps, stride: int, source_index: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Seconds of output steps: step -> its first input frame -> the stored frame sampled there -> its time.

    Args:
        steps: output step numbers (a step past the end means the end of the last frame).
        stride: input frames per output step.
        source_index: ``(T,)`` stored frame of each real input frame.
        times: ``(T_stored,)`` seconds of the stored frames.
    """
    frame = np.minimum(np.asarray(steps, dtype=np.int64) * stride, len(source_index) - 1)
    return np.interp(source_index[frame], np.arange(len(times)), times)


def check_window(window: int, lookahead: int, stride: int) -> None:
    """Windows need a step of lookahead and a step to keep: ``stride <= lookahead``, ``2 lookahead + stride <= window``."""
    if not isinstance(window, int) or not isinstance(lookahead, int) or not stride <= lookahead <= (window - stride) / 2:
        raise SlrPoseError(
            f"a window of {window} frames with lookahead {lookahead} does not fit this model: "
            f"need {stride} <= lookahead and 2 x lookahead + {stride} <= window ({stride} frames per output step)"
        )


@torch.no_grad()
def windowed_log_probs(model, x: torch.Tensor, frame_mask: torch.Tensor, language: torch.Tensor,
                       window: int, lookahead: int) -> Iterator[np.ndarray]:
    """Log-probabilities of one long input, in consecutive chunks of output steps.

    Each model call sees at most ``window`` input frames: the frames whose
    outputs it keeps, with ``lookahead`` frames of context on either side
    (none before the first window, none after the last). An input no longer
    than ``window`` is one call over all of it, the whole-sequence result.
    Frame counts are rounded down to whole output steps.

    Args:
        x: ``(1, C, T, V)``; frame_mask: ``(1, T)``, real frames first; language: ``(1,)``.

    Yields:
        ``(n, 1 + K_max)`` float32 arrays; together ``ceil(T_real / total_stride)`` steps.
    """
    s = model.total_stride
    check_window(window, lookahead, s)
    t = int(frame_mask.sum())
    if t <= window:
        out = model(x[:, :, :t], language, frame_mask[:, :t])
        yield out.log_probs[0, : int(out.out_lengths[0])].float().numpy()
        return
    context = lookahead // s * s
    hop = (window - 2 * context) // s * s
    for start in range(0, t, hop):
        a, b = max(0, start - context), min(t, start + hop + context)
        out = model(x[:, :, a:b], language, frame_mask[:, a:b])
        first = (start - a) // s
        keep = -(-min(hop, t - start) // s)  # ceil: the last window may end inside a step
        yield out.log_probs[0, first : first + keep].float().numpy()


#: Decoders reported by evaluation: name -> (label, beam search, with the LM)
DECODERS = {"greedy": ("greedy", False, False), "beam": ("beam", True, False), "beam_lm": ("beam + LM", True, True)}


def wer_summary(vocab: dict, posts: list[Posterior], decoded: list, samples: SampleSet) -> dict:
    refs = [samples.glosses[p.index] for p in posts]
    r = wer(refs, [vocab[p.language].decode(d.tokens) for p, d in zip(posts, decoded)])
    return {"wer": r.wer / 100, "sub": r.sub, "del": r.dele, "ins": r.ins, "ref_words": r.n_ref,
            "samples": len(refs), "neg_wer": -r.wer / 100}


def decode_loader(model, loader, vocab: dict, *, decoders=DECODERS, lms=None,
                  settings: DecoderSettings = DecoderSettings()) -> tuple[dict, list[Posterior]]:
    """Decode every sample of a loader: ``({decoder: [Decoded]}, posteriors)``.

    A decoder that needs an LM is left out when a sample's language has none.
    """
    posts = posteriors(model, loader, vocab)
    lms = lms or {}
    out = {}
    for name, (_, beam, use_lm) in decoders.items():
        if use_lm and not all(p.language in lms for p in posts):
            continue
        out[name] = [decode(p.log_probs, settings.beam_width if beam else 0, lms.get(p.language) if use_lm else None,
                            settings.lm_weight, settings.insertion_bonus) for p in posts]
    return out, posts


def run_lms(run_dir: Path, vocab: dict, lm: str | Path | None = None) -> dict:
    """The run's gloss LM of each language (``lm``: one ARPA file for all instead), bound to its vocabulary."""
    if lm is not None and not Path(lm).is_file():
        raise SlrPoseError(f"no language model file at {lm}")
    paths = {lang: Path(lm) if lm else Path(run_dir) / f"lm_{lang}.arpa" for lang in vocab}
    return {lang: BoundLM(NGramLM.load(p), vocab[lang]) for lang, p in paths.items() if p.exists()}
