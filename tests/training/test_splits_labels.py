import numpy as np
import pytest

from slr_pose.errors import SlrPoseError
from slr_pose.training.config import SplitConfig
from slr_pose.training.labels import Grouping, LabelSpace
from slr_pose.training.splits import assign_splits, k_shot


def test_signer_split_holds_out_whole_signers():
    signers = [f"p{i % 10}" for i in range(100)]
    strata = ["x"] * 100
    out = assign_splits([""] * 100, signers, strata, SplitConfig(mode="signer", val_fraction=0.2, test_fraction=0.2, seed=3))
    by_split = {s: {signers[i] for i in range(100) if out[i] == s} for s in ("train", "val", "test")}
    assert len(by_split["test"]) == 2 and len(by_split["val"]) == 2 and len(by_split["train"]) == 6
    assert not (by_split["test"] & by_split["train"]) and not (by_split["val"] & by_split["train"])
    again = assign_splits([""] * 100, signers, strata, SplitConfig(mode="signer", val_fraction=0.2, test_fraction=0.2, seed=3))
    assert (again == out).all()


def test_signer_folds_cover_every_signer_once():
    signers = [f"p{i}" for i in range(21)]
    seen = []
    for fold in range(7):
        out = assign_splits([""] * 21, signers, ["x"] * 21, SplitConfig(mode="signer", folds=7, fold=fold, val_fraction=0.0))
        seen += [signers[i] for i in np.flatnonzero(out == "test")]
    assert sorted(seen) == sorted(signers)


def test_random_split_is_stratified():
    strata = ["a"] * 50 + ["b"] * 10
    out = assign_splits([""] * 60, [""] * 60, strata, SplitConfig(mode="random", val_fraction=0.2, test_fraction=0.2))
    assert (out[:50] == "test").sum() == 10 and (out[50:] == "test").sum() == 2
    assert (out[50:] == "val").sum() == 2


def test_random_folds_are_scikit_learns_stratified_k_fold_and_test_every_sample_once():
    from sklearn.model_selection import StratifiedKFold

    strata = [f"ase/{c}" for c in "abcd" for _ in range(10)] + ["ase/e"] * 5
    splits = [assign_splits([""] * 45, [""] * 45, strata, SplitConfig(mode="random", folds=5, fold=k, seed=7,
                                                                       val_fraction=0.25)) for k in range(5)]
    tested = np.array([s == "test" for s in splits])
    assert (tested.sum(axis=0) == 1).all()  # every sample is in exactly one test fold
    want = list(StratifiedKFold(5, shuffle=True, random_state=7).split(np.zeros(45), strata))
    for k, s in enumerate(splits):
        assert sorted(np.flatnonzero(s == "test")) == sorted(want[k][1])
        for c in "abcde":  # stratified: each fold tests 2 of each 10-sample class, 1 of the 5-sample one
            members = [i for i, x in enumerate(strata) if x == f"ase/{c}"]
            assert sum(s[i] == "test" for i in members) == (1 if c == "e" else 2)
        assert (s == "val").sum() == 9 and not ((s == "val") & (s == "test")).any()  # 25% of the 36 others
    with pytest.raises(SlrPoseError, match="5 stratified folds need at least 5 samples"):
        assign_splits([""] * 44, [""] * 44, strata[:44], SplitConfig(mode="random", folds=5, fold=0))
    with pytest.raises(SlrPoseError, match="split fold 5 is not in 0..4"):
        assign_splits([""] * 45, [""] * 45, strata, SplitConfig(mode="random", folds=5, fold=5))


def test_column_split_rejects_unknown_values():
    with pytest.raises(SlrPoseError, match="found 'dev'"):
        assign_splits(["train", "dev"], ["a", "b"], ["x", "x"], SplitConfig(mode="column"))
    with pytest.raises(SlrPoseError, match="found ''"):
        assign_splits(["train", ""], ["a", "b"], ["x", "x"], SplitConfig(mode="column"))


def test_signer_split_needs_signers():
    with pytest.raises(SlrPoseError, match="needs a signer"):
        assign_splits(["", ""], ["a", ""], ["x", "x"], SplitConfig(mode="signer"))


def test_k_shot_keeps_k_per_class_reproducibly():
    idx = np.arange(30)
    classes = ["a"] * 10 + ["b"] * 15 + ["c"] * 5
    keep = k_shot(idx, classes, 3, seed=1)
    assert len(keep) == 9
    assert [classes[i] for i in keep].count("c") == 3
    assert (k_shot(idx, classes, 3, seed=1) == keep).all()
    assert not (k_shot(idx, classes, 3, seed=2) == keep).all()


def test_label_space():
    ls = LabelSpace.from_samples([("mfs", "yo"), ("ase", "hello"), ("mfs", "doctor"), ("ase", "hello")])
    assert ls.languages == ("ase", "mfs") and ls.sizes == {"ase": 1, "mfs": 2}
    assert ls.class_index("mfs", "yo") == 1
    with pytest.raises(SlrPoseError, match="label 'tu' is not a class of language 'mfs'"):
        ls.class_index("mfs", "tu")
    with pytest.raises(SlrPoseError, match="language 'rsl' has no head"):
        ls.language_index("rsl")
    assert LabelSpace.from_json(ls.to_json()) == ls


def test_grouping_table(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("language,gloss,group\nmfs,doctor,DOC\nmfs,dolor,DOC\n,hello,HI\n")
    g = Grouping.load(p)
    assert g.apply("mfs", "doctor") == "DOC" and g.apply("mfs", "yo") == "yo"
    assert g.apply("ase", "hello") == "HI"
    assert g.is_grouped("mfs", "dolor") and not g.is_grouped("mfs", "yo")
    g.save(tmp_path / "again.csv")
    assert Grouping.load(tmp_path / "again.csv") == g
    (tmp_path / "bad.csv").write_text("gloss,grp\na,b\n")
    with pytest.raises(SlrPoseError, match="needs a header"):
        Grouping.load(tmp_path / "bad.csv")
    (tmp_path / "two.csv").write_text("gloss,group\na,X\na,Y\n")
    with pytest.raises(SlrPoseError, match="line 3: gloss 'a' is in two groups"):
        Grouping.load(tmp_path / "two.csv")
    (tmp_path / "latin1.csv").write_bytes(b"gloss,group\nm\xe4dchen,X\n")  # was a UnicodeDecodeError
    with pytest.raises(SlrPoseError, match="grouping table .*latin1.csv is not UTF-8 CSV"):
        Grouping.load(tmp_path / "latin1.csv")
