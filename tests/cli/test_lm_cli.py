"""``slr-pose lm train`` / ``lm score`` on the real PHOENIX annotations and on bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from slr_pose.cli.main import cli
from slr_pose.decoding.lm import NGramLM


def run(*args: str):
    return CliRunner().invoke(cli, list(map(str, args)))


@pytest.mark.realdata
def test_train_and_score_phoenix(tmp_path, phoenix_dir):
    d = phoenix_dir / "phoenix2014"
    out = tmp_path / "p.arpa"
    r = run("lm", "train", d / "train.csv", "-o", out, "--order", "3")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "trained a 3-gram model on 5671 sentences (65211 glosses, 1231 distinct)",
        f"wrote {out} (1234 1-grams, 18833 2-grams, 43772 3-grams)",
    ]
    assert NGramLM.load(out).order == 3
    r = run("lm", "score", out, d / "dev.csv")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["perplexity 65.38 on 540 sentences (5540 glosses + 540 sentence ends, 38 glosses unknown to the model)"]
    # the STM of the same sentences reads the same glosses
    assert run("lm", "score", out, d / "phoenix2014-groundtruth-dev.stm").output == r.output
    uni = tmp_path / "u.arpa.gz"
    assert run("lm", "train", d / "train.csv", "-o", uni, "--order", "1").exit_code == 0
    assert run("lm", "score", uni, d / "dev.csv").output.startswith("perplexity 170.15 on 540 sentences")


@pytest.mark.realdata
def test_train_from_stm_with_phoenix_cleanup(tmp_path, phoenix_dir):
    stm = phoenix_dir / "phoenix2014" / "phoenix2014-groundtruth-train.stm"
    out = tmp_path / "clean.arpa"
    r = run("lm", "train", stm, "-o", out, "--order", "2", "--clean", "phoenix2014")
    assert r.exit_code == 0, r.output
    words = set(NGramLM.load(out).words)
    assert "REGION" in words and "loc-REGION" not in words and "__PU__" not in words and "__ON__" in words


def test_text_input_and_errors(tmp_path):
    text = tmp_path / "s.txt"
    text.write_text("A B C\n\nA B\nB C A\n")
    out = tmp_path / "m.arpa"
    r = run("lm", "train", text, "-o", out, "--order", "2")
    assert r.output.splitlines()[0] == "trained a 2-gram model on 3 sentences (8 glosses, 3 distinct)"
    cases = [
        (("lm", "train", tmp_path / "none.txt", "-o", out), f"Error: gloss sequence file not found: {tmp_path / 'none.txt'}"),
        (("lm", "train", text, "-o", tmp_path / "no" / "m.arpa"), f"Error: cannot write {tmp_path / 'no' / 'm.arpa'}: folder {tmp_path / 'no'} does not exist"),
        (("lm", "train", text, "-o", text), f"Error: output {text} is one of the input files; choose another name"),
        (("lm", "score", text, text), f"Error: {text} is not an ARPA language model (no \\data\\ header or n-gram sections)"),
    ]
    for args, line in cases:
        r = run(*args)
        assert r.exit_code == 1 and r.output.splitlines() == [line], r.output
    assert text.read_text() == "A B C\n\nA B\nB C A\n"  # the input survived
    for order in ("0", "1000000"):  # an order with nothing to estimate is a usage error naming the range
        r = run("lm", "train", text, "-o", tmp_path / "big.arpa", "--order", order)
        assert r.exit_code == 2 and f"'--order': {order} is not in the range 1<=x<=10" in r.output
    assert not (tmp_path / "big.arpa").exists()


def test_help_has_examples():
    for args in (("lm", "--help"), ("lm", "train", "--help"), ("lm", "score", "--help")):
        r = run(*args)
        assert r.exit_code == 0 and "slr-pose lm " in r.output and "Example" in r.output
