"""A gloss n-gram language model: interpolated modified Kneser-Ney, stored as ARPA.

Sign language corpora are small (PHOENIX-2014 train: 5,671 sentences, ~65k
glosses), so a count-based n-gram model trains in a second in pure Python and
is the standard way to add gloss context to CTC beam search.

Training follows KenLM's ``lmplz`` (Chen & Goodman 1998, "An empirical study
of smoothing techniques for language modeling", section 3): each sentence is
padded with one ``<s>`` and one ``</s>``; the highest order uses raw counts,
lower orders use continuation counts (the number of distinct words seen to
the left) except for n-grams that start with ``<s>``, which keep raw counts;
three discounts per order, D1, D2, D3+, come from counts of counts; each
order is interpolated with the next lower one, and unigrams with the uniform
distribution over the vocabulary (which gives ``<unk>`` its probability).
The interpolated model is then written in backoff form (ARPA), where an
n-gram seen in training stores its interpolated probability and a context
stores its interpolation weight as backoff, so KenLM or SRILM can load it.

All log-probabilities in this API are natural logs; ARPA files hold log10.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from slr_pose.decoding.arpa import NGram, read_arpa, write_arpa
from slr_pose.errors import SlrPoseError

BOS, EOS, UNK = "<s>", "</s>", "<unk>"

#: Discounts used when counts of counts cannot estimate them (tiny corpora);
#: the same values as KenLM's ``--discount_fallback``.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)



def _discounts(adjusted: Iterable[int]) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from counts of counts (Chen & Goodman eq. 26)."""
    t = Counter(c for c in adjusted if c <= 4)
    t1, t2, t3, t4 = (t[i] for i in (1, 2, 3, 4))
    if min(t1, t2, t3, t4) == 0:
        return FALLBACK_DISCOUNTS
    y = t1 / (t1 + 2 * t2)
    d = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
    if not all(0 < di < i + 1 for i, di in enumerate(d)):
        return FALLBACK_DISCOUNTS
    return d


