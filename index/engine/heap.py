"""The k best documents so far, compiled: (score desc, external id asc), the order every strategy returns.

A query keeps its k best in two small arrays (scores float64, external ids int64) and a count;
k is small (10 to a few hundred), so finding the worst entry is a linear scan, done only when a
document beats the current k-th score.  ``theta`` is that k-th score (-inf until k are held):
the bound every pruning strategy compares against.
"""

from __future__ import annotations

import numba
import numpy as np

from .layout import Array


@numba.njit(cache=True, nogil=True, inline="always")
def better(s: float, e: int, ws: float, we: int) -> bool:
    """Whether (score s, id e) ranks before (ws, we): higher score, then lower id."""
    return s > ws or (s == ws and e < we)


@numba.njit(cache=True, nogil=True)
def push(hs: Array, he: Array, n: int, s: float, e: int) -> int:
    """Offer document ``e`` (external id) with exact score ``s``; returns the new count.

    ``hs``/``he`` have room for k entries; a document already held is not added twice.
    """
    k = len(hs)
    for i in range(n):
        if he[i] == e:
            return n
    if n < k:
        hs[n] = s
        he[n] = e
        return n + 1
    w = 0
    for i in range(1, k):
        if better(hs[w], he[w], hs[i], he[i]):
            w = i
    if better(s, e, hs[w], he[w]):
        hs[w] = s
        he[w] = e
    return n


@numba.njit(cache=True, nogil=True)
def theta(hs: Array, n: int) -> float:
    """The k-th best score held; -inf while fewer than k are held."""
    if n < len(hs):
        return -np.inf
    w = hs[0]
    for i in range(1, n):
        if hs[i] < w:
            w = hs[i]
    return float(w)


def ranked(hs: Array, he: Array, n: int) -> tuple[Array, Array]:
    """The held documents best first: (external ids int64, scores float64)."""
    hs, he = hs[:n], he[:n]
    o = np.lexsort((he, -hs))
    return he[o].astype(np.int64), hs[o].astype(np.float64)
