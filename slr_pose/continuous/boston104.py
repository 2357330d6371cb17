"""RWTH-BOSTON-104: real continuous ASL sentences, as tracked hands and nose, into the pose store.

RWTH-BOSTON-104 (Dreuw et al. 2007) holds 201 ASL sentences by three
signers, with a standard split of 161 training and 40 test sentences and,
in the hand-position release (``boston104.handpositions``, as condensed by
Udacity's AIND-Recognizer), one tracked position per frame for the centre
of each hand and the nose tip, plus a hand-made span for every word. The
folder this module reads (``../shared/data/boston104``) holds:

* ``sentences.npz``: ``X`` ``(201, 162, 6)`` float32 pixels, NaN after
  ``lengths`` frames, columns ``left-x left-y right-x right-y nose-x
  nose-y``; ``video_id``, ``signer`` (index into ``spec.json`` signers),
  ``gloss`` (space-separated), ``split`` (``train`` / ``test``);
* ``sentence_word_spans.json``: video id -> ``[class, start, end]`` per word,
  frames 0-based and inclusive;
* ``words.npz``: the 888 word segments cut by those spans (``y``,
  ``signer``, ``video_id``, ``startframe``, ``endframe``, ``split``);
* ``spec.json``: ``classes`` (113 glosses), ``signers``, ``columns``.

**Landmarks.** The tracker gives points, not skeletons, and no MediaPipe
landmarks exist for this data. The three points are stored in the holistic
layout as the nearest MediaPipe pose landmarks: the nose as ``pose/NOSE``
and the centre of the signer's left / right hand as ``pose/LEFT_WRIST`` /
``pose/RIGHT_WRIST`` (a hand's centre lies a few centimetres past the
wrist: close, not the same point). "Left" is the signer's own left, as in
MediaPipe (the data's left hand has the larger image x). Every other
landmark and both hand groups are missing in every frame; z is 0;
confidence is 1 for the tracked points.

**Geometry.** x right, y down, in pixels of frames whose size the hand-position
data does not record. RWTH's page for the database
(www-i6.informatik.rwth-aachen.de/~dreuw/database-rwth-boston-104.php)
states that the published videos are 312x242 pixels at 30 frames per
second and that RWTH uses them at that rate, cropping a 195x165 part; but
the tracked values reach x 290 and y 251, outside both frames, so their
frame is not known. Frame size is therefore stored as unknown (0 x 0,
aspect 1), and x and y are both divided by one constant,
:data:`PIXEL_SCALE` = 312 px (the published width; every tracked value
lies below it), which keeps distances isotropic, as an aspect of 1 needs.
The frame rate is stored as :data:`FPS` = 30, the database's rate as stated
there (the 15,746 tracked frames are the database's "15k frames"), so
``time`` is ``frame / 30`` s.

**Samples** (language ``ase``, signer ``man-1`` / ``woman-1`` / ``woman-2``,
split ``train`` / ``test`` as in the data):

* :func:`sentence_candidates`: one per sentence, id ``001``..``201`` (the
  zero-padded video id), its gloss sequence and ``gloss_spans``: each word's
  span as ``start:end+1``. Neighbouring annotated spans touch or overlap by
  up to three frames; a shared frame run is split at its middle (the later
  word gets the odd frame), so stored spans never overlap. The spans as
  annotated are kept in ``meta["annotated_spans"]`` (same format).
* :func:`word_candidates`: one per word, id ``<sentence>/<k>`` (``k``: the
  word's place in its sentence), label = its gloss, the sentence's frames of
  the word with ``context`` more frames either side (clipped to the
  sentence), ``sign_start`` / ``sign_end`` its first and last frame as
  annotated. ``context=0`` gives exactly the 888 segments of ``words.npz``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from slr_pose.continuous.gloss_spans import format_spans
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.importers.arrays import NUMPY_FAILURES
from slr_pose.keypoints.importers.core import (
    Candidate,
    assemble,
    member_sha256,
    provenance,
    source_index,
)
from slr_pose.keypoints.inputs import file_sha256
from slr_pose.keypoints.layout import Layout, face_detail
from slr_pose.keypoints.store import Sample, SampleInfo

#: The data's columns, in order, and the landmark each point is stored as.
COLUMNS = ("left-x", "left-y", "right-x", "right-y", "nose-x", "nose-y")
LANDMARKS = ("pose/LEFT_WRIST", "pose/RIGHT_WRIST", "pose/NOSE")
#: Pixels per stored unit of x and of y (see the module docs: the frame size is unknown).
PIXEL_SCALE = 312.0
#: Frames per second of RWTH-BOSTON-104.
FPS = 30.0
LANGUAGE = "ase"
FILES = ("sentences.npz", "sentence_word_spans.json", "spec.json")
WORDS = "words.npz"


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``xy`` ``(T, 3, 2)`` pixels (left hand, right hand, nose); ``words`` ``(gloss, start, end)``, inclusive."""

    video_id: int
    xy: np.ndarray
    signer: str
    split: str
    glosses: tuple[str, ...]
    words: tuple[tuple[str, int, int], ...]

    @property
    def id(self) -> str:
        return f"{self.video_id:03d}"


