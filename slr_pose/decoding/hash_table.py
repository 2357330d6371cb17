"""Open-addressing hash tables from int64 keys to int32 values, for numba kernels.

Two arrays: ``keys`` (int64, -1 marks an empty slot) and ``values``; the size
is a power of two, probing is linear, the hash is Fibonacci hashing. The LM
tables (n-gram lookups) and the beam search's prefix trie (child lookups)
both use them.
"""

from __future__ import annotations

import numba
import numpy as np

EMPTY = np.int64(-1)
_MIX = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15


@numba.njit(cache=True, inline="always")
def slot(key: np.int64, mask: np.int64) -> np.int64:
    """The first slot to probe for ``key`` in a table of ``mask + 1`` slots."""
    h = key * _MIX  # wraps around on overflow, which is what a hash wants
    return (h ^ (h >> 29)) & mask


@numba.njit(cache=True)
def build(keys: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A table of ``size`` slots (a power of two, > number of keys) holding ``keys[i] -> values[i]``.

    Keys equal to -1 are skipped, so ``build(old_keys, old_values, 2 * size)`` grows a table.
    """
    hkeys = np.full(size, EMPTY, dtype=np.int64)
    hvals = np.zeros(size, dtype=np.int32)
    mask = np.int64(size - 1)
    for i in range(keys.shape[0]):
        if keys[i] == EMPTY:
            continue
        s = slot(keys[i], mask)
        while hkeys[s] != EMPTY:
            s = (s + 1) & mask
        hkeys[s] = keys[i]
        hvals[s] = values[i]
    return hkeys, hvals


@numba.njit(cache=True, inline="always")
def find(hkeys: np.ndarray, key: np.int64) -> np.int64:
    """The slot holding ``key``, or the empty slot where it would go."""
    mask = np.int64(hkeys.shape[0] - 1)
    s = slot(key, mask)
    while hkeys[s] != EMPTY and hkeys[s] != key:
        s = (s + 1) & mask
    return s
