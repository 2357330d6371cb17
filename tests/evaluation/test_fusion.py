import json

import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.evaluation.fusion import (
    StreamScores,
    ablation,
    ablation_table,
    file_stream,
    fused,
    log_softmax_per_language,
    search_weights,
)
from slr_pose.training.labels import LabelSpace

LABELS = LabelSpace({"ase": ("hello", "thankyou"), "mfs": ("doctor", "dolor", "yo")})


def stream(name, scores, target, language, split):
    ids = np.array([f"s{i}" for i in range(len(target))], dtype=object)
    lp = log_softmax_per_language(np.asarray(scores, float), np.asarray(language), LABELS)
    return StreamScores(name, LABELS, ids, np.asarray(split, dtype=object), np.asarray(language), np.asarray(target), lp)


def test_log_softmax_stays_within_each_language():
    lp = log_softmax_per_language(np.array([[1.0, 2.0, 9.0], [1.0, 2.0, 3.0]]), np.array([0, 1]), LABELS)
    assert np.isneginf(lp[0, 2]) and np.exp(lp[0, :2]).sum() == pytest.approx(1)
    assert np.exp(lp[1]).sum() == pytest.approx(1)


def test_fusion_fixes_what_each_stream_gets_wrong():
    # stream a is right on samples 0-1, stream b on 2-3; together (b weighted up) all four
    target = [0, 1, 2, 0]
    language = [1, 1, 1, 0]
    split = ["val", "val", "test", "test"]
    a = stream("joint", [[3, 0, 0], [0, 3, 0], [2, 0, 1.5], [0, 1, 0]], target, language, split)
    b = stream("bone", [[1, 1.1, 0], [1, 1.2, 0], [0, 0, 3], [3, 0, 0]], target, language, split)
    result = ablation([a, b])
    rows = {r["streams"]: r for r in result["rows"]}
    assert rows["joint"]["test_top1"] == 0.0 and rows["bone"]["test_top1"] == 1.0
    searched = rows["joint+bone (searched weights)"]
    assert searched["val_top1"] == 1.0
    table = ablation_table(result)
    assert "| joint+bone | 1, 1 |" in table and "Validation: 2 samples; test: 2 samples." in table


def test_search_prefers_the_better_stream():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 3, 200)
    good = np.log(np.eye(3)[target] * 0.8 + 0.1)
    noise = np.log(rng.dirichlet(np.ones(3), 200))
    w = search_weights(np.stack([noise, good]), target)
    assert w[1] > w[0]
    assert (fused(np.stack([noise, good]), w).argmax(1) == target).mean() == 1.0


def test_scores_file_stream(tmp_path):
    p = tmp_path / "rgb.npz"
    np.savez(p, ids=np.array(["s0", "s1"]), split=np.array(["val", "test"]), language=np.array(["mfs", "ase"]),
             scores=np.array([[0.0, 5.0, 0.0], [5.0, 0.0, 0.0]]), classes=np.array(json.dumps(LABELS.to_json())))
    s = file_stream(p, LABELS)
    assert s.name == "rgb" and s.language.tolist() == [1, 0] and s.log_probs[0].argmax() == 1
    other = LabelSpace({"ase": ("hello",)})
    with pytest.raises(SlrPoseError, match="other classes"):
        file_stream(p, other)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(SlrPoseError, match="is not a scores file"):
        file_stream(tmp_path / "bad.npz", LABELS)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"classes": np.array("{")}, "classes is not a JSON string"),  # was a JSONDecodeError
        ({"classes": np.array("[]")}, "classes is not a JSON string"),  # was an AttributeError
        ({"scores": np.array(1.0)}, r"scores is float64 \(\), expected numbers"),  # was an IndexError
        ({"split": np.array(["val"])}, r"split has shape \(1,\), expected \(2,\)"),  # was read: one split, two rows
        ({"scores": np.array([[0.0, np.nan, 0.0], [5.0, 0.0, 0.0]])}, "sample 's0' has NaN"),  # was read: NaN fused
        ({"language": np.array(["mfs", "xx"])}, "rgb.npz: language 'xx' has no head in these runs"),
    ],
)
def test_damaged_scores_files_are_one_clear_error(tmp_path, change, message):
    arrays = {"ids": np.array(["s0", "s1"]), "split": np.array(["val", "test"]), "language": np.array(["mfs", "ase"]),
              "scores": np.zeros((2, 3)), "classes": np.array(json.dumps(LABELS.to_json()))}
    np.savez(tmp_path / "rgb.npz", **{**arrays, **change})
    with pytest.raises(SlrPoseError, match=message):
        file_stream(tmp_path / "rgb.npz", LABELS)
    (tmp_path / "cut.npz").write_bytes((tmp_path / "rgb.npz").read_bytes()[:-30])  # was zipfile.BadZipFile
    with pytest.raises(SlrPoseError, match="cut.npz is not a scores file"):
        file_stream(tmp_path / "cut.npz", LABELS)


def test_streams_of_other_classes_are_refused():
    a = stream("a", [[1, 0, 0]], [0], [1], ["val"])
    b = StreamScores("b", LabelSpace({"mfs": ("x", "y", "z")}), a.ids, a.split, np.array([0]), a.target, a.log_probs)
    with pytest.raises(SlrPoseError, match="different classes"):
        ablation([a, b])
