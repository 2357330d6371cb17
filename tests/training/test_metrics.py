import numpy as np

from slr_pose.training.labels import Grouping, LabelSpace
from slr_pose.training.metrics import confusion, evaluate_scores, per_class_accuracy, topk_correct
from slr_pose.training.vssign import confused_pairs, groups_from_pairs

NEG = -1e4


def test_topk_and_per_class():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    target = np.array([1, 1, 0, 0])
    assert topk_correct(scores, target, 1).tolist() == [True, False, False, True]
    assert topk_correct(scores, target, 2).tolist() == [True, True, False, True]
    pred = scores.argmax(1)
    # class 0: 1 of 2 right, class 1: 1 of 2 right
    assert per_class_accuracy(pred, target, 3) == 0.5
    assert confusion(pred, target, 3).tolist() == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]


def test_evaluate_per_language_and_grouped():
    labels = LabelSpace({"ase": ("hello", "thankyou"), "mfs": ("doctor", "dolor", "yo")})
    scores = np.array(
        [
            [2.0, 1.0, NEG],  # ase hello -> hello
            [2.0, 1.0, NEG],  # ase thankyou -> hello (wrong)
            [0.0, 3.0, 1.0],  # mfs doctor -> dolor (wrong, but same VSSign group)
            [0.0, 0.0, 5.0],  # mfs yo -> yo
        ]
    )
    target = np.array([0, 1, 0, 2])
    language = np.array([0, 0, 1, 1])
    grouping = Grouping({("mfs", "doctor"): "DOC", ("mfs", "dolor"): "DOC"})
    ev = evaluate_scores(scores, target, language, labels, grouping=grouping)
    s = ev.summary
    assert s["top1"] == 0.5 and s["languages"]["ase"]["top1"] == 0.5 and s["languages"]["mfs"]["top1"] == 0.5
    assert s["languages"]["mfs"]["chance"] == 1 / 3
    assert s["grouped"] == {"top1": 0.75, "vssign_top1": 1.0, "non_vssign_top1": 2 / 3, "vssign_samples": 1}
    assert ev.confusions["mfs"].tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]


def test_vssign_suggestion_from_confusions():
    names = ("a", "b", "c", "d")
    m = np.array([[6, 4, 0, 0], [3, 7, 0, 0], [0, 0, 9, 1], [0, 0, 0, 10]])
    pairs = confused_pairs(m, names, "x", threshold=0.2)
    assert [(p.a, p.b) for p in pairs] == [("a", "b")]
    assert abs(pairs[0].rate - (0.4 + 0.3) / 2) < 1e-9
    grouping, score = groups_from_pairs(pairs + confused_pairs(m, names, "x", threshold=0.05))
    assert grouping.apply("x", "a") == "a|b" and grouping.apply("x", "c") == "c|d"
