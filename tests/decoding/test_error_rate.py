"""sclite-style alignment and corpus WER on hand-checked cases."""

from __future__ import annotations

import math

import pytest

from slr_pose.decoding.error_rate import WERResult, align, wer
from slr_pose.errors import SlrPoseError


@pytest.mark.parametrize(
    "ref, hyp, sdi",
    [
        ("A B C D", "A X C D", (1, 0, 0)),
        ("A B C", "A C", (0, 1, 0)),
        ("A C", "A B C", (0, 0, 1)),
        ("A B C D E", "A C D X E F", (0, 1, 2)),
        ("A B C", "", (0, 3, 0)),
        ("", "X Y Z W", (0, 0, 4)),
        ("A B", "B C", (0, 1, 1)),  # unit costs would also allow 2 substitutions; sclite's 4/3/3 does not
        ("A B C D", "D C B A", (2, 1, 1)),
        ("__ON__ ICH WETTER __OFF__", "ICH WETTER WETTER", (1, 1, 0)),  # D + S (7) beats D + D + I (9)
    ],
)
def test_hand_checked_counts(ref, hyp, sdi):
    al = align(ref, hyp)
    assert (al.sub, al.dele, al.ins) == sdi
    assert al.cor == len(ref.split()) - al.sub - al.dele
    assert [r for _, r, _ in al.ops if r is not None] == ref.split()  # every word appears once, in order
    assert [h for _, _, h in al.ops if h is not None] == hyp.split()


def test_ties_break_like_sclite():
    # "A" vs "B C": S+I either way (cost 7); sclite's cell rule picks the substitution at the
    # last cell, so B is the insertion and A->C the substitution
    assert align("A", "B C").ops == (("I", None, "B"), ("S", "A", "C"))
    assert align("A B", "C").ops == (("D", "A", None), ("S", "B", "C"))


def test_case_insensitive_by_default():
    assert align("Wetter morgen", "WETTER MORGEN").errors == 0
    assert align("Wetter morgen", "WETTER MORGEN", case_sensitive=True).sub == 2
    assert align("Wetter", "WETTER").ops == (("C", "Wetter", "WETTER"),)  # original spelling kept


def test_corpus_wer():
    r = wer(["A B C D", "E F", "G"], ["A X C D", "E F", "G H"])
    assert (r.sub, r.dele, r.ins, r.n_ref, r.cor) == (1, 0, 1, 7, 6)
    assert r.wer == pytest.approx(100 * 2 / 7)
    assert (r.sentences, r.sentence_errors) == (3, 2)
    assert str(r).startswith("WER 28.57% (sub 1, del 0, ins 1 of 7")
    assert math.isnan(WERResult.from_alignments([align("", "")]).wer)
    with pytest.raises(SlrPoseError, match="2 references but 1 hypotheses"):
        wer(["A", "B"], ["A"])


def test_pretty_alignment():
    text = align("A B C", "A X C D").pretty().splitlines()
    assert text[0].split() == ["REF:", "A", "B", "C", "*"]
    assert text[1].split() == ["HYP:", "A", "X", "C", "D"]
    assert text[2].split() == ["OPS:", "S", "I"]