class Corpus:
    """The RWTH-BOSTON-104 folder, read and checked once; sentences in ``video_id`` order."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        lacking = [f for f in FILES if not (self.root / f).is_file()]
        if lacking:
            raise SlrPoseError(f"{self.root} lacks {', '.join(lacking)}: not an RWTH-BOSTON-104 folder ({', '.join(FILES)})")
        spec = _json(self.root / "spec.json")
        if tuple(spec.get("columns", ())) != COLUMNS:
            raise SlrPoseError(f"{self.root / 'spec.json'}: columns {spec.get('columns')!r}, expected {list(COLUMNS)}")
        self.classes: list[str] = [str(c) for c in spec.get("classes", [])]
        self.signers: list[str] = [str(s) for s in spec.get("signers", [])]
        self.sentences = self._sentences(_json(self.root / "sentence_word_spans.json"))

    def _sentences(self, spans: dict) -> list[Sentence]:
        path = self.root / "sentences.npz"
        z = _npz(path, ("X", "lengths", "video_id", "signer", "gloss", "split"))
        x, lengths = z["X"], z["lengths"]
        n = len(x)
        if x.ndim != 3 or x.shape[2] != len(COLUMNS) or any(len(z[k]) != n for k in z):
            raise SlrPoseError(
                f"{path}: expected X (N, T, {len(COLUMNS)}) and one lengths, video_id, signer, gloss, split per sentence"
            )
        out = []
        for i in range(n):
            vid, length = int(z["video_id"][i]), int(lengths[i])
            where = f"{path} sentence {vid}"
            if not 0 < length <= x.shape[1]:
                raise SlrPoseError(f"{where}: length {length} is not within 1..{x.shape[1]}")
            xy = x[i, :length].reshape(length, 3, 2).astype(np.float32)
            if not np.isfinite(xy).all():
                raise SlrPoseError(f"{where}: a tracked point is missing inside the sentence")
            s = int(z["signer"][i])
            if not 0 <= s < len(self.signers):
                raise SlrPoseError(f"{where}: signer {s} is not one of spec.json's {len(self.signers)}")
            glosses = tuple(str(z["gloss"][i]).split())
            words = tuple(self._word(where, length, w) for w in spans.get(str(vid), []))
            if tuple(w[0] for w in words) != glosses:
                spanned = " ".join(w[0] for w in words)
                raise SlrPoseError(f"{where}: the word spans give {spanned!r}, the glosses {' '.join(glosses)!r}")
            out.append(Sentence(vid, xy, self.signers[s], str(z["split"][i]), glosses, words))
        ids = [s.video_id for s in out]
        if len(set(ids)) != len(ids):
            raise SlrPoseError(f"{path}: a video id occurs twice")
        return sorted(out, key=lambda s: s.video_id)

    def _word(self, where: str, length: int, w) -> tuple[str, int, int]:
        try:
            c, a, b = (int(v) for v in w)
        except (TypeError, ValueError):
            raise SlrPoseError(f"{where}: word span {w!r} is not [class, start, end]") from None
        if not 0 <= c < len(self.classes):
            raise SlrPoseError(f"{where}: word class {c} is not one of spec.json's {len(self.classes)}")
        if not 0 <= a <= b < length:
            raise SlrPoseError(f"{where}: word span {a}..{b} is not within its {length} frames")
        return self.classes[c], a, b

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the files the sentences come from."""
        h = hashlib.sha256()
        for f in FILES:
            h.update(file_sha256(self.root / f).encode())
        return h.hexdigest()

    def by_video(self) -> dict[int, Sentence]:
        return {s.video_id: s for s in self.sentences}


def stored_spans(words) -> list[tuple[int, int]]:
    """``[start, end)`` spans from inclusive word spans, a shared run of frames split at its middle.

    Raises:
        SlrPoseError: spans out of order, or one nested so deep in its neighbour that it would vanish.
    """
    spans = [[a, b + 1] for _, a, b in words]
    for left, right in zip(spans, spans[1:]):
        if right[0] < left[0]:
            raise SlrPoseError(f"word spans {left} and {right} are out of order")
        if right[0] < left[1]:  # overlap: frames right[0] .. left[1]-1 belong to both
            cut = (right[0] + left[1]) // 2
            if not (left[0] < cut < right[1]):
                raise SlrPoseError(f"word spans {left} and {right} overlap too much to be split")
            left[1], right[0] = cut, cut
    return [(a, b) for a, b in spans]


