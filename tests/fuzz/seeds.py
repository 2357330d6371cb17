"""The valid files the fuzz targets start from: real data, cut small so that a mutant reads fast.

Each seed is made once per process and cached. Seeds from ``../shared/data``
raise :class:`MissingData` where it is absent; the tests skip those targets.
"""

from __future__ import annotations

import atexit
import csv
import dataclasses
import gzip
import io
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from tests.conftest import BUNDLED, MSL_KEYPOINTS, SHARED

PHOENIX = SHARED / "phoenix_annotations"
KAGGLE = SHARED / "gislr_asl_signs" / "parquet"
#: Two of the smallest real asl-signs sequences.
KAGGLE_FILES = ("train_landmark_files/37779/1067631606.parquet", "train_landmark_files/30680/1005102931.parquet")
DEMO_CONFIG = BUNDLED.parent / "configs" / "demo_msl150.yaml"


class MissingData(Exception):
    """A seed needs the shared real data, which is not on this machine."""


def shared(path: Path) -> Path:
    if not path.exists():
        raise MissingData(f"real data not found at {path}")
    return path


@cache
def workdir() -> Path:
    """One folder for the seeds of this process, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="slr-fuzz-seeds-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _head(path: Path, lines: int) -> list[str]:
    with open(shared(path), encoding="utf-8") as fh:
        return [next(fh).rstrip("\n") for _ in range(lines)]


def _text(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


# --------------------------------------------------------------------------- landmark arrays


@cache
def msl_arrays() -> dict[str, np.ndarray]:
    """Three real MSL-150 sequences of three signs, 10 frames each, as the bundled ``.npz`` holds them."""
    with np.load(MSL_KEYPOINTS) as z:
        pick = [0, 40, 80]
        return {"keypoints": z["keypoints"][pick, :10], "label": z["label"][pick], "sample_id": z["sample_id"][pick]}


@cache
def npy_file() -> bytes:
    buf = io.BytesIO()
    np.save(buf, msl_arrays()["keypoints"][1])
    return buf.getvalue()


@cache
def npz_file() -> bytes:
    return npz_bytes(msl_arrays())


@cache
def parquet_file() -> bytes:
    return shared(KAGGLE / KAGGLE_FILES[0]).read_bytes()


@cache
def parquet_table():
    """The first three frames of a real sequence, every column, as a pyarrow table."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(shared(KAGGLE / KAGGLE_FILES[0]))
    first = pc.min(table.column("frame")).as_py()
    return table.filter(pc.less(table.column("frame"), first + 3))


