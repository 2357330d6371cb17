"""The gloss n-gram LM: Kneser-Ney by hand, normalisation, ARPA files, numba tables, PHOENIX perplexity."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from slr_pose.decoding.lm import BOS, EOS, UNK, NGramLM
from slr_pose.decoding.vocab import Vocabulary
from slr_pose.errors import SlrPoseError
from slr_pose.decoding.lm_tables import BoundLM


def test_kneser_ney_by_hand():
    # corpus "A B", "A C"; too small for counts of counts, so D1=0.5, D2=1.0 (KenLM's fallback)
    lm = NGramLM.train([["A", "B"], ["A", "C"]], order=2)
    # unigram continuation counts A1 B1 C1 </s>2 (total 5), gamma = (3*0.5 + 1*1.0)/5 = 0.5,
    # interpolated with the uniform 1/5 over A B C </s> <unk>
    assert math.exp(lm.log_prob("A")) == pytest.approx(0.5 / 5 + 0.5 / 5)
    assert math.exp(lm.log_prob(EOS)) == pytest.approx(1.0 / 5 + 0.5 / 5)
    assert math.exp(lm.log_prob("ZZZ")) == pytest.approx(0.5 / 5)  # unknown -> <unk>
    # bigrams: after <s> only A (count 2 -> D2=1): (2-1)/2 + 0.5 * P(A)
    assert math.exp(lm.log_prob("A", [BOS])) == pytest.approx(0.5 + 0.5 * 0.2)
    assert math.exp(lm.log_prob("B", [BOS])) == pytest.approx(0.5 * 0.2)  # backed off
    assert math.exp(lm.log_prob("B", ["A"])) == pytest.approx(0.5 / 2 + 0.5 * 0.2)
    assert math.exp(lm.log_prob(EOS, ["B"])) == pytest.approx(0.5 / 1 + 0.5 * 0.3)
    assert lm.sentence_log_prob(["A", "B"]) == pytest.approx(math.log(0.6 * 0.35 * 0.65))


@pytest.mark.realdata
@pytest.mark.parametrize("context", [[], [BOS], [BOS, "WETTER"], ["MORGEN", "REGEN"], ["NEVER", "SEEN"], ["SONNE"]])
def test_distribution_sums_to_one(phoenix_lm, context):
    words = [w for w in phoenix_lm.words if w != BOS]
    assert sum(math.exp(phoenix_lm.log_prob(w, context)) for w in words) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.realdata
def test_trigram_beats_unigram_on_phoenix_dev(phoenix_train, phoenix_dev, phoenix_lm):
    train = [e.glosses for e in phoenix_train]
    dev = [e.glosses for e in phoenix_dev]
    uni = NGramLM.train(train, order=1).perplexity(dev)
    bi = NGramLM.train(train, order=2).perplexity(dev)
    tri = phoenix_lm.perplexity(dev)
    assert tri < bi < uni
    assert 40 < tri < 100 and uni > 150  # 65.4 and 170.2 when this was written
    total, n, oov = phoenix_lm.evaluate(dev)
    assert n == sum(len(s) + 1 for s in dev) and oov > 0  # dev has glosses train never saw


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["lm.arpa", "lm.arpa.gz"])
def test_arpa_round_trip(tmp_path, phoenix_lm, phoenix_dev, name):
    path = tmp_path / name
    phoenix_lm.save(path)
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as f:
            assert f.readline().strip() == "\\data\\"
    back = NGramLM.load(path)
    assert back.order == 3
    assert [len(e) for e in back.entries] == [len(e) for e in phoenix_lm.entries]
    for e in phoenix_dev[:30]:
        assert back.sentence_log_prob(e.glosses) == pytest.approx(phoenix_lm.sentence_log_prob(e.glosses), abs=1e-4)
    assert not list(tmp_path.glob("*.tmp"))


def test_damaged_gzip_arpa_is_one_clear_error(tmp_path):
    text = "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\t0\n-1\t</s>\n\n\\end\\\n"
    damaged = bytearray(gzip.compress(text.encode(), mtime=0))
    damaged[10] ^= 0xFF  # the deflate stream: zlib.error, which is no OSError
    (tmp_path / "lm.arpa.gz").write_bytes(bytes(damaged))
    with pytest.raises(SlrPoseError, match="cannot read language model .*lm.arpa.gz"):
        NGramLM.load(tmp_path / "lm.arpa.gz")


def test_arpa_header_and_bos(tmp_path):
    lm = NGramLM.train([["A", "B"], ["B"]], order=2)
    lm.save(tmp_path / "x.arpa")
    text = (tmp_path / "x.arpa").read_text().splitlines()
    assert text[:3] == ["\\data\\", f"ngram 1={len(lm.entries[1])}", f"ngram 2={len(lm.entries[2])}"]
    bos = next(line for line in text if line.split("\t")[1:2] == [BOS])
    assert bos.startswith("-99\t")  # <s> is never predicted
    assert text[-1] == "\\end\\"


@pytest.mark.parametrize(
    "content, message",
    [
        ("hello\n", "not an ARPA"),
        ("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\t<s>\n\\end\\\n", "declares 2 1-grams"),
        ("\\data\\\nngram 1=1\n\n\\1-grams:\nabc\t<s>\n\\end\\\n", "not a log10"),
        ("\\data\\\nngram 1=1\n\n\\2-grams:\n-1\t<s> a\n\\end\\\n", "out of order"),
        ("\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\t0\n-1\t</s>\n\\end\\\n", None),
        # read without complaint before: NaN scores in every beam; a word the tables cannot index (KeyError)
        ("\\data\\\nngram 1=2\n\n\\1-grams:\nnan\t<s>\t0\n-1\t</s>\n\\end\\\n", "bad.arpa:5: 'nan' is not a log10"),
        ("\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\t0\n1e308\t</s>\n\\end\\\n", "bad.arpa:6: '1e308' is not a log10"),
        ("\\data\\\nngram 1=2\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t0\n-1\t</s>\n\n\\2-grams:\n-1\t<s> A\n\\end\\\n",
         "bad.arpa: the 2-gram '<s> A' has no unigram for 'A'"),
    ],
)
def test_arpa_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "bad.arpa"
    path.write_text(content)
    if message is None:
        assert NGramLM.load(path).order == 1
    else:
        with pytest.raises(SlrPoseError, match=message):
            NGramLM.load(path)
    with pytest.raises(SlrPoseError, match="not found"):
        NGramLM.load(tmp_path / "missing.arpa")


@pytest.mark.realdata
def test_bound_tables_score_like_the_model(phoenix_lm, phoenix_vocab, phoenix_dev):
    bound = BoundLM(phoenix_lm, phoenix_vocab)
    assert bound.n_unknown == len([g for g in phoenix_vocab.glosses if (g,) not in phoenix_lm.entries[1]])
    for e in phoenix_dev[:60]:
        state, history = bound.bos_state, [BOS]
        for g in e.glosses:
            lp, state = bound.score(state, phoenix_vocab.id(g))
            assert lp == pytest.approx(phoenix_lm.log_prob(g, history), abs=1e-12)
            history.append(g)
        assert bound.end_score(state) == pytest.approx(phoenix_lm.log_prob(EOS, history), abs=1e-12)


def test_tables_of_a_loaded_model_without_unk(tmp_path):
    path = tmp_path / "m.arpa"
    path.write_text("\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-0.5\t<s>\t-0.3\n-0.3\t</s>\t0\n-0.4\tA\t0\n\n"
                    "\\2-grams:\n-0.1\t<s> A\n\n\\end\\\n")  # fmt: skip
    lm = NGramLM.load(path)
    vocab = Vocabulary(["A", "B"])
    bound = BoundLM(lm, vocab)
    lp, state = bound.score(bound.bos_state, vocab.id("A"))
    assert lp == pytest.approx(-0.1 * math.log(10))
    lp_b, _ = bound.score(bound.bos_state, vocab.id("B"))  # B: no unigram and no <unk>
    assert lp_b == pytest.approx(lm.log_prob("B", [BOS])) and lp_b < -20
    assert UNK not in lm.words


def test_bad_training_input():
    with pytest.raises(SlrPoseError, match="order"):
        NGramLM.train([["A"]], order=0)
    with pytest.raises(SlrPoseError, match="no gloss sequences"):
        NGramLM.train([], order=2)


def test_higher_order_models_normalise():
    rng = np.random.default_rng(0)
    words = list("ABCDE")
    data = [[words[i] for i in rng.integers(0, 5, size=rng.integers(1, 8))] for _ in range(300)]
    lm = NGramLM.train(data, order=4)
    for ctx in ([BOS], ["A", "B", "C"], ["E", "E", "E"], [BOS, "D", "A"]):
        assert sum(math.exp(lm.log_prob(w, ctx)) for w in [*words, EOS, UNK]) == pytest.approx(1.0, abs=1e-9)
