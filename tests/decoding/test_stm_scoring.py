"""STM/CTM files and CTM-against-STM scoring with the PHOENIX protocols, on the official STM files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slr_pose.decoding.phoenix import EMPTY, clean_hypothesis, clean_reference
from slr_pose.decoding.scoring import score_ctm
from slr_pose.decoding.stm import CtmWord, StmSegment, ctm_words, read_ctm, read_stm, write_ctm, write_stm
from slr_pose.errors import SlrPoseError


def words_of(segments, edit=None, fps=25.0):
    """A CTM that says what the STM says (optionally edited), two frames per gloss."""
    out = []
    for i, s in enumerate(segments):
        glosses = list(s.glosses) if edit is None else edit(i, list(s.glosses))
        frames = np.stack([np.arange(len(glosses)) * 2, np.arange(len(glosses)) * 2 + 2], axis=1)
        out += ctm_words(s.id, glosses, frames, fps)
    return out


@pytest.fixture(scope="module")
def dev_stm(phoenix_dir):
    return phoenix_dir / "phoenix2014" / "phoenix2014-groundtruth-dev.stm"


@pytest.mark.realdata
def test_read_official_stm(dev_stm):
    segs = read_stm(dev_stm)
    assert len(segs) == 540
    first = segs[0]
    assert (first.id, first.channel, first.speaker, first.start) == ("01April_2010_Thursday_heute_default-1", "1", "Signer04", 0.0)
    assert first.end == pytest.approx(1.79769e308)
    # the file has a double space in this line: no empty gloss comes out of it
    assert first.glosses == tuple("ICH OSTERN WETTER ZUFRIEDEN MITTAG TEMPERATUR SUED WARM MEIN NICHT".split())
    assert sum(len(s.glosses) for s in segs) == 5540


@pytest.mark.realdata
def test_stm_and_ctm_round_trip(tmp_path, dev_stm):
    segs = read_stm(dev_stm)
    write_stm(tmp_path / "copy.stm", segs)
    assert read_stm(tmp_path / "copy.stm") == segs
    words = words_of(segs)
    words[0] = CtmWord(words[0].id, "1", words[0].start, words[0].duration, words[0].gloss, 0.75)
    write_ctm(tmp_path / "hyp.ctm", words)
    back = read_ctm(tmp_path / "hyp.ctm")
    assert back == words and back[0].confidence == pytest.approx(0.75) and back[1].confidence is None
    assert (tmp_path / "hyp.ctm").read_text().splitlines()[1] == "01April_2010_Thursday_heute_default-1 1 0.080 0.080 OSTERN"


@pytest.mark.realdata
@pytest.mark.parametrize("protocol", ["none", "phoenix2014"])
def test_dev_against_itself_is_zero(dev_stm, protocol):
    segs = read_stm(dev_stm)
    score = score_ctm(dev_stm, words_of(segs), protocol=protocol)
    assert (score.result.sub, score.result.dele, score.result.ins, score.result.wer) == (0, 0, 0, 0.0)
    assert score.result.n_ref == 5540 and score.result.sentences == 540


@pytest.mark.realdata
def test_2014t_dev_against_itself(phoenix_dir):
    stm = phoenix_dir / "phoenix2014T" / "phoenix2014T-groundtruth-dev.stm"
    score = score_ctm(stm, words_of(read_stm(stm)), protocol="phoenix2014t")
    r = score.result
    # the script merges repeated glosses in the hypothesis but its reference rule only merges
    # repeats of hyphen-free glosses: "IM-VERLAUF IM-VERLAUF" costs a perfect transcript one deletion
    assert (r.sub, r.dele, r.ins, r.sentences, r.sentence_errors) == (0, 1, 0, 519, 1)
    (bad,) = [k for k, al in score.alignments.items() if al.errors]
    assert [op for op in score.alignments[bad].ops if op[0] != "C"] == [("D", "IM-VERLAUF", None)]


@pytest.mark.realdata
@pytest.mark.parametrize("protocol", ["none", "phoenix2014"])
def test_perturbed_copy_gives_the_known_counts(dev_stm, protocol):
    segs = read_stm(dev_stm)

    def edit(i, g):  # one edit in each of the first 300 sentences with at least 2 glosses
        if i >= 300 or len(g) < 2:
            return g
        k = i % len(g)
        if i % 3 == 0:
            g[k] = "XXSUB"
        elif i % 3 == 1:
            del g[k]
        else:
            g.insert(k, "XXINS")
        return g

    edited = sum(1 for s in segs[:300] if len(s.glosses) >= 2)
    per_kind = [sum(1 for i, s in enumerate(segs[:300]) if len(s.glosses) >= 2 and i % 3 == r) for r in range(3)]
    r = score_ctm(dev_stm, words_of(segs, edit), protocol=protocol).result
    assert (r.sub, r.dele, r.ins) == tuple(per_kind)
    assert r.sentence_errors == edited
    assert r.wer == pytest.approx(100 * edited / 5540)


def test_words_are_split_into_segments_by_midpoint():
    segs = [StmSegment("v", "1", "S", 0.0, 2.0, ("A", "B")), StmSegment("v", "1", "S", 2.0, 4.0, ("C",))]
    words = [CtmWord("v", "1", 0.5, 1.0, "A"), CtmWord("v", "1", 1.6, 0.6, "C"),  # midpoint 1.9: first segment
             CtmWord("v", "1", 2.5, 0.2, "C"), CtmWord("v", "1", 5.0, 0.2, "D"),   # after the end: last segment
             CtmWord("other", "1", 0.0, 0.1, "A")]  # fmt: skip
    score = score_ctm(segs, words)
    assert score.alignments["v"].ops == (("C", "A", "A"), ("S", "B", "C"))
    assert score.alignments["v#1"].ops == (("C", "C", "C"), ("I", None, "D"))
    assert score.unknown_ids == ("other",)
    with pytest.raises(SlrPoseError, match="no hypothesis id is in the reference"):
        score_ctm(segs, [CtmWord("x", "1", 0.0, 0.1, "A")])


def test_empty_hypothesis_is_scored_as_empty_token():
    segs = [StmSegment("v", "1", "S", 0.0, math.inf, ("A", "B", "C")), StmSegment("w", "1", "S", 0.0, math.inf, ("A",))]
    words = [CtmWord("w", "1", 0.0, 0.1, "A")]
    plain = score_ctm(segs, words, protocol="none").result
    official = score_ctm(segs, words, protocol="phoenix2014")
    assert (plain.sub, plain.dele) == (0, 3)
    assert (official.result.sub, official.result.dele) == (1, 2)  # [EMPTY] takes a substitution
    assert official.alignments["v"].ops[-1] == ("S", "C", EMPTY)  # sclite prefers the diagonal at the end
    assert official.result.wer == plain.wer


def test_phoenix2014_hypothesis_rules():
    hyp = "loc-NORD __EMOTION__ REGEN-PLUSPLUS NORDRAUM S0NNE HABEN2 ZEIGEN __EPENTHESIS__ __ON__ cl-KOMMEN KOMMEN".split()
    assert clean_hypothesis(hyp, "phoenix2014") == "NORD REGEN NORD SONNE HABEN ZEIGEN-BILDSCHIRM __ON__ KOMMEN KOMMEN".split()
    ref = ["__ON__", "loc-NORD"]
    assert clean_reference(ref, "phoenix2014") == ref  # the 2014 script leaves the reference alone
    segs = [StmSegment("v", "1", "S", 0.0, math.inf, ("__ON__", "NORD", "REGEN", "__OFF__"))]
    words = [CtmWord("v", "1", t, 0.1, g) for t, g in enumerate(["__ON__", "loc-NORD", "__PU__", "REGEN-PLUSPLUS", "__OFF__"])]
    assert score_ctm(segs, words, protocol="phoenix2014").result.wer == 0.0
    assert score_ctm(segs, words, protocol="none").result.sub == 2  # and one insertion
    with pytest.raises(SlrPoseError, match="unknown scoring protocol"):
        score_ctm(segs, words, protocol="phoenix2015")


def test_phoenix2014t_rules():
    hyp = "loc-NORD __EMOTION__ REGEN-PLUSPLUS REGEN NORDRAUM S0NNE __ON__ cl-KOMMEN KOMMEN".split()
    assert clean_hypothesis(hyp, "phoenix2014t") == "NORD REGEN NORD S0NNE KOMMEN".split()
    ref = "__ON__ WIE AUSSEHEN A S B MORGEN MORGEN loc-NORD __EMOTION__ SUEDRAUM REGEN-PLUSPLUS".split()
    assert clean_reference(ref, "phoenix2014t") == "WIE-AUSSEHEN A+S+B MORGEN NORD SUED REGEN".split()
    assert clean_reference("A B".split(), "phoenix2014t") == ["A+B"]  # spelled letters join


def test_bad_files(tmp_path):
    (tmp_path / "bad.stm").write_text("id 1 spk 0.0\n")
    with pytest.raises(SlrPoseError, match="bad.stm:1: an STM line needs"):
        read_stm(tmp_path / "bad.stm")
    (tmp_path / "bad2.stm").write_text(";; comment\nid 1 spk zero 1.0 A\n")
    with pytest.raises(SlrPoseError, match="bad2.stm:2: start time 'zero'"):
        read_stm(tmp_path / "bad2.stm")
    (tmp_path / "bad.ctm").write_text("id 1 0.0 A\n")
    with pytest.raises(SlrPoseError, match="bad.ctm:1: a CTM line needs"):
        read_ctm(tmp_path / "bad.ctm")
    with pytest.raises(SlrPoseError, match="not found"):
        read_ctm(tmp_path / "none.ctm")
    with pytest.raises(SlrPoseError, match="2 glosses but 1 frame spans"):
        ctm_words("v", ["A", "B"], [[0, 1]], 25.0)
    with pytest.raises(SlrPoseError, match="does not exist"):
        write_ctm(tmp_path / "no" / "x.ctm", [])
    # read without complaint before: NaN times sort and score as nothing else does
    (tmp_path / "nan.stm").write_text("id 1 spk nan 1.0 A\n")
    with pytest.raises(SlrPoseError, match="nan.stm:1: start time 'nan' is not a number"):
        read_stm(tmp_path / "nan.stm")
    (tmp_path / "back.stm").write_text("id 1 spk 2.0 1.0 A\n")
    with pytest.raises(SlrPoseError, match="back.stm:1: a segment from 2.0 to 1.0 s needs a finite start"):
        read_stm(tmp_path / "back.stm")
    (tmp_path / "neg.ctm").write_text("id 1 0.5 -0.2 A\n")
    with pytest.raises(SlrPoseError, match="neg.ctm:1: a word needs a finite start, duration >= 0"):
        read_ctm(tmp_path / "neg.ctm")
    labelled = tmp_path / "l.stm"
    labelled.write_text("v 1 S 0.0 2.0 <o,f0,male> A B\n")
    assert read_stm(labelled)[0].glosses == ("A", "B") and read_stm(labelled)[0].label == "<o,f0,male>"
