"""Stitched continuous sentences from real isolated signs (Kaggle asl-signs, MSL-150)."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.continuous.gloss_spans import parse_spans
from slr_pose.keypoints.importers import Geometry, import_samples, provenance
from slr_pose.keypoints.importers.arrays import ColumnSpec, array_candidates
from slr_pose.keypoints.importers.kaggle import kaggle_candidates
from slr_pose.keypoints.layout import holistic_layout
from slr_pose.continuous.sentences import BigramGrammar, LMGrammar
from slr_pose.continuous.stitch import StitchSpec, min_jerk, share, source_splits, stitch_store
from slr_pose.keypoints.store import PoseStore, StoreWriter

REPO = Path(__file__).resolve().parents[2]
MSL_KEYPOINTS = REPO / "data" / "msl150" / "keypoints_sample.npz"
LAYOUT = holistic_layout("contour")
HANDS = (LAYOUT.groups.index("left_hand"), LAYOUT.groups.index("right_hand"))
WRISTS = LAYOUT.index(["pose/LEFT_WRIST", "pose/RIGHT_WRIST", "left_hand/WRIST", "right_hand/WRIST"])


@pytest.fixture(scope="module")
def asl(kaggle_dir, tmp_path_factory) -> Path:
    """The 42 real Kaggle sequences (21 signers x hello/thankyou); frame rate unknown."""
    path = tmp_path_factory.mktemp("asl") / "asl.h5"
    import_samples(path, LAYOUT, provenance("kaggle", {"face": "contour"}), kaggle_candidates(kaggle_dir, LAYOUT))
    return path


@pytest.fixture(scope="module")
def msl(tmp_path_factory) -> Path:
    """The 86 real MSL-150 sequences (5 signs, one signer), 30 fps, 1280x720."""
    path = tmp_path_factory.mktemp("msl") / "msl.h5"
    spec = ColumnSpec.parse("msl150")
    cands = array_candidates([MSL_KEYPOINTS], spec, LAYOUT, geometry=Geometry(30.0, 1280, 720), language="lsm")
    import_samples(path, LAYOUT, provenance("numpy", {"spec": str(spec)}), cands)
    return path


@pytest.fixture(scope="module")
def asl_stitched(asl, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("st") / "asl-stitched.h5"
    stitch_store(asl, out, StitchSpec(sentences=40, seed=3, density=1.0))
    return out


@pytest.fixture(scope="module")
def msl_stitched(msl, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("st") / "msl-stitched.h5"
    stitch_store(msl, out, StitchSpec(sentences=150, min_glosses=4, max_glosses=6, seed=0))
    return out


def meta(store: PoseStore, i: int) -> dict:
    return json.loads(store.info(i).meta)


def hand_range(sample) -> tuple[int, int]:
    """First .. last+1 frame with a hand, computed here from the missing mask."""
    seen = np.flatnonzero(~sample.missing[:, list(HANDS)].all(axis=1))
    return (int(seen[0]), int(seen[-1]) + 1) if len(seen) else (0, len(sample.xyz))


# --------------------------------------------------------------------------- structure of a sentence


@pytest.mark.realdata
@pytest.mark.parametrize("which", ["asl_stitched", "msl_stitched"])
def test_spans_and_transitions_tile_each_sentence(which, request):
    store = PoseStore(request.getfixturevalue(which))
    spec = StitchSpec()
    for i in range(len(store)):
        info, m = store.info(i), meta(store, i)
        spans = parse_spans(info.gloss_spans, info.length, len(info.gloss_list))
        assert spans[0][0] == 0 and spans[-1][1] == info.length
        gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
        assert gaps == m["transitions"]
        assert all(spec.min_transition <= g <= spec.max_transition for g in gaps)
        assert len(m["sources"]) == len(info.gloss_list)


@pytest.mark.realdata
@pytest.mark.parametrize("which,source", [("asl_stitched", "asl"), ("msl_stitched", "msl")])
def test_each_span_is_the_trimmed_source_sample(which, source, request):
    store, src = PoseStore(request.getfixturevalue(which)), PoseStore(request.getfixturevalue(source))
    for i in range(0, len(store), 7):
        sentence, info, m = store.read(i), store.info(i), meta(store, i)
        for gloss, (a, b), sid, frames in zip(info.gloss_list, parse_spans(info.gloss_spans), m["sources"], m["source_frames"]):
            orig = src.read(src.index_of(sid))
            assert orig.info.label == gloss and orig.info.signer == info.signer
            lo, hi = hand_range(orig)
            assert frames == [lo, hi] and hi - lo == b - a
            np.testing.assert_array_equal(sentence.xyz[a:b], orig.xyz[lo:hi])
            np.testing.assert_array_equal(sentence.confidence[a:b], orig.confidence[lo:hi])
            np.testing.assert_array_equal(sentence.missing[a:b], orig.missing[lo:hi])


@pytest.mark.realdata
def test_samples_too_short_after_trimming_are_left_out(msl, msl_stitched):
    src, store = PoseStore(msl), PoseStore(msl_stitched)
    short = set()
    for i in range(len(src)):
        lo, hi = hand_range(src.read(i))
        if hi - lo < 4:
            short.add(src.ids[i])
    assert short == {"doctor_7", "doctor_13"}  # zero padding after 1 and 3 real frames
    used = {sid for i in range(len(store)) for sid in meta(store, i)["sources"]}
    assert not used & short and len(used) > 60
    assert store.provenance["derived"]["settings"]["left_out_short"] == 2


@pytest.mark.realdata
def test_transitions_interpolate_between_the_right_end_points(msl_stitched):
    store = PoseStore(msl_stitched)
    checked = 0
    for i in range(0, len(store), 5):
        s, info = store.read(i), store.info(i)
        spans = parse_spans(info.gloss_spans)
        valid = s.valid(LAYOUT)
        for (a0, a1), (b0, _) in zip(spans, spans[1:]):
            n = b0 - a1
            end, start = s.xyz[a1 - 1].astype(np.float64), s.xyz[b0].astype(np.float64)
            both = valid[a1 - 1] & valid[b0]
            u = np.arange(1, n + 1) / (n + 1)
            w = 10 * u**3 - 15 * u**4 + 6 * u**5
            want = end[None] + w[:, None, None] * (start - end)[None]
            np.testing.assert_allclose(s.xyz[a1:b0][:, both], want[:, both], rtol=0, atol=1e-6)
            assert np.isnan(s.xyz[a1:b0][:, ~both]).all() and (s.confidence[a1:b0][:, ~both] == 0).all()
            # the length follows the wrists' displacement (x in frame heights: 1280 / 720)
            wr = WRISTS[both[WRISTS]]
            d = np.sqrt((((start - end)[wr, :2] * [1280 / 720, 1]) ** 2).sum(-1)).max()
            assert n == int(np.clip(math.ceil(d / 0.05 - 1e-9), 2, 12))
            checked += 1
    assert checked > 50


@pytest.mark.realdata
def test_a_hand_missing_at_either_end_stays_missing_through_the_transition(asl_stitched):
    store = PoseStore(asl_stitched)
    found = 0
    for i in range(len(store)):
        s, info = store.read(i), store.info(i)
        spans = parse_spans(info.gloss_spans)
        for (_, a1), (b0, _) in zip(spans, spans[1:]):
            for g in HANDS:
                if s.missing[a1 - 1, g] or s.missing[b0, g]:
                    assert s.missing[a1:b0, g].all()
                    assert np.isnan(s.xyz[a1:b0, LAYOUT.group_slices[LAYOUT.groups[g]]]).all()
                    found += 1
    assert found > 0  # the real Kaggle signs often show one hand only


@pytest.mark.realdata
def test_stitched_store_says_what_it_is(asl_stitched, asl):
    store = PoseStore(asl_stitched)
    derived = store.provenance["derived"]
    assert derived["operation"] == "stitch" and derived["settings"]["stitched"] is True
    assert derived["source"] == str(asl) and derived["settings"]["seed"] == 3
    assert store.provenance["extractor"] == PoseStore(asl).provenance["extractor"]
    info = store.info(0)
    assert info.source == "stitched" and info.language == "ase" and info.label == ""
    assert np.isnan(store.read(0).time).all()  # the Kaggle frame rate is unknown, and stays so
    assert json.loads(info.meta)["stitched"] is True


@pytest.mark.realdata
def test_frame_times_follow_the_source_frame_rate(msl_stitched):
    s = PoseStore(msl_stitched).read(0)
    np.testing.assert_allclose(s.time, np.arange(len(s.time)) / 30.0, rtol=1e-6)
    assert s.info.fps == 30.0 and s.info.width == 1280


# --------------------------------------------------------------------------- splits, seeds, grammar


@pytest.mark.realdata
def test_signer_split_keeps_test_signers_out_of_train(asl_stitched, asl):
    store, src = PoseStore(asl_stitched), PoseStore(asl)
    test_signers = set(store.provenance["derived"]["settings"]["test_signers"])
    assert len(test_signers) == 5  # round(0.25 * 21)
    by_split: dict[str, set] = {"train": set(), "test": set()}
    for i in range(len(store)):
        info = store.info(i)
        sources = {src.info(src.index_of(sid)).signer for sid in meta(store, i)["sources"]}
        assert sources == {info.signer}
        assert (info.signer in test_signers) == (info.split == "test")
        by_split[info.split] |= sources
    assert by_split["train"] and by_split["test"] and not by_split["train"] & by_split["test"]
    assert Counter(store.column("split").tolist()) == {"train": 30, "test": 10}  # 40 x 32/42 = 30.5, 40 x 10/42 = 9.5


@pytest.mark.realdata
def test_sample_split_keeps_msl_samples_apart(msl_stitched):
    store = PoseStore(msl_stitched)
    assert store.provenance["derived"]["settings"]["split_by"] == "sample"
    used = {"train": set(), "test": set()}
    for i in range(len(store)):
        used[store.info(i).split] |= set(meta(store, i)["sources"])
    assert len(used["test"]) > 10 and not used["train"] & used["test"]


@pytest.mark.realdata
def test_same_seed_same_store_other_seed_other_sentences(asl, asl_stitched, tmp_path):
    again = tmp_path / "again.h5"
    stitch_store(asl, again, StitchSpec(sentences=40, seed=3, density=1.0))
    a, b = PoseStore(asl_stitched), PoseStore(again)
    assert [replace(x, fps=0) for x in a.infos()] == [replace(x, fps=0) for x in b.infos()]  # fps NaN != NaN
    for i in range(len(a)):
        np.testing.assert_array_equal(a.read(i).xyz, b.read(i).xyz)
    other = tmp_path / "other.h5"
    stitch_store(asl, other, StitchSpec(sentences=40, seed=4, density=1.0))
    assert PoseStore(other).column("glosses").tolist() != a.column("glosses").tolist()


@pytest.mark.realdata
def test_sentences_follow_the_grammar(msl_stitched):
    store = PoseStore(msl_stitched)
    g = store.provenance["derived"]["settings"]["grammar"]
    glosses, trans = g["glosses"], np.array(g["transitions"])
    assert glosses == ["ambulancia", "doctor", "dolor", "hoy", "yo"]
    assert ((trans > 0).sum(1) <= 3).all() and (trans == 0).sum() >= 10  # density 0.5 of 5: at most 3 successors
    pairs = Counter()
    for seq in store.column("glosses").tolist():
        words = seq.split()
        assert 4 <= len(words) <= 6
        pairs.update(zip(words, words[1:]))
    idx = {w: i for i, w in enumerate(glosses)}
    for (a, b), n in pairs.items():
        assert trans[idx[a], idx[b]] > 0, f"forbidden transition {a} -> {b} appears {n} times"
    # observed successor frequencies follow the grammar's probabilities
    for a in glosses:
        total = sum(n for (x, _), n in pairs.items() if x == a)
        if total < 60:
            continue
        for b in glosses:
            p = trans[idx[a], idx[b]]
            assert abs(pairs[(a, b)] / total - p) < 4 * math.sqrt(p * (1 - p) / total) + 0.02


def test_random_grammar_is_seeded_and_connected():
    words = [f"g{i}" for i in range(12)]
    a, b = BigramGrammar.random(words, 1, density=0.25), BigramGrammar.random(words, 1, density=0.25)
    np.testing.assert_array_equal(a.transitions, b.transitions)
    assert not np.array_equal(a.transitions, BigramGrammar.random(words, 2, density=0.25).transitions)
    assert ((a.transitions > 0).sum(1) == 3).all()
    np.testing.assert_allclose(a.transitions.sum(1), 1.0)
    reach = (a.transitions > 0).astype(int)
    closure = np.linalg.matrix_power(reach + np.eye(12, dtype=int), 12)
    assert (closure > 0).all()  # every gloss can follow every other one, eventually
    rng = np.random.default_rng(0)
    s = a.sample(rng, 50)
    assert all(a.allowed(x, y) for x, y in zip(s, s[1:]))
    assert a.log_prob(["g0", "g0"]) == -math.inf or a.allowed("g0", "g0")


def test_lm_grammar_follows_a_real_language_model():
    lm_mod = pytest.importorskip("slr_pose.decoding.lm")
    lm = lm_mod.NGramLM.train([["hello", "thankyou"] * 3, ["thankyou", "hello"] * 2] * 20, order=2)
    grammar = LMGrammar(lm, ["hello", "thankyou"])
    rng = np.random.default_rng(0)
    pairs = Counter()
    for _ in range(200):
        s = grammar.sample(rng, 6)
        pairs.update(zip(s, s[1:]))
    alternating = pairs[("hello", "thankyou")] + pairs[("thankyou", "hello")]
    assert alternating / sum(pairs.values()) > 0.9


def test_min_jerk_and_share():
    w = min_jerk(3)
    np.testing.assert_allclose(w, [10 * u**3 - 15 * u**4 + 6 * u**5 for u in (0.25, 0.5, 0.75)])
    assert w[1] == 0.5 and (np.diff(w) > 0).all()
    assert share(40, [32, 10]) == [30, 10] and share(7, [1, 1, 1]) == [3, 2, 2] and sum(share(401, [5, 3, 9])) == 401


def test_source_split_modes():
    labels = ["a", "a", "a", "a", "b", "b", "b", "b"]
    signers = ["p", "q", "r", "s", "p", "q", "r", "s"]
    split, mode = source_splits([""] * 8, signers, labels, "auto", 0.25, 0)
    assert mode == "signer" and len({s for s, x in zip(signers, split) if x == "test"}) == 1
    assert all((split[i] == "test") == (split[i + 4] == "test") for i in range(4))  # a signer is all test or all train
    split, mode = source_splits([""] * 8, [""] * 8, labels, "auto", 0.25, 0)
    assert mode == "sample" and Counter(zip(labels, split))[("a", "test")] == 1
    split, mode = source_splits(["train"] * 6 + ["test"] * 2, signers, labels, "auto", 0.25, 0)
    assert mode == "store" and split.tolist() == ["train"] * 6 + ["test"] * 2


# --------------------------------------------------------------------------- bad input


def _copy(src: Path, dst: Path, **changes) -> Path:
    """A copy of ``src`` with sample fields changed (``{index: {field: value}}``)."""
    store = PoseStore(src)
    with StoreWriter(dst, store.layout, store.provenance) as w:
        for i in range(len(store)):
            s = store.read(i)
            w.add(replace(s, info=replace(s.info, **changes.get(str(i), {}))))
    return dst


@pytest.mark.realdata
def test_bad_input_gives_one_clear_line(asl, asl_stitched, tmp_path):
    def error(src, **kw) -> str:
        with pytest.raises(SlrPoseError) as e:
            stitch_store(src, tmp_path / "out.h5", StitchSpec(sentences=5, **kw.pop("spec", {})), **kw)
        assert "\n" not in str(e.value)
        return str(e.value)

    unlabelled = _copy(asl, tmp_path / "unlabelled.h5", **{"3": {"label": ""}})
    assert "1 of 42 samples" in error(unlabelled) and "have no label" in error(unlabelled)
    badsplit = _copy(asl, tmp_path / "badsplit.h5", **{str(i): {"split": "training"} for i in range(42)})
    assert "split 'training'" in error(badsplit, spec={"split_by": "store"})
    assert "gloss 'goodbye' has no sample" in error(asl, glosses=["hello", "goodbye"])
    lm_grammar = BigramGrammar(["hello", "please"], np.array([0.5, 0.5]), np.array([[0, 1.0], [1.0, 0]]))
    assert "gloss 'please' of the language model has no sample" in error(asl, grammar=lm_grammar)
    one_sided = _copy(asl, tmp_path / "onesided.h5", **{str(i): {"split": "test" if i == 0 else "train"} for i in range(42)})
    assert error(one_sided, spec={"split_by": "store"}).startswith("gloss 'thankyou' has no usable sample in split 'test'")
    (tmp_path / "out.h5").touch()
    assert "already exists" in error(asl)
    with pytest.raises(SlrPoseError, match="is the input store"):
        stitch_store(asl, asl, StitchSpec(sentences=1))
    with pytest.raises(SlrPoseError, match="min glosses"):
        StitchSpec(min_glosses=5, max_glosses=3)


@pytest.mark.realdata
@pytest.mark.parametrize("source", ["asl", "msl"])
def test_trimming_agrees_with_the_preprocessor_idle_trim(source, request):
    """Signs are cut where the graphs pipeline's trim_idle (hand in view, no speed test) cuts them."""
    from slr_pose.graphs.normalisation.kernels import clip_frame
    from slr_pose.graphs.normalisation.body_frame import BodyAnchors
    from slr_pose.continuous.stitch import active_range

    store = PoseStore(request.getfixturevalue(source))
    ref = BodyAnchors.from_layout(store.layout)
    for i in range(len(store)):
        s = store.read(i)
        *_, first, last = clip_frame(
            s.xyz, s.missing, s.confidence, 0.0, ref.ref, ref.ref_group, s.info.aspect, ref.motion,
            ref.motion_group, 1.0, 0.0, True,
        )  # fmt: skip
        assert active_range(s, store.layout) == (first, last + 1)


