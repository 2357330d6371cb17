"""Greedy and prefix beam search: exhaustive truth, the Python twin, width 1, LM, bonus, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slr_pose.decoding.ctc import beam_search, greedy_decode, token_frames
from slr_pose.decoding.ctc_twin import exhaustive_ctc, prefix_beam_search_python
from slr_pose.decoding.lm import NGramLM
from slr_pose.decoding.synthetic import Confusions, log_softmax, synthetic_log_probs
from slr_pose.decoding.vocab import Vocabulary
from slr_pose.errors import SlrPoseError
from slr_pose.decoding.lm_tables import BoundLM

EXACT = dict(prune=math.inf, max_candidates=100, beam_prune=math.inf)


def probs_to_log(p) -> np.ndarray:
    """Log of a table of (unnormalised) per-frame probabilities, rows normalised."""
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def test_greedy_hand_case():
    # frame labels: A A _ A B B _ _ C  ->  A A B C
    p = np.full((9, 4), 0.1)
    for t, k in enumerate([1, 1, 0, 1, 2, 2, 0, 0, 3]):
        p[t, k] = 0.7
    lp = probs_to_log(p)
    d = greedy_decode(lp)
    assert d.tokens.tolist() == [1, 1, 2, 3]
    assert d.frames.tolist() == [[0, 2], [3, 4], [4, 6], [8, 9]]
    assert d.score == pytest.approx(9 * math.log(0.7), abs=1e-5)
    assert greedy_decode(np.zeros((0, 4), np.float32)).tokens.size == 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (6, 2)])
def test_beam_search_equals_exhaustive_sum(seed, shape):
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(size=shape) * 2)
    truth = sorted(exhaustive_ctc(lp).items(), key=lambda kv: -kv[1])
    got = beam_search(lp, beam_width=len(truth) + 5, **EXACT)
    assert len(got) == len(truth)  # every reachable sequence, each once
    for d, (seq, logp) in zip(got, truth):
        assert tuple(d.tokens) == seq
        assert d.score == pytest.approx(logp, abs=1e-5)
    # a narrow beam still finds the most probable sequence on these tiny inputs
    assert tuple(beam_search(lp, beam_width=3, **EXACT)[0].tokens) == truth[0][0]


def test_beam_search_with_lm_equals_exhaustive_rescoring():
    vocab = Vocabulary(["A", "B"])
    lm = NGramLM.train([["A", "B"], ["A", "B", "B"], ["B", "A"], ["A"]], order=2)
    rng = np.random.default_rng(7)
    lp = log_softmax(rng.normal(size=(5, 3)) * 2)
    weight, bonus = 0.8, 0.5
    truth = {seq: logp + weight * lm.sentence_log_prob(vocab.decode(seq)) + bonus * len(seq)
             for seq, logp in exhaustive_ctc(lp).items()}  # fmt: skip
    ranked = sorted(truth.items(), key=lambda kv: -kv[1])
    got = beam_search(lp, beam_width=len(truth), lm=BoundLM(lm, vocab), lm_weight=weight, insertion_bonus=bonus, **EXACT)
    assert [tuple(d.tokens) for d in got] == [s for s, _ in ranked]
    assert [d.score for d in got] == pytest.approx([v for _, v in ranked], abs=1e-5)
    best = got[0]
    assert best.score == pytest.approx(best.ctc_score + weight * best.lm_score + bonus * len(best), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_width_one_is_greedy(seed):
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(size=(40, 6)) * (1 + seed))
    g = greedy_decode(lp)
    (b,) = beam_search(lp, beam_width=1)
    assert b.tokens.tolist() == g.tokens.tolist()
    assert b.frames.tolist() == g.frames.tolist()
    assert b.score == pytest.approx(g.score)


@pytest.mark.realdata
def test_numba_kernel_matches_python_twin_on_phoenix_shaped_input(phoenix_vocab, phoenix_dev, phoenix_lm):
    rng = np.random.default_rng(3)
    bound = BoundLM(phoenix_lm, phoenix_vocab)
    for entry in phoenix_dev[:6]:
        tokens = phoenix_vocab.encode(entry.glosses, skip_unknown=True)
        lp = synthetic_log_probs(tokens, entry.num_frames // 4, len(phoenix_vocab), rng,
                                 confusions=Confusions.uniform(len(phoenix_vocab)))
        for kw in (dict(), dict(lm_weight=0.6, insertion_bonus=1.5)):
            got = beam_search(lp, beam_width=6, lm=bound if kw else None, **kw)
            ref = prefix_beam_search_python(lp, beam_width=6, lm=phoenix_lm if kw else None, vocabulary=phoenix_vocab, **kw)
            assert [tuple(d.tokens) for d in got] == [r[0] for r in ref]
            assert [d.score for d in got] == pytest.approx([r[1] for r in ref], abs=1e-6)


@pytest.mark.realdata
def test_beam_frames_locate_the_glosses(phoenix_vocab, phoenix_dev):
    # clean synthetic input: every gloss fires where the generator put it
    from slr_pose.decoding.synthetic import PosteriorStyle

    rng = np.random.default_rng(0)
    tokens = phoenix_vocab.encode(phoenix_dev[0].glosses)
    lp = synthetic_log_probs(tokens, 60, len(phoenix_vocab), rng, PosteriorStyle(weak=0.0))
    best = beam_search(lp, beam_width=5)[0]
    assert best.tokens.tolist() == tokens.tolist()
    peaks = lp.argmax(axis=1)
    for tok, (a, b) in zip(best.tokens, best.frames):
        assert (peaks[a:b] == tok).all() and (a == 0 or peaks[a - 1] != tok) and (b == 60 or peaks[b] != tok)
    assert token_frames(lp, tokens).tolist() == best.frames.tolist()


def _ambiguous_case():
    """A, then a frame where B and C are nearly tied (C slightly ahead)."""
    return probs_to_log([[0.05, 0.9, 0.025, 0.025], [0.9, 0.04, 0.03, 0.03],
                         [0.1, 0.02, 0.42, 0.46], [0.9, 0.04, 0.03, 0.03]])  # fmt: skip


def test_lm_resolves_an_ambiguous_frame():
    vocab = Vocabulary(["A", "B", "C"])
    lm = BoundLM(NGramLM.train([["A", "B"]] * 20 + [["C"]] * 5 + [["B", "C"]] * 5, order=2), vocab)
    lp = _ambiguous_case()
    assert vocab.decode(beam_search(lp, beam_width=5)[0].tokens) == ["A", "C"]
    assert vocab.decode(greedy_decode(lp).tokens) == ["A", "C"]
    with_lm = beam_search(lp, beam_width=5, lm=lm, lm_weight=1.0)
    assert vocab.decode(with_lm[0].tokens) == ["A", "B"]
    assert with_lm[0].lm_score > with_lm[1].lm_score
    # width 1 with the LM decides the frame with the LM too
    assert vocab.decode(beam_search(lp, beam_width=1, lm=lm, lm_weight=1.0)[0].tokens) == ["A", "B"]
    # lm_weight 0 is the same as no LM (scores too: the LM term vanishes)
    no_lm = beam_search(lp, beam_width=5)
    zero = beam_search(lp, beam_width=5, lm=lm, lm_weight=0.0)
    assert [d.tokens.tolist() for d in zero] == [d.tokens.tolist() for d in no_lm]
    assert [d.score for d in zero] == pytest.approx([d.score for d in no_lm])


def test_insertion_bonus_adds_a_weak_gloss():
    # gloss A is clear; gloss B fires weakly on one frame (the blank is more likely there)
    lp = probs_to_log([[0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.6, 0.02, 0.38], [0.9, 0.05, 0.05]])
    assert beam_search(lp, beam_width=5)[0].tokens.tolist() == [1]
    lengths = [len(beam_search(lp, beam_width=5, insertion_bonus=b)[0]) for b in (0.0, 0.2, 0.6, 1.0)]
    assert lengths == sorted(lengths) and lengths[0] == 1 and lengths[-1] == 2
    assert beam_search(lp, beam_width=5, insertion_bonus=1.0)[0].tokens.tolist() == [1, 2]
    # a negative bonus (a penalty) removes it again
    assert beam_search(lp, beam_width=5, insertion_bonus=-1.0)[0].tokens.tolist() == [1]


def test_pruning_limits_candidates_but_keeps_the_answer():
    rng = np.random.default_rng(11)
    lp = log_softmax(rng.normal(size=(30, 50)) * 3)
    exact = beam_search(lp, beam_width=8, prune=math.inf, max_candidates=49, beam_prune=math.inf)
    pruned = beam_search(lp, beam_width=8, prune=6.0, max_candidates=8)
    assert pruned[0].tokens.tolist() == exact[0].tokens.tolist()
    assert pruned[0].score <= exact[0].score + 1e-9  # less probability mass found, never more


@pytest.mark.parametrize(
    "bad, kwargs, message",
    [
        (np.zeros((3,), np.float32), {}, "shape"),
        (np.zeros((3, 1), np.float32), {}, "blank and at least one gloss"),
        (np.full((3, 4), np.nan, np.float32), {}, "NaN"),
        (np.ones((3, 4), np.float32), {}, "log_softmax"),
        (np.zeros((3, 4), np.int64), {}, "floating point"),
        (np.log(np.full((3, 4), 0.25)), {"blank": 7}, "blank id 7"),
        (np.log(np.full((3, 4), 0.25)), {"beam_width": 0}, "beam_width"),
        (np.log(np.full((3, 4), 0.25)), {"prune": -1.0}, "prune"),
    ],
)
def test_bad_input_is_one_clear_error(bad, kwargs, message):
    with pytest.raises(SlrPoseError, match=message):
        beam_search(bad, **kwargs)


def test_lm_must_be_bound_to_the_vocabulary():
    vocab = Vocabulary(["A", "B"])
    lm = NGramLM.train([["A", "B"]], order=2)
    lp = np.log(np.full((3, 3), 1 / 3)).astype(np.float32)
    with pytest.raises(SlrPoseError, match="bind"):
        beam_search(lp, lm=lm)
    with pytest.raises(SlrPoseError, match="bound to 3 classes"):
        beam_search(np.log(np.full((3, 5), 0.2)).astype(np.float32), lm=BoundLM(lm, vocab))