@cache
def kaggle_index() -> bytes:
    with open(shared(KAGGLE / "train.csv"), newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["path"] in KAGGLE_FILES]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["path", "participant_id", "sequence_id", "sign"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


@cache
def pose_file() -> bytes:
    """A pose-format file with pose-format's MediaPipe Holistic header, holding three real MSL-150 frames."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
    from pose_format.utils.holistic import holistic_components

    frames = msl_arrays()["keypoints"][0, 2:5].astype(np.float32)  # (3, 226): pose 25 x xyzv, hands 2 x 21 x xyz
    t, w, h = len(frames), 640, 480
    data = np.zeros((t, 1, 576, 3), np.float32)  # pose 33, face 468, left hand 21, right hand 21, world pose 33
    conf = np.zeros((t, 1, 576), np.float32)
    pose = frames[:, :100].reshape(t, 25, 4)
    data[:, 0, :25], conf[:, 0, :25] = pose[..., :3], pose[..., 3]
    hands = frames[:, 100:].reshape(t, 42, 3)
    data[:, 0, 501:543], conf[:, 0, 501:543] = hands, hands.any(-1)
    data[..., 0] *= w
    data[..., 1] *= h
    header = PoseHeader(0.1, PoseHeaderDimensions(w, h, 0), holistic_components())
    buf = io.BytesIO()
    Pose(header, NumPyPoseBody(25.0, data, conf)).write(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- decoding files


@cache
def phoenix_train() -> list[list[str]]:
    """Gloss sequences of the first 15 PHOENIX-2014 training sentences."""
    with open(shared(PHOENIX / "phoenix2014" / "train.csv"), newline="", encoding="utf-8") as fh:
        return [row["gloss"].split() for _, row in zip(range(15), csv.DictReader(fh))]


@cache
def arpa_file() -> bytes:
    """A 3-gram model of real PHOENIX sentences, as :meth:`NGramLM.save` writes it."""
    from slr_pose.decoding.lm import NGramLM

    path = workdir() / "phoenix.arpa"
    NGramLM.train(phoenix_train(), order=3).save(path)
    return path.read_bytes()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@cache
def stm_file() -> bytes:
    return _text(_head(PHOENIX / "phoenix2014" / "phoenix2014-groundtruth-dev.stm", 12))


@cache
def ctm_file() -> bytes:
    """The glosses of the STM seed as a hypothesis, spread over 25 fps frames."""
    from slr_pose.decoding.stm import ctm_words, read_stm, write_ctm

    (workdir() / "dev.stm").write_bytes(stm_file())
    words = []
    for seg in read_stm(workdir() / "dev.stm"):
        n = len(seg.glosses)
        frames = np.stack([np.arange(n) * 4, np.arange(n) * 4 + 3], axis=1)
        words += ctm_words(seg.id, seg.glosses, frames, 25.0, confidences=np.linspace(0.5, 1.0, n))
    write_ctm(workdir() / "dev.ctm", words)
    return (workdir() / "dev.ctm").read_bytes()


@cache
def corpus_files() -> dict[str, bytes]:
    """PHOENIX annotation heads in each shipped layout, by the file name that tells the split."""
    p14 = _head(PHOENIX / "phoenix2014" / "train.csv", 10)
    p14t = _head(PHOENIX / "phoenix2014T" / "train.csv", 6)
    rows = list(csv.DictReader(p14))
    rows_t = list(csv.DictReader(p14t))
    corpus = ["id|folder|signer|annotation"] + [f"{r['fileid']}|{r['fileid']}/1/*.png|{r['signer']}|{r['gloss']}" for r in rows]
    corpus_t = ["name|video|start|end|speaker|orth|translation"] + [
        f"{r['fileid']}|{r['fileid']}/1/*.png|-1|-1|{r['signer']}|{r['gloss']}|{r['translation_de']}" for r in rows_t
    ]
    return {
        "train.csv": _text(p14),
        "dev.csv": _text(p14t),
        "test.corpus.csv": _text(corpus),
        "PHOENIX-2014-T.train.corpus.csv": _text(corpus_t),
    }


@cache
def timed_tables() -> dict[str, bytes]:
    """Timed glosses and transcript lines of real sentences (times: each sentence's frames at 25 fps, shared
    evenly among its glosses), as ``segment`` reads them."""
    lines = _head(PHOENIX / "phoenix2014T" / "train.csv", 5)
    glosses, texts = ["video,start,end,gloss"], ["video,start,end,text"]
    clock = 0.0
    for r in csv.DictReader(lines):
        words, length = r["gloss"].split(), int(r["num_frames"]) / 25
        for i, g in enumerate(words):
            glosses.append(f"lesson,{clock + i * length / len(words):.2f},{clock + (i + 1) * length / len(words):.2f},{g}")
        texts.append(f'lesson,{clock:.2f},{clock + length:.2f},"{r["translation_de"]}"')
        clock += length
    return {"gloss": _text(glosses), "text": _text(texts)}


@cache
def gloss_vocab() -> bytes:
    return _text(_head(PHOENIX / "phoenix2014" / "gloss_vocab.tsv", 15))


@cache
def vocabulary_json() -> bytes:
    from slr_pose.decoding.vocab import Vocabulary

    path = workdir() / "vocab.json"
    Vocabulary.from_sequences(phoenix_train()[:3]).save(path)
    return path.read_bytes()


# --------------------------------------------------------------------------- training files


@cache
def manifest() -> bytes:
    return (BUNDLED / "msl150" / "videos.csv").read_bytes()


@cache
def config_file() -> bytes:
    return DEMO_CONFIG.read_bytes()


@cache
def run_dir() -> Path:
    """A real run: one epoch of the smallest encoder on the bundled MSL-150 keypoints."""
    import torch

    from slr_pose.keypoints.importers import import_samples
    from slr_pose.keypoints.importers.arrays import ArrayOptions, ColumnSpec, array_candidates, array_provenance
    from slr_pose.keypoints.layout import holistic_layout
    from slr_pose.training.config import config_from_dict
    from slr_pose.training.trainer import train

    store = workdir() / "msl.h5"
    layout, spec, options = holistic_layout("contour"), ColumnSpec.parse("msl150"), ArrayOptions(trim=True)
    cands = array_candidates([MSL_KEYPOINTS], spec, layout, options=options, language="mfs")
    import_samples(store, layout, array_provenance(spec, layout, ArrayOptions(trim=True)), cands)
    config = config_from_dict({
        "data": {"stores": [{"path": str(store)}], "preprocess": {"subset": "hands", "length": 8, "streams": ["joint"]},
                 "split": {"mode": "random", "seed": 0}},
        "model": {"name": "ctrgcn_tiny"},
        "train": {"epochs": 1, "batch_size": 64, "warmup_epochs": 0},
    })  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # beside other jobs on a small machine one thread is the fastest
    try:
        train(config, workdir() / "run", progress=False, log=lambda *a, **k: None)
    finally:
        torch.set_num_threads(threads)
    return workdir() / "run"


@cache
def checkpoint() -> bytes:
    return (run_dir() / "checkpoints" / "best.pt").read_bytes()


@cache
def checkpoint_state() -> dict:
    import torch

    return torch.load(io.BytesIO(checkpoint()), map_location="cpu", weights_only=False)


@cache
def decoding_json() -> bytes:
    from slr_pose.training.cslr_decoding import DecoderSettings

    stored = {**dataclasses.asdict(DecoderSettings(beam_width=8, lm_weight=1.0, insertion_bonus=2.0, chosen_on="val")),
              "val_wer": 0.31}  # fmt: skip
    return json.dumps(stored, indent=1).encode()


@cache
def grouping_table() -> bytes:
    """A VSSign table as ``vssign suggest`` writes it, over MSL-150 glosses."""
    from slr_pose.training.labels import Grouping

    table = {("mfs", "doctor"): "doctor|dolor", ("mfs", "dolor"): "doctor|dolor", ("", "yo"): "YO"}
    Grouping(table).save(workdir() / "groups.csv", scores={("mfs", "doctor"): 0.412, ("mfs", "dolor"): 0.412})
    return (workdir() / "groups.csv").read_bytes()


#: The classes of the scores seed.
SCORE_CLASSES = {"mfs": ["ambulancia", "doctor", "dolor", "hoy", "yo"], "ase": ["hello", "thankyou"]}


@cache
def scores_arrays() -> dict[str, np.ndarray]:
    """A scores file of another model for six samples of two languages (``fuse --scores``)."""
    rng = np.random.default_rng(0)
    return {
        "ids": np.array([f"s{i}" for i in range(6)]),
        "split": np.array(["val", "val", "val", "test", "test", "test"]),
        "language": np.array(["mfs", "ase", "mfs", "mfs", "ase", "ase"]),
        "scores": rng.normal(size=(6, 5)),
        "classes": np.array(json.dumps(SCORE_CLASSES)),
    }
