"""Block MaxScore, compiled: the strategy for queries with many postings, common words above all.

MaxScore (Turtle & Flood, "Query evaluation: strategies and optimizations", IP&M 1995) splits a
query's posting lists into *essential* ones, which propose candidates, and *non-essential* ones,
whose bounds sum below the k-th score found so far (theta): a document in no essential list
cannot reach theta, so only the essential lists are read and the others are looked up for the
candidates.  Two things make the bounds tight here (see layout.py):

* the lists are a term's *layers* (one per tf), not whole terms: a term's low-tf layers, which
  hold most of its postings, become non-essential while its high-tf layers stay essential, so
  ``and the the stuff that`` reads the few segments where those words repeat, not all of them;
* the documents are sorted by length and read in *blocks* of one length, so a layer's bound in
  a block is exact (``w * tf * (k1 + 1) / (tf + K)`` with the block's K), the split is chosen
  again for every block, and once the blocks' bound falls below theta the rest (longer
  documents, lower bounds) is skipped: the per-block bounds of block-max indexes (Ding & Suel,
  "Faster top-k document retrieval using block-max indexes", SIGIR 2011), here exact.

Candidates are scored approximately from the essential layers, then the non-essential terms are
looked up (dense tf columns) with an early exit, and the survivors are scored exactly
(lookup.exact): the results are rank-bm25's scores, ties by lower id.  Before the blocks, the
first SEED postings of every layer are scored, for a first theta.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from . import params
from .heap import push, theta
from .lookup import bisect, exact, impact, tf_in

NIBBLE = params.NIBBLE


@numba.njit(cache=True, nogil=True, inline="always")
def _seek(post: Any, c: int, end: int, target: int) -> int:
    """The first position >= c (and < end) whose doc id is >= target: galloping, then bisection."""
    if c >= end or post[c] >= target:
        return c
    step = 1
    lo = c
    hi = c + 1
    while hi < end and post[hi] < target:
        lo = hi
        step <<= 1
        hi = lo + step
    return bisect(post, lo, min(hi, end), target)


@numba.njit(cache=True, nogil=True)
def _split(first: Any, slots: Any, size: Any, lv: Any, floor: float, ne: Any, bound: Any) -> float:
    """Choose the non-essential layers: raise the dense terms' non-essential layers (lowest tf
    first) while their bounds sum below ``floor``, the largest layers per unit of bound first.
    Writes ``ne`` (per term, how many of its last layers) and ``bound``; returns their sum."""
    m = len(slots)
    for i in range(m):
        ne[i] = 0
        bound[i] = 0.0
    total = 0.0
    while True:
        best = -1
        best_gain = -1.0
        for i in range(m):
            if slots[i] < 0:
                continue  # not a dense term: its layers are read, never looked up
            x = first[i + 1] - 1 - ne[i]
            if x < first[i]:
                continue
            rise = lv[x] - bound[i]
            if total + rise < floor:
                gain = size[x] / (rise + 1e-300)
                if gain > best_gain:
                    best, best_gain = i, gain
        if best < 0:
            return total
        x = first[best + 1] - 1 - ne[best]
        total += lv[x] - bound[best]
        bound[best] = lv[x]
        ne[best] += 1


@numba.njit(cache=True, nogil=True, inline="always")
def _gain(w: float, tf: int, K: float, bound: float, tau: int) -> float:
    """What a looked-up tf adds to a candidate's bound: its contribution minus the term's
    non-essential bound; 0 for a tf above ``tau``, which is in an essential layer (already counted)."""
    if tf == 0:
        return -bound
    return w * impact(tf, K) - bound if tf <= tau else 0.0


@numba.njit(cache=True, nogil=True)
def _lookups(first: Any, ltf: Any, ws: Any, K: float, ne: Any, bound: Any, lookups: Any, tabs: Any,
             taus: Any) -> int:
    """The terms with non-essential layers, largest bound first (the order candidates look them
    up in), each with ``_gain`` by 4-bit tf (``tabs``) and its highest non-essential tf
    (``taus``); returns how many."""
    nn = 0
    for i in range(len(ne)):
        if ne[i] > 0:
            lookups[nn] = i
            nn += 1
    for a in range(1, nn):  # insertion sort: nn is small
        v = lookups[a]
        z = a - 1
        while z >= 0 and bound[lookups[z]] < bound[v]:
            lookups[z + 1] = lookups[z]
            z -= 1
        lookups[z + 1] = v
    for z in range(nn):
        i = lookups[z]
        taus[z] = ltf[first[i + 1] - ne[i]]
        for v in range(NIBBLE + 1):
            tabs[z, v] = _gain(ws[i], v, K, bound[i], taus[z])
    return nn


@numba.njit(cache=True, nogil=True)
def maxscore(
    L: Any,
    tids: Any,
    ws: Any,
    idfs: Any,
    order: Any,
    allowed: Any,
    blocks: Any,
    seed: int,
    acc: Any,
    touched: Any,
    hs: Any,
    he: Any,
) -> int:
    """The k best documents (``hs``/``he`` hold k) of a query of at most 62 distinct terms, all
    of weight > 0; returns how many are held.  ``ws``: each distinct term's weight (idf times
    its count in the query); ``blocks``: Layout.blocks; ``acc``/``touched``:
    BLOCK-entry scratch, all-zero before and after."""
    term_layer, layer_off, layer_tf, post, dl_idx, kvals, dense_of, dense, _esc_key, _esc_tf, int2ext = L
    m = len(tids)
    masked = len(allowed) > 0
    # the query's layers: term i has first[i] .. first[i + 1] - 1, highest tf first
    first = np.empty(m + 1, np.int64)
    nl = 0
    for i in range(m):
        first[i] = nl
        nl += term_layer[tids[i] + 1] - term_layer[tids[i]]
    first[m] = nl
    ltf = np.empty(nl, np.int64)
    cur = np.empty(nl, np.int64)
    end = np.empty(nl, np.int64)
    size = np.empty(nl, np.float64)
    lt = np.empty(nl, np.int64)  # the layer's term
    lv = np.empty(nl)  # the layer's bound in the current block
    slots = np.empty(m, np.int64)
    for i in range(m):
        t = tids[i]
        slots[i] = dense_of[t]
        for li in range(term_layer[t], term_layer[t + 1]):
            x = first[i] + li - term_layer[t]
            ltf[x] = layer_tf[li]
            cur[x] = layer_off[li]
            end[x] = layer_off[li + 1]
            size[x] = end[x] - cur[x]
            lt[x] = i

    # a first theta: the first postings of every layer (its shortest documents), each once
    picked = np.empty(nl * seed, np.int64)
    ns = 0
    for x in range(nl):
        for p in range(cur[x], min(end[x], cur[x] + seed)):
            picked[ns] = post[p]
            ns += 1
    seeds = np.unique(picked[:ns])
    n = 0
    for d in seeds:
        e = int2ext[d]
        if not (masked and not allowed[e]):
            n = push(hs, he, n, exact(L, tids, idfs, order, d), e)
    th = theta(hs, n)

    ne = np.zeros(m, np.int64)  # per term: its last ne[i] layers (lowest tf) are non-essential
    bound = np.zeros(m)  # ... and bound a document's contribution from them
    lookups = np.zeros(m, np.int64)  # the terms with non-essential layers, largest bound first
    tabs = np.zeros((m, NIBBLE + 1))  # ... what looking each up adds to a candidate's bound, by 4-bit tf
    taus = np.zeros(m, np.int64)  # ... and the highest tf of its non-essential layers
    nn = 0
    cr = np.empty(len(acc), np.int64)  # candidates: position in the block, score bound
    cs = np.empty(len(acc))
    split_K = -1.0
    split_th = np.nan
    total = 0.0
    for bi in range(len(blocks) - 1):
        b0 = blocks[bi]
        b1 = blocks[bi + 1]
        K = kvals[dl_idx[b0]]
        tol = 1e-9 * (1.0 + abs(th))
        top = 0.0
        for i in range(m):
            top += ws[i] * impact(ltf[first[i]], K)
        if top < th - tol:
            break  # K never decreases along the blocks: no later document can reach theta

        if split_K != K or th != split_th:  # the split and the lookups' tables change with K or theta only
            split_K, split_th = K, th
            for x in range(nl):
                lv[x] = ws[lt[x]] * impact(ltf[x], K)
            total = _split(first, slots, size, lv, th - tol, ne, bound)
            nn = _lookups(first, ltf, ws, K, ne, bound, lookups, tabs, taus)

        # the essential layers, term at a time, into the block's accumulator; a document's
        # entry is its essential contributions minus those terms' non-essential bounds (> 0:
        # an essential layer's bound is above its term's non-essential ones), so that entry +
        # total bounds its score
        nt = 0
        for i in range(m):
            for x in range(first[i], first[i + 1] - ne[i]):
                c = _seek(post, cur[x], end[x], b0)
                f = lv[x] - bound[i]
                e2 = end[x]
                while c < e2 and post[c] < b1:
                    r = post[c] - b0
                    if acc[r] == 0.0:
                        touched[nt] = r
                        nt += 1
                    acc[r] += f
                    c += 1
                cur[x] = c

        # the candidates, in passes over a shrinking list: their bound, then the non-essential
        # terms' real contributions one term at a time (tight loops, no per-candidate branching)
        floor = th - tol
        q = 0
        for y in range(nt):
            r = touched[y]
            cr[q] = r
            cs[q] = acc[r] + total
            acc[r] = 0.0
            q += cs[q] >= floor
        for z in range(nn):
            i = lookups[z]
            slot = slots[i]
            row = dense[slot >> 1]
            shift = 4 if slot & 1 else 0
            q2 = 0
            for y in range(q):
                r = cr[y]
                tf = (row[b0 + r] >> shift) & NIBBLE
                sc = cs[y] + tabs[z, tf]
                if tf == NIBBLE:  # 15 or more: the exact tf from the exception table
                    sc = cs[y] + _gain(ws[i], tf_in(L, tids[i], b0 + r), K, bound[i], taus[z])
                cr[q2] = r
                cs[q2] = sc
                q2 += sc >= floor
            q = q2
        for y in range(q):
            d = b0 + cr[y]
            e = int2ext[d]
            if masked and not allowed[e]:
                continue
            w = np.searchsorted(seeds, d)
            if w < len(seeds) and seeds[w] == d:
                continue  # offered already
            sx = exact(L, tids, idfs, order, d)
            if sx >= th:
                n = push(hs, he, n, sx, e)
                th = theta(hs, n)
    return n
