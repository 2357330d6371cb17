"""Synthetic posteriors: confusions taken from a recogniser's confusion table, and the uniform draw."""

from __future__ import annotations

import numpy as np
import pytest

from slr_pose.decoding.ctc import greedy_decode
from slr_pose.decoding.synthetic import (
    Confusions,
    PosteriorStyle,
    read_confusion_csv,
    synthetic_log_probs,
)
from slr_pose.errors import SlrPoseError

# rows = true gloss, columns = what the model said; C was never in the test set
NAMES = ["A", "B", "C"]
COUNTS = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
GLOSSES = ["A", "B", "C", "D"]  # CTC ids 1..4; D is not in the table


def test_rates_and_confusers_follow_the_counts_smoothed_towards_the_pool():
    c = Confusions.from_counts(COUNTS, NAMES, GLOSSES, prior=2.0)
    pooled = 3 / 14  # 3 errors in 14 samples
    assert c.num_classes == 5
    assert c.rate == pytest.approx([0.0, (2 + 2 * pooled) / 12, (1 + 2 * pooled) / 6, pooled, pooled])
    # the model said B twice and A once by mistake: the pooled confusers are A 1/3, B 2/3
    assert c.said[1] == pytest.approx([0, 0, 1, 0, 0])  # A's own errors and the pool both say B
    assert c.said[2] == pytest.approx([0, 1, 0, 0, 0])  # B: its error and the pool's other part say A
    assert c.said[3] == pytest.approx([0, 1 / 3, 2 / 3, 0, 0])  # C, never seen: the pool
    assert c.said[4] == pytest.approx([0, 1 / 3, 2 / 3, 0, 0])  # D, not in the table: the pool
    assert c.said[0].sum() == 0 and (np.diag(c.said) == 0).all() and (c.said[:, 0] == 0).all()


def test_without_a_prior_the_counts_alone_decide():
    c = Confusions.from_counts(COUNTS, NAMES, GLOSSES, prior=0.0)
    assert c.rate[1:3] == pytest.approx([0.2, 0.25])
    assert c.said[1] == pytest.approx([0, 0, 1, 0, 0])


def test_a_table_read_from_evaluation_csv_files_sums_runs(tmp_path):
    paths = []
    for k in range(2):
        p = tmp_path / f"confusion_ase_{k}.csv"
        lines = ["true \\ predicted,A,B,C"] + [",".join([n, *map(str, row)]) for n, row in zip(NAMES, COUNTS)]
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(p)
    names, counts = read_confusion_csv(paths[0])
    assert names == NAMES and counts.tolist() == COUNTS.tolist()
    one = Confusions.from_confusion_csv(paths[0], GLOSSES, prior=0.0)
    two = Confusions.from_confusion_csv(paths, GLOSSES, prior=0.0)  # doubled counts: same rates without a prior
    assert two.rate == pytest.approx(one.rate) and two.said == pytest.approx(one.said)
    (tmp_path / "bad.csv").write_text("true \\ predicted,A,B\nA,1,x\nB,0,1\n")
    with pytest.raises(SlrPoseError, match="not a whole number"):
        read_confusion_csv(tmp_path / "bad.csv")
    (tmp_path / "other.csv").write_text("true \\ predicted,A,B\nA,1,0\nB,0,1\n")
    with pytest.raises(SlrPoseError, match="other glosses"):
        Confusions.from_confusion_csv([paths[0], tmp_path / "other.csv"], GLOSSES)


def test_a_confused_gloss_puts_its_confuser_ahead_by_the_lead():
    # A (id 1) is always confused, always with C (id 3); no noise: the lead is exact
    rate = np.array([0.0, 1.0, 0.0, 0.0])
    said = np.zeros((4, 4))
    said[1, 3] = 1.0
    style = PosteriorStyle(noise=0.0, confusion_lead=2.0, confusion_margin=0.0, weak=0.0)
    lp = synthetic_log_probs([1, 2], 12, 4, np.random.default_rng(0), style, confusions=Confusions(rate, said))
    fired = lp[:, 1] > lp[:, 0]
    assert fired.any()
    assert lp[fired, 3] - lp[fired, 1] == pytest.approx(np.full(fired.sum(), 2.0), abs=1e-5)
    assert greedy_decode(lp).tokens.tolist() == [3, 2]  # the recogniser's error, B untouched


def test_uniform_confusers_are_any_other_gloss_never_the_blank_or_itself():
    c = Confusions.uniform(6, rate=1.0)
    assert c.rate.tolist() == [0, 1, 1, 1, 1, 1]
    rng = np.random.default_rng(0)
    drawn = {c.draw(2, rng) for _ in range(400)}
    assert drawn == {1, 3, 4, 5}


def test_confusions_must_cover_the_posteriors_classes():
    with pytest.raises(SlrPoseError, match="cover 5 classes"):
        synthetic_log_probs([1], 10, 7, np.random.default_rng(0), confusions=Confusions.uniform(5))
    with pytest.raises(SlrPoseError, match="square table"):
        Confusions.from_counts(np.ones((2, 3)), NAMES, GLOSSES)
