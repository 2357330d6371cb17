"""The CTC gloss vocabulary."""

from __future__ import annotations

import pytest

from slr_pose.decoding.vocab import Vocabulary
from slr_pose.errors import SlrPoseError


def test_ids_and_round_trip(tmp_path):
    v = Vocabulary(["WETTER", "MORGEN", "REGEN"])
    assert len(v) == 4 and v.id("WETTER") == 1 and "REGEN" in v
    assert v.encode("MORGEN REGEN").tolist() == [2, 3]
    assert v.decode([0, 2, 0, 3, 1]) == ["MORGEN", "REGEN", "WETTER"]
    assert v.token(0) == "<blank>"
    assert v.encode(["MORGEN", "SCHNEE"], skip_unknown=True).tolist() == [2]
    v.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json") == v
    (tmp_path / "v.txt").write_text("WETTER\nMORGEN\n\nREGEN\n")
    assert Vocabulary.load(tmp_path / "v.txt") == v


@pytest.mark.realdata
def test_phoenix_vocab_tsv(phoenix_vocab, phoenix_dev):
    assert len(phoenix_vocab.glosses) == 1295 and phoenix_vocab.glosses[:2] == ("A", "AACHEN")
    for e in phoenix_dev:  # the list covers dev
        assert phoenix_vocab.decode(phoenix_vocab.encode(e.glosses)) == list(e.glosses)


@pytest.mark.parametrize(
    "glosses, message",
    [(["A", "A"], "twice"), (["A", ""], "bad gloss"), (["A B"], "bad gloss"), (["<blank>"], "blank's name")],
)
def test_bad_vocabulary(glosses, message):
    with pytest.raises(SlrPoseError, match=message):
        Vocabulary(glosses)


def test_bad_lookups(tmp_path):
    v = Vocabulary(["A"])
    with pytest.raises(SlrPoseError, match="'B' is not in the vocabulary"):
        v.encode(["B"])
    with pytest.raises(SlrPoseError, match="token id 5"):
        v.decode([5])
    with pytest.raises(SlrPoseError, match="not found"):
        Vocabulary.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SlrPoseError, match="not a vocabulary JSON"):
        Vocabulary.load(tmp_path / "bad.json")
    (tmp_path / "deep.json").write_text("[" * 100_000)  # was a RecursionError
    with pytest.raises(SlrPoseError, match="deep.json is not a vocabulary JSON file"):
        Vocabulary.load(tmp_path / "deep.json")
    (tmp_path / "latin1.txt").write_bytes(b"WETTER\nM\xc4NNER\n")  # was a UnicodeDecodeError
    with pytest.raises(SlrPoseError, match="latin1.txt is not UTF-8 text"):
        Vocabulary.load(tmp_path / "latin1.txt")
    (tmp_path / "twice.txt").write_text("A\nA\n")
    with pytest.raises(SlrPoseError, match="twice.txt: gloss 'A' appears twice"):
        Vocabulary.load(tmp_path / "twice.txt")
