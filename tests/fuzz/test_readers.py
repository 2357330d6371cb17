"""Every reader of user files, fuzzed: a damaged real file gives valid data or one clear line.

The targets (strategies, checks, seeds) live in ``targets.py``; the number of
cases comes from the hypothesis profile in ``conftest.py``.
"""

import importlib.util

import pytest
from hypothesis import given

from tests.conftest import needs_holistic
from tests.fuzz.targets import NEEDS_SHARED, TARGETS

#: these readers are torch's (checkpoints, decoding settings and scores of trained runs)
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def strategy(name: str):
    return TARGETS[name][0]


def check(name: str, case) -> None:
    TARGETS[name][1](case)


def test_every_target_has_a_test_marked_by_the_data_it_needs():
    tests = {name: globals().get(f"test_{name}") for name in TARGETS}
    assert all(tests.values()), [name for name, test in tests.items() if test is None]
    real = {name for name, test in tests.items() if any(m.name == "realdata" for m in getattr(test, "pytestmark", []))}
    assert real == NEEDS_SHARED


@given(strategy("column_spec"))
def test_column_spec(case):
    check("column_spec", case)


@given(strategy("npy"))
def test_npy(case):
    check("npy", case)


@given(strategy("npz"))
def test_npz(case):
    check("npz", case)


@pytest.mark.realdata
@given(case=strategy("kaggle_parquet"))
def test_kaggle_parquet(shared_data, case):
    check("kaggle_parquet", case)


@pytest.mark.realdata
@given(case=strategy("kaggle_index"))
def test_kaggle_index(shared_data, case):
    check("kaggle_index", case)


@needs_holistic  # pose-format writes its seed through its MediaPipe module, which needs mediapipe < 0.10.30
@given(strategy("pose_format"))
def test_pose_format(case):
    check("pose_format", case)


@pytest.mark.realdata
@given(case=strategy("arpa"))
def test_arpa(shared_data, case):
    check("arpa", case)


@pytest.mark.realdata
@given(case=strategy("stm"))
def test_stm(shared_data, case):
    check("stm", case)


@pytest.mark.realdata
@given(case=strategy("ctm"))
def test_ctm(shared_data, case):
    check("ctm", case)


@pytest.mark.realdata
@given(case=strategy("corpus"))
def test_corpus(shared_data, case):
    check("corpus", case)


@pytest.mark.realdata
@given(case=strategy("timed_table"))
def test_timed_table(shared_data, case):
    check("timed_table", case)


@pytest.mark.realdata
@given(case=strategy("phoenix"))
def test_phoenix(shared_data, case):
    check("phoenix", case)


@pytest.mark.realdata
@given(case=strategy("gloss_vocab"))
def test_gloss_vocab(shared_data, case):
    check("gloss_vocab", case)


@pytest.mark.realdata
@given(case=strategy("vocabulary"))
def test_vocabulary(shared_data, case):
    check("vocabulary", case)


@given(strategy("manifest"))
def test_manifest(case):
    check("manifest", case)


@given(strategy("config_yaml"))
def test_config_yaml(case):
    check("config_yaml", case)


@given(strategy("config_dict"))
def test_config_dict(case):
    check("config_dict", case)


@pytest.mark.slow
@needs_torch
@given(strategy("checkpoint"))
def test_checkpoint(case):
    check("checkpoint", case)


@needs_torch
@given(strategy("decoding_settings"))
def test_decoding_settings(case):
    check("decoding_settings", case)


@given(strategy("grouping"))
def test_grouping(case):
    check("grouping", case)


@needs_torch
@given(strategy("fusion_scores"))
def test_fusion_scores(case):
    check("fusion_scores", case)


@given(strategy("pose_store"))
def test_pose_store(case):
    check("pose_store", case)
