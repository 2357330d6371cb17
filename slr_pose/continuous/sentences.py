"""Gloss sentences drawn from a language model, for stitched continuous data.

A stitched benchmark is only a test of continuous recognition if its gloss
sequences have structure that a language model can learn: some transitions
frequent, some rare, some impossible. Two sources of sentences:

* :class:`BigramGrammar` - a seeded random bigram model over the available
  glosses. Each gloss is allowed a few successors (``density`` of the
  vocabulary, at least one); a random cycle through all glosses is always
  allowed, so every gloss can follow and be followed. Their probabilities are
  half Dirichlet-drawn, half even (``even=0.5``), so that some successors are
  clearly preferred yet none all but vanishes, which with two or three glosses
  would leave one sentence; the first gloss is drawn the same way over all
  glosses. Transitions not allowed never occur.
* :class:`LMGrammar` - any language model with ``log_prob(word, context)``
  (natural log, e.g. :class:`slr_pose.decoding.lm.NGramLM` trained on real
  gloss sentences), its next-gloss distribution renormalised over the
  available glosses.

Both draw a sentence of a given length with :meth:`sample`; the length itself
is drawn by the caller (uniform between a minimum and a maximum), so sentence
ends are not modelled.
"""

from __future__ import annotations

import math
from typing import Protocol, Sequence

import numpy as np

from slr_pose.errors import SlrPoseError


class Grammar(Protocol):
    glosses: tuple[str, ...]

    def sample(self, rng: np.random.Generator, length: int) -> list[str]: ...

    def describe(self) -> dict: ...


class BigramGrammar:
    """A bigram model given by its start and transition probabilities.

    Args:
        glosses: the K glosses.
        start: ``(K,)`` probabilities of the first gloss.
        transitions: ``(K, K)`` row-stochastic, ``transitions[i, j] = P(j | i)``.
    """

    def __init__(self, glosses: Sequence[str], start: np.ndarray, transitions: np.ndarray) -> None:
        self.glosses = tuple(glosses)
        k = len(self.glosses)
        self.start = np.asarray(start, dtype=np.float64)
        self.transitions = np.asarray(transitions, dtype=np.float64)
        if k == 0:
            raise SlrPoseError("a grammar needs at least one gloss")
        if self.start.shape != (k,) or self.transitions.shape != (k, k):
            raise SlrPoseError(f"a grammar over {k} glosses needs {k} start and {k}x{k} transition probabilities")
        for row in (self.start, *self.transitions):
            if (row < 0).any() or not math.isclose(row.sum(), 1.0, rel_tol=1e-6):
                raise SlrPoseError("grammar probabilities must be non-negative and sum to 1 per row")
        self._index = {g: i for i, g in enumerate(self.glosses)}

    @classmethod
    def random(
        cls, glosses: Sequence[str], seed: int, *, density: float = 0.5, concentration: float = 1.0, even: float = 0.5
    ) -> "BigramGrammar":
        """A seeded random sparse bigram model (see the module docs).

        Args:
            density: fraction of the glosses each gloss may be followed by.
            concentration: Dirichlet parameter of the weights; below 1 makes
                a few successors dominate, above 1 evens them out.
            even: share of each row's probability spread evenly over its
                allowed successors (0: pure Dirichlet draws).
        """
        if not 0 < density <= 1:
            raise SlrPoseError(f"grammar density {density} must be in (0, 1]")
        if not concentration > 0:
            raise SlrPoseError(f"grammar concentration {concentration} must be positive")
        if not 0 <= even <= 1:
            raise SlrPoseError(f"grammar evenness {even} must be in [0, 1]")
        glosses = tuple(sorted(set(glosses)))
        k = len(glosses)
        if k == 0:
            raise SlrPoseError("a grammar needs at least one gloss")
        rng = np.random.default_rng(seed)
        cycle = rng.permutation(k)
        successors = max(1, int(round(density * k)))
        trans = np.zeros((k, k))
        for pos, i in enumerate(cycle):
            forced = cycle[(pos + 1) % k]
            others = rng.permutation([j for j in range(k) if j != forced])[: successors - 1]
            allowed = np.array([forced, *others], dtype=np.int64)
            trans[i, allowed] = (1 - even) * rng.dirichlet(np.full(len(allowed), concentration)) + even / len(allowed)
        start = (1 - even) * rng.dirichlet(np.full(k, concentration)) + even / k
        return cls(glosses, start, trans)

    def allowed(self, a: str, b: str) -> bool:
        """Whether ``b`` may follow ``a``."""
        return self.transitions[self._index[a], self._index[b]] > 0

    def sample(self, rng: np.random.Generator, length: int) -> list[str]:
        """A sentence of ``length`` glosses."""
        i = rng.choice(len(self.glosses), p=self.start)
        out = [i]
        for _ in range(length - 1):
            i = rng.choice(len(self.glosses), p=self.transitions[i])
            out.append(i)
        return [self.glosses[j] for j in out]

    def log_prob(self, glosses: Sequence[str]) -> float:
        """Natural log probability of a sentence (given its length)."""
        idx = [self._index[g] for g in glosses]
        with np.errstate(divide="ignore"):
            lp = math.log(self.start[idx[0]]) if self.start[idx[0]] > 0 else -math.inf
            for a, b in zip(idx, idx[1:]):
                p = self.transitions[a, b]
                lp += math.log(p) if p > 0 else -math.inf
        return lp

    def describe(self) -> dict:
        """JSON-ready model: ``{"kind", "glosses", "start", "transitions"}`` (probabilities rounded to 1e-6)."""
        return {
            "kind": "bigram",
            "glosses": list(self.glosses),
            "start": [round(float(p), 6) for p in self.start],
            "transitions": [[round(float(p), 6) for p in row] for row in self.transitions],
        }


class LanguageModel(Protocol):
    def log_prob(self, word: str, context: Sequence[str] = ()) -> float: ...


class LMGrammar:
    """Sentences from a language model, restricted to ``glosses``.

    The next gloss is drawn from ``exp(lm.log_prob(g, ["<s>", *history]))``
    over the available glosses, renormalised (sentence end and glosses the
    store lacks are excluded).
    """

    def __init__(self, lm: LanguageModel, glosses: Sequence[str], name: str = "") -> None:
        self.lm = lm
        self.glosses = tuple(sorted(set(glosses)))
        self.name = name
        if not self.glosses:
            raise SlrPoseError("a grammar needs at least one gloss")

    def next_distribution(self, history: Sequence[str]) -> np.ndarray:
        """``(K,)`` probabilities of each gloss after ``history``."""
        context = ["<s>", *history]
        lp = np.array([self.lm.log_prob(g, context) for g in self.glosses], dtype=np.float64)
        if not np.isfinite(lp).any():
            raise SlrPoseError(f"the language model gives no available gloss a probability after {' '.join(context)}")
        p = np.exp(lp - lp[np.isfinite(lp)].max())
        return p / p.sum()

    def sample(self, rng: np.random.Generator, length: int) -> list[str]:
        out: list[str] = []
        for _ in range(length):
            out.append(self.glosses[rng.choice(len(self.glosses), p=self.next_distribution(out))])
        return out

    def describe(self) -> dict:
        return {"kind": "language-model", "model": self.name, "glosses": list(self.glosses)}
