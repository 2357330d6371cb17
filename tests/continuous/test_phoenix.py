"""PHOENIX-2014 / 2014-T annotations (the real files): records, corpus format, manifest, attaching glosses."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from slr_pose.decoding.stm import read_stm
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.importers import Geometry, import_samples, provenance
from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
from slr_pose.continuous.phoenix import (
    MANIFEST_FIELDS, PhoenixRecord, attach_records, find_annotation_files, load_corpus, match_record,
    read_annotations, read_gloss_vocab, split_of, write_manifest,
)
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore, StoreWriter

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
MSL_KEYPOINTS = REPO / "data" / "msl150" / "keypoints_sample.npz"
COUNTS = {"phoenix2014": (5671, 540, 629), "phoenix2014T": (7096, 519, 642)}
SIGNERS = {f"Signer{i:02d}" for i in range(1, 10)}


@pytest.fixture(scope="module", params=["phoenix2014", "phoenix2014T"])
def corpus(request, phoenix_dir) -> tuple[str, Path, list[PhoenixRecord]]:
    folder = phoenix_dir / request.param
    return request.param, folder, load_corpus(folder)


def csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- reading the real files


def test_sentence_counts_signers_and_frames(corpus):
    name, folder, records = corpus
    by_split = Counter(r.split for r in records)
    assert (by_split["train"], by_split["dev"], by_split["test"]) == COUNTS[name]
    for split in ("train", "dev", "test"):
        assert {r.signer for r in records if r.split == split} == SIGNERS
    rows = {r["fileid"]: r for s in ("train", "dev", "test") for r in csv_rows(folder / f"{s}.csv")}
    assert len(rows) == len(records)
    for r in records:
        assert r.frames == int(rows[r.id]["num_frames"]) and r.signer == rows[r.id]["signer"]
    assert {r.variant for r in records} == {"2014T" if name.endswith("T") else "2014"}


def test_glosses_equal_the_official_stm_references(corpus):
    name, folder, records = corpus
    for split in ("train", "dev", "test"):
        stm = {seg.id: seg for seg in read_stm(folder / f"{name}-groundtruth-{split}.stm")}
        mine = [r for r in records if r.split == split]
        assert {r.id for r in mine} == set(stm)
        for r in mine:
            assert r.glosses == stm[r.id].glosses and r.signer == stm[r.id].speaker


def test_first_records_exactly(phoenix_dir):
    r = load_corpus(phoenix_dir / "phoenix2014", ["train"])[0]
    assert r == PhoenixRecord(
        "01April_2010_Thursday_heute_default-0", "Signer04", "train",
        tuple("__ON__ LIEB ZUSCHAUER ABEND WINTER GESTERN loc-NORD SCHOTTLAND loc-REGION UEBERSCHWEMMUNG AMERIKA IX".split()),
        176, "", "01April_2010_Thursday_heute_default-0/1", "2014",
    )
    t = load_corpus(phoenix_dir / "phoenix2014T" / "dev.csv")[0]
    assert (t.id, t.split, t.frames, t.gloss_text, t.folder) == (
        "11August_2010_Wednesday_tagesschau-2", "dev", 42, "DRUCK TIEF KOMMEN", "11August_2010_Wednesday_tagesschau-2")
    assert t.transcript == "tiefer luftdruck bestimmt in den nächsten tagen unser wetter"


def test_gloss_vocab_counts_every_split(corpus):
    name, folder, records = corpus
    vocab = read_gloss_vocab(folder / "gloss_vocab.tsv")
    counts = Counter(g for r in records for g in r.glosses)
    assert len(vocab) == {"phoenix2014": 1295, "phoenix2014T": 1115}[name]
    assert vocab == dict(counts)  # the 'train_count' column counts train + dev + test


def test_original_corpus_format_reads_the_same(corpus, tmp_path):
    """The RWTH release's '|'-separated annotations/manual files, written from the real tables."""
    name, _, records = corpus
    manual = tmp_path / ("PHOENIX-2014-T" if name.endswith("T") else "phoenix-2014-multisigner") / "annotations" / "manual"
    manual.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        mine = [r for r in records if r.split == split]
        if name.endswith("T"):
            path = manual / f"PHOENIX-2014-T.{split}.corpus.csv"
            lines = ["name|video|start|end|speaker|orth|translation"]
            lines += [f"{r.id}|{r.id}/1/*.png|-1|-1|{r.signer}|{r.gloss_text}|{r.transcript}" for r in mine]
        else:
            path = manual / f"{split}.corpus.csv"
            lines = ["id|folder|signer|annotation"] + [f"{r.id}|{r.id}/1/*.png|{r.signer}|{r.gloss_text}" for r in mine]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert set(find_annotation_files(tmp_path)) == {"train", "dev", "test"}
    again = load_corpus(tmp_path)
    assert [replace(r, frames=-1) for r in records] == again  # the release files do not give frame counts


