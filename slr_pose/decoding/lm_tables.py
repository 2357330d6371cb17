"""An n-gram model as flat arrays that numba kernels can query.

Every n-gram of the model gets an id 1..E; id 0 is the empty context. An LM
*state* is the id of the context n-gram (at most n-1 glosses) that the next
query starts from. A hash table (open addressing, linear probing) maps
``state * W + word`` to the id of the n-gram ``context + word``; a query that
misses adds the context's backoff and retries from the context's suffix, as
in any ARPA back-off model. Scoring one gloss is therefore a few hash probes,
with no Python objects, inside the beam search loop.
"""

from __future__ import annotations

import numba
import numpy as np

from slr_pose.decoding.hash_table import build, find
from slr_pose.decoding.lm import BOS, EOS, UNK, UNKNOWN_LOG_PROB, NGramLM
from slr_pose.decoding.vocab import Vocabulary


@numba.njit(cache=True, inline="always")
def _lookup(hkeys: np.ndarray, hvals: np.ndarray, key: np.int64) -> int:
    s = find(hkeys, key)
    return hvals[s] if hkeys[s] == key else -1


@numba.njit(cache=True)
def lm_score(tables, n_words: int, state: int, word: int) -> tuple[float, int]:
    """Natural log P(word | state) and the state after ``word``.

    ``tables`` is :attr:`BoundLM.tables`; ``word`` an LM word id (``BoundLM.token_word``).
    """
    hkeys, hvals, logp, backoff, suffix, next_state, unk_logp = tables
    acc = 0.0
    s = state
    if word < 0:  # a gloss the model has no unigram for, and no <unk> either: back off to nothing
        while s != 0:
            acc += backoff[s]
            s = suffix[s]
        return acc + unk_logp[0], 0
    while True:
        e = _lookup(hkeys, hvals, np.int64(s) * n_words + word)
        if e >= 0:
            return acc + logp[e], next_state[e]
        if s == 0:
            return acc + unk_logp[0], 0
        acc += backoff[s]
        s = suffix[s]


class BoundLM:
    """An :class:`NGramLM` bound to a CTC vocabulary, ready for the numba beam search.

    Attributes:
        lm: the model.
        vocabulary: the CTC vocabulary whose ids are scored.
        token_word: int32 ``(C,)``, the LM word id of each CTC id (-1 for the blank;
            glosses the LM does not know map to ``<unk>``).
        bos_state / eos_word: the state at a sentence start and the id of ``</s>``.
        tables: the arrays :func:`lm_score` reads.
    """

    def __init__(self, lm: NGramLM, vocabulary: Vocabulary) -> None:
        self.lm, self.vocabulary = lm, vocabulary
        words = sorted(lm.words)
        word_id = {w: i for i, w in enumerate(words)}
        self.n_words = len(words)
        grams = [g for k in range(1, lm.order + 1) for g in lm.entries[k]]
        gram_id = {g: i for i, g in enumerate(grams, start=1)}
        n = len(grams) + 1
        logp, backoff = np.zeros(n), np.zeros(n)
        suffix, next_state = np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.int32)
        keys = np.empty(n - 1, dtype=np.int64)

        def longest_known(g: tuple[str, ...]) -> int:
            while g and g not in gram_id:
                g = g[1:]
            return gram_id.get(g, 0)

        for g, i in gram_id.items():
            logp[i], backoff[i] = lm.entries[len(g)][g]
            context = gram_id.get(g[:-1], 0) if len(g) > 1 else 0
            keys[i - 1] = context * self.n_words + word_id[g[-1]]
            suffix[i] = longest_known(g[1:])
            # a full-order n-gram cannot be a context: the next query starts from its suffix
            next_state[i] = longest_known(g[1:]) if len(g) == lm.order else i
        size = 1 << max(4, int(2 * len(grams)).bit_length())
        hkeys, hvals = build(keys, np.arange(1, n, dtype=np.int32), size)
        unk = lm.entries[1].get((UNK,))
        unk_logp = np.array([UNKNOWN_LOG_PROB if unk is None else unk[0]])
        self.tables = (hkeys, hvals, logp, backoff, suffix, next_state, unk_logp)

        self.bos_state = gram_id[(BOS,)] if lm.order > 1 else 0
        self.eos_word = word_id[EOS]
        unk_word = word_id.get(UNK, -2)  # -2: no such word anywhere, scored with UNKNOWN_LOG_PROB
        self.token_word = np.full(len(vocabulary), -1, dtype=np.int32)
        for i, g in enumerate(vocabulary.glosses, start=1):
            self.token_word[i] = word_id.get(g, unk_word)
        self.n_unknown = sum(g not in word_id for g in vocabulary.glosses)

    def __repr__(self) -> str:
        return f"BoundLM({self.lm!r}, {self.vocabulary!r}, {self.n_unknown} glosses unknown to the LM)"

    def score(self, state: int, token: int) -> tuple[float, int]:
        """Natural log P of CTC token id ``token`` after ``state``, and the next state."""
        return lm_score(self.tables, self.n_words, state, int(self.token_word[token]))

    def state_after(self, tokens, state: int | None = None) -> int:
        """The LM state after CTC token ids ``tokens``, from ``state`` (default: sentence start)."""
        s = self.bos_state if state is None else state
        for t in tokens:
            s = self.score(s, int(t))[1]
        return s

    def end_score(self, state: int) -> float:
        """Natural log P(``</s>`` | state)."""
        return lm_score(self.tables, self.n_words, state, self.eos_word)[0]
