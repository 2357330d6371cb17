"""Shared inputs of the decoding tests: PHOENIX-2014 annotations, small posteriors."""

from __future__ import annotations

import pytest

from slr_pose.decoding.corpus import read_corpus_csv
from slr_pose.decoding.vocab import Vocabulary


@pytest.fixture(scope="session")
def phoenix2014(phoenix_dir):
    return phoenix_dir / "phoenix2014"


@pytest.fixture(scope="session")
def phoenix_vocab(phoenix2014) -> Vocabulary:
    return Vocabulary.load(phoenix2014 / "gloss_vocab.tsv")


@pytest.fixture(scope="session")
def phoenix_train(phoenix2014):
    return read_corpus_csv(phoenix2014 / "train.csv")


@pytest.fixture(scope="session")
def phoenix_dev(phoenix2014):
    return read_corpus_csv(phoenix2014 / "dev.csv")


@pytest.fixture(scope="session")
def phoenix_lm(phoenix_train):
    from slr_pose.decoding.lm import NGramLM

    return NGramLM.train([e.glosses for e in phoenix_train], order=3)