class NGramLM:
    """An n-gram model over glosses in backoff form.

    Args:
        order: n.
        entries: ``entries[k]`` maps each k-gram (tuple of glosses, k = 1..n)
            to ``(log_prob, log_backoff)`` in natural log; index 0 is unused.
            Unigrams must include ``<s>`` and ``</s>``.

    Build one with :meth:`train` or :meth:`load`.
    """

    def __init__(self, order: int, entries: list[dict[NGram, tuple[float, float]]]) -> None:
        if order < 1 or len(entries) != order + 1:
            raise SlrPoseError(f"an order-{order} model needs n-gram tables for orders 1..{order}")
        for w in (BOS, EOS):
            if (w,) not in entries[1]:
                raise SlrPoseError(f"the language model has no unigram {w}")
        self.order = order
        self.entries = entries
        self.words: tuple[str, ...] = tuple(g[0] for g in entries[1])

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(e)} {k}-grams" for k, e in enumerate(self.entries) if k)
        return f"NGramLM(order={self.order}: {sizes})"

    # -- training --------------------------------------------------------------------------
    @classmethod
    def train(cls, sequences: Iterable[Sequence[str]], order: int = 3) -> "NGramLM":
        """Train an interpolated modified Kneser-Ney model on gloss sequences.

        Args:
            sequences: one gloss list per sentence (empty sentences count as ``<s> </s>``).
            order: n, at least 1 (1 is an absolutely discounted unigram model).
        """
        if not isinstance(order, int) or order < 1:
            raise SlrPoseError(f"language model order must be a positive integer, got {order!r}")
        raw: list[Counter] = [Counter() for _ in range(order + 1)]
        n_sentences = 0
        for seq in sequences:
            if isinstance(seq, str):
                seq = seq.split()
            s = [BOS, *seq, EOS]
            n_sentences += 1
            for k in range(1, order + 1):
                for i in range(len(s) - k + 1):
                    raw[k][tuple(s[i : i + k])] += 1
        if n_sentences == 0:
            raise SlrPoseError("no gloss sequences to train a language model on")
        adjusted = cls._adjusted_counts(raw, order)

        probs: list[dict[NGram, float]] = [dict() for _ in range(order + 1)]
        gammas: list[dict[NGram, float]] = [dict() for _ in range(order + 1)]
        vocab = [g[0] for g in adjusted[1] if g[0] != BOS]
        if UNK not in vocab:
            vocab.append(UNK)
        for k in range(1, order + 1):
            counts = {g: c for g, c in adjusted[k].items() if g != (BOS,)}
            d = _discounts(counts.values())
            by_context: dict[NGram, list[tuple[NGram, int]]] = defaultdict(list)
            for g, c in counts.items():
                by_context[g[:-1]].append((g, c))
            for h, grams in by_context.items():
                total = sum(c for _, c in grams)
                mass = sum(d[min(c, 3) - 1] for _, c in grams)
                gammas[k][h] = mass / total
                for g, c in grams:
                    lower = 1.0 / len(vocab) if k == 1 else probs[k - 1][g[1:]]
                    probs[k][g] = (c - d[min(c, 3) - 1]) / total + gammas[k][h] * lower
            if k == 1:
                for w in vocab:  # never-seen words (only <unk> here) get the uniform share
                    probs[1].setdefault((w,), gammas[1][()] / len(vocab))

        entries: list[dict[NGram, tuple[float, float]]] = [dict() for _ in range(order + 1)]
        entries[1][(BOS,)] = (-math.inf, 0.0)
        for k in range(1, order + 1):
            for g, p in probs[k].items():
                gamma = gammas[k + 1].get(g) if k < order else None
                entries[k][g] = (math.log(p), math.log(gamma) if gamma else 0.0)
        if order > 1:
            entries[1][(BOS,)] = (-math.inf, math.log(gammas[2][(BOS,)]))
        return cls(order, entries)

    @staticmethod
    def _adjusted_counts(raw: list[Counter], order: int) -> list[dict[NGram, int]]:
        """Raw counts at the top order and for n-grams starting with <s>; continuation counts elsewhere."""
        adjusted: list[dict[NGram, int]] = [dict() for _ in range(order + 1)]
        adjusted[order] = dict(raw[order])
        for k in range(order - 1, 0, -1):
            left = Counter(g[1:] for g in raw[k + 1])
            adjusted[k] = {g: (c if g[0] == BOS else left[g]) for g, c in raw[k].items()}
        return adjusted

    # -- queries ---------------------------------------------------------------------------
    def _word(self, w: str) -> str:
        return w if (w,) in self.entries[1] else UNK

    def log_prob(self, word: str, context: Sequence[str] = ()) -> float:
        """Natural log P(word | context); the context may start with ``<s>``; unknown glosses are ``<unk>``.

        Only the last n-1 glosses of the context matter.
        """
        word = self._word(word)
        ctx = tuple(self._word(w) for w in context[len(context) - (self.order - 1) :]) if self.order > 1 else ()
        acc = 0.0
        while True:
            hit = self.entries[len(ctx) + 1].get(ctx + (word,))
            if hit is not None:
                return acc + hit[0]
            if not ctx:  # a word with no unigram (an ARPA model without <unk>)
                return acc + UNKNOWN_LOG_PROB
            ctx_entry = self.entries[len(ctx)].get(ctx)
            acc += ctx_entry[1] if ctx_entry is not None else 0.0
            ctx = ctx[1:]

    def sentence_log_prob(self, glosses: Sequence[str], eos: bool = True) -> float:
        """Natural log P of a whole sentence, from ``<s>`` (and through ``</s>`` when ``eos``)."""
        history: list[str] = [BOS]
        total = 0.0
        for w in [*glosses, EOS] if eos else glosses:
            total += self.log_prob(w, history)
            history.append(w)
        return total

    def evaluate(self, sequences: Iterable[Sequence[str]]) -> tuple[float, int, int]:
        """``(sum of natural log-probs, tokens scored, out-of-vocabulary glosses)``; tokens include each ``</s>``."""
        total, n, oov = 0.0, 0, 0
        for seq in sequences:
            if isinstance(seq, str):
                seq = seq.split()
            total += self.sentence_log_prob(seq)
            n += len(seq) + 1
            oov += sum((w,) not in self.entries[1] for w in seq)
        return total, n, oov

    def perplexity(self, sequences: Iterable[Sequence[str]]) -> float:
        """exp(-mean log-prob) per gloss, sentence ends included and OOV glosses scored as ``<unk>``."""
        total, n, _ = self.evaluate(sequences)
        if n == 0:
            raise SlrPoseError("no gloss sequences to compute a perplexity on")
        return math.exp(-total / n)

    # -- storage and decoding --------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the model as an ARPA file (gzip-compressed when the name ends in ``.gz``)."""
        write_arpa(self.order, self.entries, path)

    @classmethod
    def load(cls, path: str | Path) -> "NGramLM":
        """Read an ARPA file (plain or ``.gz``), e.g. one written by :meth:`save`, KenLM or SRILM.

        For beam search, bind it to a CTC vocabulary: ``BoundLM(lm, vocabulary)`` (:mod:`.lm_tables`).
        """
        order, entries = read_arpa(path)
        try:
            return cls(order, entries)
        except SlrPoseError as e:
            raise SlrPoseError(f"{path}: {e}") from None


#: Log-probability of a word that an ARPA model has no unigram for (the model lacks ``<unk>``).
UNKNOWN_LOG_PROB = math.log(1e-10)
