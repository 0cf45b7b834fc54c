"""The k best documents so far, compiled: (score desc, external id asc), the order every strategy returns.

A binary heap of k entries (scores float64, external ids int64, a count) with the *worst* held
document at the root: the lowest score, and of equal scores the higher id.  Offering a document
costs O(log k) when it beats the root and O(1) when it does not; ``theta`` (the root's score
once k are held, else -inf) is the k-th best score, the bound every pruning strategy compares
against.  Callers offer each document once (k reaches 4,000 in index/search.py).
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
    ``hs``/``he`` have room for k entries; each document is to be offered once."""
    k = len(hs)
    if n < k:
        i = n  # sift up: a worse document moves towards the root
        while i > 0:
            parent = (i - 1) >> 1
            if better(hs[parent], he[parent], s, e):
                hs[i] = hs[parent]
                he[i] = he[parent]
                i = parent
            else:
                break
        hs[i] = s
        he[i] = e
        return n + 1
    if not better(s, e, hs[0], he[0]):
        return n
    i = 0  # replace the root, sift down
    while True:
        c = 2 * i + 1
        if c >= k:
            break
        if c + 1 < k and better(hs[c], he[c], hs[c + 1], he[c + 1]):
            c += 1  # the worse child
        if better(s, e, hs[c], he[c]):
            hs[i] = hs[c]
            he[i] = he[c]
            i = c
        else:
            break
    hs[i] = s
    he[i] = e
    return n


@numba.njit(cache=True, nogil=True)
def theta(hs: Array, n: int) -> float:
    """The k-th best score held; -inf while fewer than k are held."""
    return float(hs[0]) if n == len(hs) and n > 0 else -np.inf


def ranked(hs: Array, he: Array, n: int) -> tuple[Array, Array]:
    """The held documents best first: (external ids int64, scores float64)."""
    hs, he = hs[:n], he[:n]
    o = np.lexsort((he, -hs))
    return he[o].astype(np.int64), hs[o].astype(np.float64)