def test_split_from_file_names():
    assert split_of(Path("PHOENIX-2014-T.train-complex-annotation.corpus.csv")) == "train"
    assert split_of(Path("dev.corpus.csv")) == "dev" and split_of(Path("test.csv")) == "test"
    with pytest.raises(SlrPoseError, match="cannot tell the split"):
        split_of(Path("annotations.csv"))


# --------------------------------------------------------------------------- manifest


def test_manifest_for_extraction(phoenix_dir, tmp_path):
    records = load_corpus(phoenix_dir / "phoenix2014")
    out = tmp_path / "phoenix.csv"
    root = tmp_path / "corpus"
    assert write_manifest(records, out, root=root) == 6840
    rows = csv_rows(out)
    assert tuple(rows[0]) == MANIFEST_FIELDS
    assert Counter(r["split"] for r in rows) == {"train": 5671, "val": 540, "test": 629}
    first = rows[0]
    assert first["path"] == f"{root}/features/fullFrame-210x260px/train/01April_2010_Thursday_heute_default-0/1"
    assert first["glosses"].split() == list(records[0].glosses) and first["language"] == "gsg"
    assert first["signer"] == "Signer04" and first["transcript"] == ""


def test_manifest_of_videos_reads_back_through_the_extraction_inputs(phoenix_dir, tmp_path):
    inputs = pytest.importorskip("slr_pose.keypoints.inputs")
    records = load_corpus(phoenix_dir / "phoenix2014T", ["dev"])[:3]
    for r in records:  # a corpus converted to one video per sentence (the videos here are empty stand-ins)
        (tmp_path / "videos" / r.split).mkdir(parents=True, exist_ok=True)
        (tmp_path / "videos" / r.split / f"{r.id}.mp4").write_bytes(b"")
    out = tmp_path / "manifest.csv"
    write_manifest(records, out, pattern="videos/{split}/{id}.mp4")
    items, problems = inputs.read_manifest(out)
    assert problems == [] and [i.id for i in items] == [r.id for r in records]
    for item, r in zip(items, records):
        assert item.path == tmp_path / "videos" / "dev" / f"{r.id}.mp4"
        assert (item.glosses, item.transcript, item.signer, item.split, item.language) == (
            r.gloss_text, r.transcript, r.signer, "val", "gsg")


# --------------------------------------------------------------------------- attaching glosses to a store


@pytest.fixture(scope="module")
def landmarks(tmp_path_factory) -> Path:
    """Real MSL-150 landmarks standing in for extracted PHOENIX sentences (no PHOENIX keypoints exist here)."""
    path = tmp_path_factory.mktemp("msl") / "msl.h5"
    layout = holistic_layout("contour")
    spec = ColumnSpec.parse("msl150")
    import_samples(path, layout, provenance("numpy", {"spec": str(spec)}),
                   array_candidates([MSL_KEYPOINTS], spec, layout, geometry=Geometry(25.0)))
    return path


