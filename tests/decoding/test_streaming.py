"""Streaming decoding: chunk invariance, agreement with whole-sequence decoding, absolute times."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.decoding.ctc import beam_search, greedy_decode
from slr_pose.decoding.error_rate import wer
from slr_pose.decoding.streaming import StreamingDecoder, decode_stream
from slr_pose.decoding.synthetic import Confusions, PosteriorStyle, log_softmax, synthetic_log_probs
from slr_pose.errors import SlrPoseError
from slr_pose.decoding.lm_tables import BoundLM


@pytest.fixture(scope="module")
def long_input(phoenix_vocab, phoenix_dev):
    """40 real dev sentences back to back (~1,400 frames at 1/4 of the video rate, ~430 glosses)."""
    rng = np.random.default_rng(5)
    entries = phoenix_dev[:40]
    tokens = np.concatenate([phoenix_vocab.encode(e.glosses) for e in entries])
    frames = sum(e.num_frames // 4 for e in entries)
    return tokens, synthetic_log_probs(tokens, frames, len(phoenix_vocab), rng,
                                       confusions=Confusions.uniform(len(phoenix_vocab)))


@pytest.mark.realdata
def test_greedy_stream_is_exactly_greedy(long_input):
    _, lp = long_input
    whole = greedy_decode(lp)
    for window, lookahead in [(50, 10), (200, 50)]:
        s = decode_stream(lp, window=window, lookahead=lookahead, beam_width=1, chunk=33)
        assert s.tokens.tolist() == whole.tokens.tolist()
        assert s.frames.tolist() == whole.frames.tolist()


@pytest.mark.realdata
def test_chunking_does_not_change_the_output(long_input):
    _, lp = long_input
    ref = decode_stream(lp, window=120, lookahead=30, beam_width=5)
    for chunk in (1, 17, 120, 500):
        got = decode_stream(lp, window=120, lookahead=30, beam_width=5, chunk=chunk)
        assert got.tokens.tolist() == ref.tokens.tolist() and got.frames.tolist() == ref.frames.tolist()


@pytest.mark.realdata
@pytest.mark.parametrize("use_lm", [False, True])
def test_stream_is_close_to_whole_sequence_decoding(long_input, phoenix_lm, phoenix_vocab, use_lm):
    tokens, lp = long_input
    kw = dict(beam_width=8, lm=BoundLM(phoenix_lm, phoenix_vocab), lm_weight=0.5, insertion_bonus=1.0) if use_lm else dict(beam_width=8)
    whole = beam_search(lp, **kw)[0]
    stream = decode_stream(lp, window=200, lookahead=50, chunk=64, **kw)
    v = phoenix_vocab
    diff = wer([v.decode(whole.tokens)], [v.decode(stream.tokens)])
    assert diff.wer < 1.0  # beam search is approximate in both; they differ in at most a few glosses
    assert abs(wer([v.decode(tokens)], [v.decode(stream.tokens)]).wer - wer([v.decode(tokens)], [v.decode(whole.tokens)]).wer) < 1.0
    assert (np.diff(stream.frames[:, 0]) >= 0).all() and stream.frames[-1, 1] <= lp.shape[0]


@pytest.mark.realdata
def test_clean_input_streams_exactly(phoenix_vocab, phoenix_dev):
    rng = np.random.default_rng(1)
    tokens = np.concatenate([phoenix_vocab.encode(e.glosses) for e in phoenix_dev[:20]])
    lp = synthetic_log_probs(tokens, 3 * len(tokens) + 50, len(phoenix_vocab), rng, PosteriorStyle(weak=0))
    s = decode_stream(lp, window=64, lookahead=16, beam_width=6, chunk=10)
    assert s.tokens.tolist() == tokens.tolist() == beam_search(lp, beam_width=6)[0].tokens.tolist()


def test_a_gloss_held_across_the_cut_is_emitted_once():
    # gloss 1 holds frames 8..15, across the first cut at frame 12 (window 16, lookahead 4)
    labels = [0] * 8 + [1] * 8 + [0] * 4 + [1] * 2 + [0] * 10
    logits = np.full((len(labels), 3), -4.0)
    logits[np.arange(len(labels)), labels] = 4.0
    lp = log_softmax(logits)
    dec = StreamingDecoder(window=16, lookahead=4, beam_width=4)
    first = dec.push(lp[:16])
    assert [(g.token, g.start) for g in first] == [(1, 8)]
    rest = dec.push(lp[16:]) + dec.flush()
    assert [(g.token, g.start, g.end) for g in rest] == [(1, 20, 22)]
    assert dec.result().tokens.tolist() == beam_search(lp, beam_width=4)[0].tokens.tolist() == [1, 1]


def test_bad_settings():
    with pytest.raises(SlrPoseError, match="lookahead < window"):
        StreamingDecoder(window=10, lookahead=10)
    dec = StreamingDecoder(window=10, lookahead=2)
    dec.push(np.log(np.full((3, 4), 0.25, np.float32)))
    with pytest.raises(SlrPoseError, match="5 classes but the stream started with 4"):
        dec.push(np.log(np.full((3, 5), 0.2, np.float32)))
    assert decode_stream(np.zeros((0, 4), np.float32)).tokens.size == 0