def test_val_split_comes_from_the_same_draw_and_leaves_test_alone():
    labels = ["a"] * 10 + ["b"] * 10
    signers = [f"p{i}" for i in range(10)] * 2
    for by in ("signer", "sample"):
        plain, _ = source_splits([""] * 20, signers, labels, by, 0.2, 4)
        split, mode = source_splits([""] * 20, signers, labels, by, 0.2, 4, val_fraction=0.2)
        assert mode == by and (plain == "test").tolist() == (split == "test").tolist()
        assert Counter(split.tolist()) == {"train": 12, "val": 4, "test": 4}
    split, _ = source_splits([""] * 20, signers, labels, "signer", 0.2, 4, val_fraction=0.2)
    people = {x: {p for p, s in zip(signers, split) if s == x} for x in ("train", "val", "test")}
    assert [len(people[x]) for x in ("train", "val", "test")] == [6, 2, 2] and not people["val"] & people["train"]
    with pytest.raises(SlrPoseError, match="applies only when splitting by signer or sample"):
        source_splits(["train"] * 20, signers, labels, "auto", 0.2, 0, val_fraction=0.1)
    with pytest.raises(SlrPoseError, match="val fraction 0.8 must be at least 0 and below 1 - test fraction"):
        StitchSpec(val_fraction=0.8)


@pytest.mark.realdata
def test_val_sentences_use_their_own_samples(msl, tmp_path):
    out = tmp_path / "val.h5"
    report = stitch_store(msl, out, StitchSpec(sentences=60, min_glosses=2, max_glosses=4, val_fraction=0.15))
    assert list(report.sentences) == ["train", "val", "test"] and report.sources["val"] >= 5  # one or more per sign
    store = PoseStore(out)
    used: dict[str, set] = {"train": set(), "val": set(), "test": set()}
    for i in range(len(store)):
        used[store.info(i).split] |= set(meta(store, i)["sources"])
    assert used["val"] and not used["val"] & (used["train"] | used["test"]) and not used["train"] & used["test"]
    assert store.provenance["derived"]["settings"]["val_fraction"] == 0.15
