"""One document at a time, compiled: a term's tf in a document and the document's exact score.

A term's tf in document d is one load for a dense term (its 4-bit column; 15 means "look in the
exception table") and a binary search in each of its layers otherwise (layers are sorted by
doc id).  ``exact`` adds ``idf * (tf * (k1 + 1) / (tf + K))`` for each query token in query
order, as ``rank_bm25.BM25Okapi.get_scores`` does, so its float64 sums are rank-bm25's to the bit.

The layout's arrays reach compiled code as one tuple, ``Layout.kernel`` (``KERNEL_ARRAYS`` in
layout.py gives its order).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from . import params

K1P1 = params.K1 + 1  # k1 + 1, rank-bm25's numerator factor
NIBBLE = params.NIBBLE


def tf_part(tf: Any, K: Any) -> Any:
    """rank-bm25's tf part, ``tf * (k1 + 1) / (tf + K)``, in its order of operations: of numbers,
    or of numpy arrays (``score_all``)."""
    return tf * K1P1 / (tf + K)


impact = numba.njit(cache=True, nogil=True, inline="always")(tf_part)  # the same, compiled


@numba.njit(cache=True, nogil=True, inline="always")
def bisect(post: Any, lo: int, hi: int, target: int) -> int:
    """The first position in [lo, hi) of sorted ``post`` whose value is >= target (hi if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if post[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, nogil=True)
def tf_in(L: Any, t: int, d: int) -> int:
    """tf of term ``t`` in internal document ``d`` (0 if absent)."""
    term_layer, layer_off, layer_tf, post, dl_idx, _kvals, dense_of, dense, esc_key, esc_tf, _int2ext = L
    slot = dense_of[t]
    if slot >= 0:
        b = dense[slot >> 1, d]
        v = (b >> 4) if slot & 1 else (b & NIBBLE)
        if v == NIBBLE:
            key = np.int64(slot) * len(dl_idx) + d
            return int(esc_tf[np.searchsorted(esc_key, key)])
        return int(v)
    for li in range(term_layer[t], term_layer[t + 1]):
        end = layer_off[li + 1]
        at = bisect(post, layer_off[li], end, d)
        if at < end and post[at] == d:
            return int(layer_tf[li])
    return 0


@numba.njit(cache=True, nogil=True)
def exact(L: Any, tids: Any, idfs: Any, order: Any, d: int) -> float:
    """The exact BM25Okapi score of internal document ``d``: query tokens in order (``order``
    indexes ``tids``/``idfs``, repeats included)."""
    K = L[5][L[4][d]]
    s = 0.0
    for j in range(len(order)):
        i = order[j]
        tf = tf_in(L, tids[i], d)
        if tf:
            s += idfs[i] * impact(tf, K)
    return s

@numba.njit(cache=True, nogil=True)
def tfs_in(L: Any, t: int, docs: Any) -> Any:
    """tf of term ``t`` in each internal document of ``docs`` (int64 array)."""
    out = np.zeros(len(docs), np.int64)
    for x in range(len(docs)):
        out[x] = tf_in(L, t, docs[x])
    return out


@numba.njit(cache=True, nogil=True)
def exacts(L: Any, tids: Any, idfs: Any, order: Any, docs: Any) -> Any:
    """``exact`` of each internal document of ``docs`` (float64 array)."""
    out = np.zeros(len(docs))
    for x in range(len(docs)):
        out[x] = exact(L, tids, idfs, order, docs[x])
    return out