def test_attach_glosses_by_id_into_a_new_store(phoenix_dir, landmarks, tmp_path):
    records = load_corpus(phoenix_dir / "phoenix2014T")
    dev = [r for r in records if r.split == "dev"]
    src = PoseStore(landmarks)
    extracted = tmp_path / "extracted.h5"
    ids = [dev[0].id, f"dev/{dev[1].id}", dev[2].id, "not-a-sentence"]  # a folder-style id, and a stray sample
    with StoreWriter(extracted, src.layout, src.provenance) as w:
        for i, sid in enumerate(ids):
            s = src.read(i)
            w.add(replace(s, info=replace(s.info, id=sid, label="")))
    before = hashlib.sha256(extracted.read_bytes()).hexdigest()
    out = tmp_path / "labelled.h5"
    report = attach_records(extracted, records, out)
    assert hashlib.sha256(extracted.read_bytes()).hexdigest() == before
    assert report.attached == ids[:3] and report.unmatched == ["not-a-sentence"]
    assert len(report.absent) == len(records) - 3
    assert report.length_mismatch == ids[:3]  # 30 stored frames, not PHOENIX's counts
    store = PoseStore(out)
    assert store.ids == ids[:3]
    for i, r in enumerate(dev[:3]):
        info = store.info(i)
        assert (info.glosses, info.transcript, info.signer, info.split, info.language) == (
            r.gloss_text, r.transcript, r.signer, "val", "gsg")
        np.testing.assert_array_equal(store.read(i).xyz, src.read(i).xyz)
    assert store.provenance["derived"]["operation"] == "phoenix-glosses"
    assert store.provenance["extractor"] == src.provenance["extractor"]
    kept = attach_records(extracted, records, tmp_path / "all.h5", keep_unmatched=True)
    assert PoseStore(tmp_path / "all.h5").ids == ids and kept.unmatched == ["not-a-sentence"]
    with pytest.raises(SlrPoseError, match="already exists"):
        attach_records(extracted, records, out)
    with pytest.raises(SlrPoseError, match="no sample of .* has a PHOENIX sentence id"):
        attach_records(landmarks, records, tmp_path / "none.h5")
    assert not (tmp_path / "none.h5").exists()


def test_match_record():
    by_id = {"a-1": PhoenixRecord("a-1", "S", "train", ("X",)), "b-2": PhoenixRecord("b-2", "S", "dev", ("Y",))}
    assert match_record("a-1", by_id).id == "a-1"
    assert match_record("train/b-2/1", by_id).id == "b-2"
    assert match_record("a-1/b-2", by_id) is None  # ambiguous
    assert match_record("c-3", by_id) is None


# --------------------------------------------------------------------------- bad input


def test_bad_annotation_files_give_one_clear_line(phoenix_dir, tmp_path):
    bad = tmp_path / "train.csv"
    bad.write_text("video,words\nx,A B\n")
    with pytest.raises(SlrPoseError, match="is not a PHOENIX annotation file"):
        read_annotations(bad)
    bad.write_text("fileid,signer,num_frames,gloss\na,Signer01,12,A B\na,Signer01,10,C\n")
    with pytest.raises(SlrPoseError, match="line 3: sentence 'a' is listed twice"):
        read_annotations(bad)
    bad.write_text("fileid,signer,num_frames,gloss\na,Signer01,twelve,A B\n")
    with pytest.raises(SlrPoseError, match="num_frames 'twelve' is not a whole number"):
        read_annotations(bad)
    bad.write_text("fileid,signer,num_frames,gloss\na,Signer01,-12,A B\n")
    with pytest.raises(SlrPoseError, match="num_frames '-12' is not a whole number >= 0"):
        read_annotations(bad)
    vocab = tmp_path / "gloss_vocab.tsv"
    vocab.write_text("gloss\tindex\ttrain_count\nA\t1\n")  # int(None): a TypeError
    with pytest.raises(SlrPoseError, match="train_count None is not a whole number"):
        read_gloss_vocab(vocab)
    bad.write_text("fileid,signer,num_frames,gloss\na,Signer01,12,\n")
    with pytest.raises(SlrPoseError, match="line 2: a sentence needs an id and at least one gloss"):
        read_annotations(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SlrPoseError, match="no PHOENIX annotation files under"):
        load_corpus(tmp_path / "empty")
    with pytest.raises(SlrPoseError, match="split 'val' is not one of"):
        load_corpus(phoenix_dir / "phoenix2014", ["val"])
    with pytest.raises(SlrPoseError, match="path pattern"):
        write_manifest(load_corpus(phoenix_dir / "phoenix2014", ["dev"]), tmp_path / "m.csv", pattern="{nope}")
