"""RWTH-BOSTON-104 into the pose store: the real 201 sentences and 888 words from ../shared/data/boston104."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from slr_pose.cli import main
from slr_pose.continuous.boston104 import (
    PIXEL_SCALE,
    Corpus,
    boston_provenance,
    sentence_candidates,
    stored_spans,
    word_candidates,
)
from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.errors import SlrPoseError
from slr_pose.keypoints.importers import import_samples
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.keypoints.store import PoseStore

LAYOUT = holistic_layout("none")


@pytest.fixture(scope="module")
def boston(shared_data) -> Path:
    return shared_data / "boston104"


@pytest.fixture(scope="module")
def raw(boston):
    """The source arrays, read directly."""
    s, w = np.load(boston / "sentences.npz"), np.load(boston / "words.npz")
    spec = json.loads((boston / "spec.json").read_text())
    return {k: s[k] for k in s.files}, {k: w[k] for k in w.files}, spec


@pytest.fixture(scope="module")
def sentences(boston, tmp_path_factory) -> PoseStore:
    path = tmp_path_factory.mktemp("boston") / "sentences.h5"
    import_samples(path, LAYOUT, boston_provenance(LAYOUT, "sentences"), sentence_candidates(boston, LAYOUT))
    return PoseStore(path)


@pytest.fixture(scope="module")
def words(boston, tmp_path_factory) -> PoseStore:
    path = tmp_path_factory.mktemp("boston") / "words.h5"
    import_samples(path, LAYOUT, boston_provenance(LAYOUT, "words"), word_candidates(boston, LAYOUT))
    return PoseStore(path)


def _point(sample, name: str) -> np.ndarray:
    return sample.xyz[:, LAYOUT.index([name])[0]]


# --------------------------------------------------------------------------- sentences


@pytest.mark.realdata
def test_sentences_counts_signers_and_split(sentences):
    assert len(sentences) == 201
    assert sentences.ids == [f"{v:03d}" for v in range(1, 202)]
    assert Counter(sentences.column("split").tolist()) == {"train": 161, "test": 40}
    assert Counter(sentences.column("signer").tolist()) == {"man-1": 79, "woman-1": 62, "woman-2": 60}
    assert set(sentences.column("language").tolist()) == {"ase"}
    assert int(sentences.column("length").sum()) == 15746  # the database's "15k" tracked frames


@pytest.mark.realdata
def test_sentence_glosses_and_spans(sentences):
    one = sentences.info(sentences.index_of("001"))
    assert (one.glosses, one.gloss_spans, one.signer, one.split, one.length) == (
        "JOHN WRITE HOMEWORK", "8:18 22:51 51:78", "woman-1", "train", 90)
    # words annotated 9-24, 25-39, 37-50, 51-54: the three frames 37-39 shared by MARY and JOHN are split
    six = sentences.info(sentences.index_of("006"))
    assert six.glosses == "LOVE MARY JOHN IX" and six.gloss_spans == "9:25 25:38 38:51 51:55"
    assert json.loads(six.meta) == {"annotated_spans": "9:25 25:40 37:51 51:55", "video_id": 6}
    last = sentences.info(sentences.index_of("201"))  # 17-21 and 21-28 share frame 21: it goes to the later word
    assert last.glosses == "JOHN TELL MARY IX-1P BUY HOUSE" and last.split == "test"
    assert last.gloss_spans == "6:15 17:21 21:29 31:41 41:47 48:65"


@pytest.mark.realdata
def test_every_span_lies_in_its_sentence_and_none_overlap(sentences, boston):
    annotated = json.loads((boston / "sentence_word_spans.json").read_text())
    total = 0
    for info in sentences.infos():
        spans = parse_spans(info.gloss_spans, length=info.length, count=len(info.gloss_list))
        assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:])), info.id
        raw = annotated[str(int(info.id))]
        for (a, b), (_, a0, b0) in zip(spans, raw):  # each stored span stays within a frame or two of its annotation
            assert a0 <= a <= a0 + 2 and b0 - 1 <= b <= b0 + 1
        total += len(spans)
    assert total == 888


@pytest.mark.realdata
def test_sentence_landmarks_are_the_tracked_points(sentences, raw):
    s, _, spec = raw
    assert spec["columns"] == ["left-x", "left-y", "right-x", "right-y", "nose-x", "nose-y"]
    for i in (0, 5, 200):
        sample = sentences.read(sentences.index_of(f"{int(s['video_id'][i]):03d}"))
        t = int(s["lengths"][i])
        x = s["X"][i, :t]
        for name, cols in (("pose/LEFT_WRIST", [0, 1]), ("pose/RIGHT_WRIST", [2, 3]), ("pose/NOSE", [4, 5])):
            np.testing.assert_allclose(_point(sample, name)[:, :2], x[:, cols] / PIXEL_SCALE, rtol=1e-6)
            np.testing.assert_array_equal(_point(sample, name)[:, 2], 0.0)
        assert np.isfinite(sample.xyz).all(-1).sum(1).tolist() == [3] * t  # three points per frame, nothing else
        assert sample.missing.tolist() == [[False, True, True]] * t  # pose present; hand models never
        np.testing.assert_allclose(sample.time, np.arange(t) / 30.0, rtol=1e-6)
        info = sample.info
        assert (info.fps, info.width, info.height, info.aspect) == (30.0, 0, 0, 1.0)
        # the signer's left hand is on the image's right
        assert np.median(_point(sample, "pose/LEFT_WRIST")[:, 0]) > np.median(_point(sample, "pose/RIGHT_WRIST")[:, 0])


@pytest.mark.realdata
def test_boston_sentences_go_through_the_preprocessor(sentences):
    """The three points are the only populated nodes of the default subset; the body frame falls back to the image."""
    from slr_pose.graphs.normalisation import Preprocessor
    from slr_pose.graphs.normalisation.body_frame import body_frame

    sample = sentences.read(0)
    pre = Preprocessor(sentences.layout, subset="upper_body_hands", length=64, streams=("joint", "joint_motion"), dims=2)
    out = pre(sample)
    assert out.x.shape == (4, 64, 57) and np.isfinite(out.x).all()
    assert np.flatnonzero(out.landmark_mask.any(0)).tolist() == [0, 11, 12]  # NOSE, LEFT_WRIST, RIGHT_WRIST
    assert body_frame(sample)[2] == "image"


# --------------------------------------------------------------------------- words


@pytest.mark.realdata
def test_words_are_the_888_segments(words, raw, sentences):
    _, w, spec = raw
    assert len(words) == 888
    assert Counter(words.column("split").tolist()) == {"train": 710, "test": 178}
    assert len(set(words.column("label").tolist())) == 113
    by_index = {json.loads(info.meta)["index"]: info.id for info in words.infos()}
    assert sorted(by_index) == list(range(888))
    for k in (0, 1, 2, 500, 887):
        mine = words.read(words.index_of(by_index[k]))
        sid = f"{int(w['video_id'][k]):03d}"
        t = int(w["lengths"][k])
        assert mine.info.id.startswith(sid + "/")
        assert mine.info.label == spec["classes"][int(w["y"][k])]
        assert (mine.info.sign_start, mine.info.sign_end, mine.info.length) == (0, t - 1, t)
        np.testing.assert_allclose(_point(mine, "pose/NOSE")[:, :2], w["X"][k, :t, 4:6] / PIXEL_SCALE, rtol=1e-6)
        np.testing.assert_allclose(_point(mine, "pose/RIGHT_WRIST")[:, :2], w["X"][k, :t, 2:4] / PIXEL_SCALE, rtol=1e-6)
        np.testing.assert_allclose(mine.time, (int(w["startframe"][k]) + np.arange(t)) / 30.0, rtol=1e-6)
        sentence = sentences.info(sentences.index_of(sid))
        assert (mine.info.split, mine.info.signer) == (sentence.split, sentence.signer)
    first = words.info(words.index_of("001/1"))
    assert (first.label, first.signer, first.split) == ("WRITE", "woman-1", "train")


@pytest.mark.realdata
def test_words_with_context_mark_the_sign(boston, sentences):
    cands = {c.id: c for c in word_candidates(boston, LAYOUT, context=8)}
    write = cands["001/1"].load()  # WRITE, annotated 22..50 of a 90-frame sentence
    assert (write.info.sign_start, write.info.sign_end, write.info.length) == (8, 36, 45)
    john = cands["001/0"].load()  # JOHN, annotated 8..17: only 8 frames before it exist
    assert (john.info.sign_start, john.info.sign_end, john.info.length) == (8, 17, 26)
    sentence = sentences.read(sentences.index_of("001"))
    np.testing.assert_array_equal(write.xyz, sentence.xyz[14:59])


@pytest.mark.realdata
def test_import_resumes_and_the_cli_reports(boston, tmp_path):
    out = tmp_path / "b.h5"
    run = lambda *a: CliRunner().invoke(main.cli, [str(x) for x in a])  # noqa: E731
    r = run("boston104", "import", boston, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.output == f"added 201, skipped 0 already stored, 0 conflicts; {out} holds 201 samples\n"
    r = run("boston104", "import", boston, "-o", out)
    assert r.output == f"added 0, skipped 201 already stored, 0 conflicts; {out} holds 201 samples\n"
    r = run("boston104", "import", boston, "--words", "-o", out)  # words are another import: not into this store
    assert r.exit_code == 1 and "write to a new store" in r.output and len(r.output.splitlines()) == 1
    r = run("boston104", "import", boston, "--context", 4, "-o", tmp_path / "c.h5")
    assert r.exit_code == 1 and r.output == "Error: --context applies to --words\n"


# --------------------------------------------------------------------------- spans and bad input


def test_stored_spans_split_shared_frames():
    assert stored_spans([("A", 0, 9), ("B", 10, 19)]) == [(0, 10), (10, 20)]  # adjacent: unchanged
    assert stored_spans([("A", 0, 10), ("B", 10, 19)]) == [(0, 10), (10, 20)]  # one shared frame: to the later
    assert stored_spans([("A", 0, 11), ("B", 10, 19)]) == [(0, 11), (11, 20)]  # two: one each
    assert stored_spans([("A", 25, 39), ("B", 37, 50)]) == [(25, 38), (38, 51)]  # three: the later gets two
    with pytest.raises(SlrPoseError, match="overlap too much"):
        stored_spans([("A", 5, 5), ("B", 5, 9)])  # a one-frame word inside the next
    with pytest.raises(SlrPoseError, match="out of order"):
        stored_spans([("A", 5, 6), ("B", 0, 9)])


@pytest.mark.realdata
def test_bad_folders_give_one_line(boston, tmp_path):
    with pytest.raises(SlrPoseError, match="lacks sentences.npz, sentence_word_spans.json, spec.json") as e:
        Corpus(tmp_path)
    assert "\n" not in str(e.value)
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ("sentences.npz", "spec.json"):
        shutil.copy(boston / f, bad / f)
    spans = json.loads((boston / "sentence_word_spans.json").read_text())
    spans["1"] = spans["1"][:2]  # JOHN WRITE, but the sentence says JOHN WRITE HOMEWORK
    (bad / "sentence_word_spans.json").write_text(json.dumps(spans))
    with pytest.raises(SlrPoseError, match="sentence 1: the word spans give 'JOHN WRITE', the glosses 'JOHN WRITE HOMEWORK'"):
        Corpus(bad)
    spans["1"] = [[55, 8, 17], [111, 22, 50], [50, 51, 90]]  # past the sentence's 90 frames
    (bad / "sentence_word_spans.json").write_text(json.dumps(spans))
    with pytest.raises(SlrPoseError, match="word span 51..90 is not within its 90 frames"):
        Corpus(bad)
    spec = json.loads((boston / "spec.json").read_text())
    (bad / "spec.json").write_text(json.dumps({**spec, "columns": spec["columns"][::-1]}))
    with pytest.raises(SlrPoseError, match="spec.json: columns"):
        Corpus(bad)
    shutil.copy(boston / "spec.json", bad / "spec.json")
    shutil.copy(boston / "sentence_word_spans.json", bad / "sentence_word_spans.json")
    with pytest.raises(SlrPoseError, match="lacks words.npz"):
        word_candidates(bad, LAYOUT)
    with pytest.raises(SlrPoseError, match="context -1 frames"):
        word_candidates(boston, LAYOUT, context=-1)


# --------------------------------------------------------------------------- training


@pytest.mark.slow
@pytest.mark.realdata
def test_ctc_training_on_the_real_sentences_lowers_the_loss_and_scores_wer(sentences, tmp_path):
    """Three epochs of configs/cslr_boston104.yaml: the CTC loss falls; evaluate gives WER with S/D/I per decoder."""
    from slr_pose.decoding.lm import NGramLM
    from slr_pose.evaluation.islr import evaluate_run
    from slr_pose.training.config import load_config
    from slr_pose.training.trainer import train

    config = Path(__file__).resolve().parents[2] / "configs" / "cslr_boston104.yaml"
    cfg = load_config(config, [f"data.stores=[{{path: '{sentences.path}', language: ase}}]", "train.epochs=3"])
    assert cfg.data.preprocess.subset == "nose_wrists" and cfg.data.preprocess.length is None
    run = tmp_path / "run"
    result = train(cfg, run, progress=False, log=lambda *a: None)
    losses = [row["train_loss"] for row in result.history]
    assert len(losses) == 3 and losses[-1] < losses[0] and all(np.isfinite(losses))
    assert result.best_epoch == 3  # no validation split: the last epoch is the model
    ev = evaluate_run(run, sentences.path, split="test")
    assert ev["samples"] == 40
    for decoder in ("greedy", "beam", "beam_lm"):
        m = ev[decoder]
        assert m["ref_words"] == 178 and min(m["sub"], m["del"], m["ins"]) >= 0
        assert m["wer"] == pytest.approx((m["sub"] + m["del"] + m["ins"]) / 178)
    assert ev["decoding"]["chosen_on"] == "" and ev["decoding"]["lm_weight"] == 0.5  # the defaults: no val
    saved = json.loads((run / "eval" / Path(sentences.path).stem / "metrics.json").read_text())
    assert saved["beam_lm"]["wer"] == ev["beam_lm"]["wer"]
    # the run's LM is the 3-gram of the 161 training sentences, nothing else
    train_sentences = [g.split() for g, s in zip(sentences.column("glosses"), sentences.column("split")) if s == "train"]
    assert len(train_sentences) == 161
    NGramLM.train(train_sentences, order=3).save(tmp_path / "train.arpa")
    assert (run / "lm_ase.arpa").read_text() == (tmp_path / "train.arpa").read_text()
