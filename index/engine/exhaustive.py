"""Exhaustive scoring, compiled: every document holding a query term, term at a time, then the k best.

Used when pruning cannot pay: a query with few postings in all (FAST_MAX), idf <= 0 (tiny
corpora, where a document's score may be 0 or less and still count), more distinct terms than
MaxScore takes, or a mask that lets few documents through (``over_allowed``: those documents
one by one).  Contributions are added in query order into an accumulator, as
``BM25Okapi.get_scores`` adds them, so the scores are rank-bm25's to the bit (term-at-a-time
evaluation: Turtle & Flood, "Query evaluation: strategies and optimizations", IP&M 1995).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from .heap import push, theta
from .lookup import exact, impact, tf_in


@numba.njit(cache=True, nogil=True)
def exhaustive(L: Any, tids: Any, idfs: Any, order: Any, allowed: Any, acc: Any, seen: Any, hs: Any, he: Any) -> int:
    """Score every document holding a query term; returns how many of ``hs``/``he`` (k entries)
    hold the k best.  ``allowed``: bool per external id, or empty for all; ``acc``/``seen``:
    N-entry scratch, all-zero before and after."""
    term_layer, layer_off, layer_tf, post, dl_idx, kvals, _dense_of, _dense, _esc_key, _esc_tf, int2ext = L
    total = 0
    for i in range(len(tids)):
        t = tids[i]
        total += layer_off[term_layer[t + 1]] - layer_off[term_layer[t]]
    touched = np.empty(total, np.int32)
    nt = 0
    for j in range(len(order)):
        i = order[j]
        t = tids[i]
        idf = idfs[i]
        for li in range(term_layer[t], term_layer[t + 1]):
            tf = layer_tf[li]
            for p in range(layer_off[li], layer_off[li + 1]):
                d = post[p]
                acc[d] += idf * impact(tf, kvals[dl_idx[d]])
                if not seen[d]:
                    seen[d] = True
                    touched[nt] = d
                    nt += 1
    masked = len(allowed) > 0
    n = 0
    th = -np.inf
    for x in range(nt):
        d = touched[x]
        s = acc[d]
        acc[d] = 0.0
        seen[d] = False
        e = int2ext[d]
        if s >= th and not (masked and not allowed[e]):
            n = push(hs, he, n, s, e)
            th = theta(hs, n)
    return n


@numba.njit(cache=True, nogil=True)
def over_allowed(L: Any, tids: Any, idfs: Any, order: Any, docs: Any, hs: Any, he: Any) -> int:
    """Few allowed documents (``docs``: their internal ids): each scored on its own; those
    holding a query term are ranked."""
    int2ext = L[10]
    n = 0
    th = -np.inf
    for x in range(len(docs)):
        d = docs[x]
        held = False
        for i in range(len(tids)):
            if tf_in(L, tids[i], d) > 0:
                held = True
                break
        if held:
            s = exact(L, tids, idfs, order, d)
            if s >= th:
                n = push(hs, he, n, s, int2ext[d])
                th = theta(hs, n)
    return n