def sentence_candidates(root: str | os.PathLike, layout: Layout, *, corpus: Corpus | None = None) -> list[Candidate]:
    """The 201 sentences as store samples, in video id order (see the module docs)."""
    corpus = corpus or Corpus(root)
    index = source_index(layout, LANDMARKS)
    out = []
    for s in corpus.sentences:
        sha = member_sha256(corpus.digest, f"sentence {s.video_id}")
        info = SampleInfo(
            id=s.id, fps=FPS, source=str(corpus.root / "sentences.npz"), sha256=sha, signer=s.signer,
            language=LANGUAGE, split=s.split, glosses=" ".join(s.glosses), gloss_spans=format_spans(stored_spans(s.words)),
            meta=json.dumps({"video_id": s.video_id, "annotated_spans": format_spans((a, b + 1) for _, a, b in s.words)},
                            sort_keys=True),
        )  # fmt: skip
        out.append(Candidate(s.id, lambda sha=sha: sha, _loader(s, info, layout, index, 0, len(s.xy))))
    return out


def word_candidates(
    root: str | os.PathLike, layout: Layout, *, context: int = 0, corpus: Corpus | None = None
) -> list[Candidate]:
    """The 888 words of ``words.npz`` as store samples, with ``context`` frames of their sentence either side.

    Raises:
        SlrPoseError: no ``words.npz``, a negative context, or a word that is no span of its sentence.
    """
    if context < 0:
        raise SlrPoseError(f"context {context} frames must be at least 0")
    corpus = corpus or Corpus(root)
    path = corpus.root / WORDS
    if not path.is_file():
        raise SlrPoseError(f"{corpus.root} lacks {WORDS}: no word segments to import")
    z = _npz(path, ("y", "signer", "video_id", "startframe", "endframe", "split"))
    sentences = corpus.by_video()
    digest = hashlib.sha256(f"{corpus.digest}\0{file_sha256(path)}\0{context}".encode()).hexdigest()
    index = source_index(layout, LANDMARKS)
    out = []
    for k in range(len(z["y"])):
        vid, a, b = int(z["video_id"][k]), int(z["startframe"][k]), int(z["endframe"][k])
        s = sentences.get(vid)
        gloss = corpus.classes[int(z["y"][k])] if 0 <= int(z["y"][k]) < len(corpus.classes) else None
        where = f"{path} word {k}"
        if s is None:
            raise SlrPoseError(f"{where}: sentence {vid} is not in sentences.npz")
        pos = next((p for p, w in enumerate(s.words) if w == (gloss, a, b)), None)
        if pos is None:
            raise SlrPoseError(f"{where}: {gloss} at frames {a}..{b} is no word span of sentence {vid}")
        signer = int(z["signer"][k])
        if str(z["split"][k]) != s.split or not 0 <= signer < len(corpus.signers) or corpus.signers[signer] != s.signer:
            raise SlrPoseError(f"{where}: its split or signer differs from sentence {vid}'s")
        lo, hi = max(0, a - context), min(len(s.xy), b + 1 + context)
        sid = f"{s.id}/{pos}"
        sha = member_sha256(digest, sid)
        info = SampleInfo(
            id=sid, fps=FPS, source=str(path), sha256=sha, label=gloss, signer=s.signer, language=LANGUAGE,
            split=s.split, sign_start=a - lo, sign_end=b - lo,
            meta=json.dumps({"video_id": vid, "sentence": s.id, "position": pos, "start": a, "end": b, "index": k},
                            sort_keys=True),
        )  # fmt: skip
        out.append(Candidate(sid, lambda sha=sha: sha, _loader(s, info, layout, index, lo, hi)))
    return out


def _loader(s: Sentence, info: SampleInfo, layout: Layout, index, lo: int, hi: int):
    def load() -> Sample:
        xy = s.xy[lo:hi] / PIXEL_SCALE  # (T, 3, 2) in units of PIXEL_SCALE
        xyz = np.concatenate([xy, np.zeros((len(xy), 3, 1), np.float32)], axis=-1)  # (T, 3, 3), z = 0
        return assemble(info, layout, index, xyz, None, np.arange(lo, hi))

    return load


def boston_provenance(layout: Layout, kind: str, context: int = 0) -> dict:
    """How RWTH-BOSTON-104 was read into ``layout``; ``kind`` is ``sentences`` or ``words``."""
    settings = {"face": face_detail(layout), "kind": kind, "landmarks": dict(zip(("left", "right", "nose"), LANDMARKS)),
                "pixel_scale": PIXEL_SCALE, "fps": FPS}  # fmt: skip
    if kind == "words":
        settings["context"] = context
    return provenance("boston104", settings, {"numpy": np.__version__})


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SlrPoseError(f"cannot read {path} ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise SlrPoseError(f"{path} holds a {type(data).__name__}, not an object")
    return data


def _npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            lacking = [k for k in keys if k not in z.files]
            if lacking:
                raise SlrPoseError(f"{path} lacks {', '.join(lacking)}")
            return {k: z[k] for k in keys}
    except NUMPY_FAILURES as e:
        raise SlrPoseError(f"{path} is not readable ({type(e).__name__}: {e})") from None
