"""Exact scores: a term's tf in given documents, and BM25Okapi's sum over the query, in its order.

rank-bm25 computes ``score += idf * (tf * (k1 + 1) / (tf + K))`` for each query token in turn
(K = k1 * (1 - b + b * dl / avgdl)); these functions do the same double arithmetic in the same
order, so scores are equal to rank_bm25.BM25Okapi.get_scores to the last bits (tests allow 1e-6).
A term's tf comes from its dense 4-bit column (one gather; 15 means "see the exception table")
or from its layers (binary searches, or a scatter into a scratch buffer when that is cheaper).
Every strategy ends here: whatever it prunes with, its candidates are rescored by ``exact``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from . import params
from .layout import EMPTY, Array, Layout, QTerm, impact


def dense_tf(lay: Layout, slot: int, docs: Array) -> Array:
    """tf of dense term `slot` in internal docs."""
    col = np.take(lay.dense[slot // 2], docs)
    nib = (col >> 4) if slot & 1 else (col & params.NIBBLE)
    if slot in lay.esc_slots:
        nib = nib.astype(np.int64)
        pos = np.flatnonzero(nib == params.NIBBLE)
        if len(pos):
            nib[pos] = lay.esc_tf[np.searchsorted(lay.esc_key, slot * lay.doc_count + docs[pos].astype(np.int64))]
    return nib


def sparse_tf(lay: Layout, t: int, docs: Array) -> Array:
    """tf of a term (from its layers) in internal docs, 0 where absent."""
    lo, hi = int(lay.term_layer[t]), int(lay.term_layer[t + 1])
    offs = lay.layer_off[lo : hi + 1].tolist()
    tfs = lay.layer_tf[lo:hi].tolist()
    n = len(docs)
    df = offs[-1] - offs[0]
    post = lay.post
    if n > 64 and n * max(1, df.bit_length()) > 3 * df:
        # cheaper to scatter the postings into a buffer and gather
        buf = lay.take_buf()
        if buf is not None:
            try:
                for i, tf in enumerate(tfs):
                    buf[post[offs[i] : offs[i + 1]]] = tf
                return buf[docs]
            finally:
                for i in range(len(tfs)):
                    buf[post[offs[i] : offs[i + 1]]] = 0
                lay.give_buf(buf)
    out = np.zeros(n, np.int64)
    for i, tf in enumerate(tfs):
        arr = post[offs[i] : offs[i + 1]]
        pos = np.searchsorted(arr, docs)
        np.minimum(pos, len(arr) - 1, out=pos)
        out[arr[pos] == docs] = tf
    return out


def term_tf(lay: Layout, t: int, docs: Array) -> Array:
    slot = int(lay.dense_of[t])
    if slot >= 0:
        return dense_tf(lay, slot, docs)
    return sparse_tf(lay, t, docs)


def all_postings(lay: Layout, t: int) -> tuple[Array, Array]:
    """(internal doc ids, tf) of every posting of term t."""
    slot = int(lay.dense_of[t])
    if slot >= 0:
        col = lay.dense[slot // 2]
        nib = (col >> 4) if slot & 1 else (col & params.NIBBLE)
        docs = np.flatnonzero(nib)
        return docs, fix_esc(lay, slot, docs, nib[docs])
    lo, hi = int(lay.term_layer[t]), int(lay.term_layer[t + 1])
    a, b = int(lay.layer_off[lo]), int(lay.layer_off[hi])
    sizes = np.diff(lay.layer_off[lo : hi + 1])
    return lay.post[a:b], np.repeat(lay.layer_tf[lo:hi].astype(np.int64), sizes)


def fix_esc(lay: Layout, slot: int, docs: Array, nib: Array) -> Array:
    nib = nib.astype(np.int64)
    if slot in lay.esc_slots:
        pos = np.flatnonzero(nib == params.NIBBLE)
        if len(pos):
            nib[pos] = lay.esc_tf[np.searchsorted(lay.esc_key, slot * lay.doc_count + docs[pos].astype(np.int64))]
    return nib


def exact_scores(lay: Layout, order: list[int], docs: Array) -> Array:
    """Exact scores of internal docs for the query's known term ids, in query order."""
    if len(docs) <= 32:
        # a few docs: the same double arithmetic, in Python (no numpy call per step)
        Ks = [lay.klist[d] for d in np.take(lay.dl_idx, docs).tolist()]
        acc = [0.0] * len(docs)
        tfs: dict[int, list[int]] = {}
        for t in order:
            tfl = tfs.get(t)
            if tfl is None:
                tfl = tfs[t] = term_tf(lay, t, docs).tolist()
            idf = lay.idf(t)
            for i, tf in enumerate(tfl):
                if tf:
                    acc[i] += idf * (tf * (params.K1 + 1) / (tf + Ks[i]))
        return np.array(acc)
    K = lay.kvals[lay.dl_idx[docs]]
    score = np.zeros(len(docs))
    for t in order:
        tf = term_tf(lay, t, docs).astype(np.int64)
        score += lay.idf(t) * (tf * (params.K1 + 1) / (tf + K))
    return score


def score_all(lay: Layout, tokens: Sequence[str]) -> Array:
    """Exact scores of every document (what BM25Okapi.get_scores returns)."""
    score = np.zeros(lay.doc_count)
    order, _ = lay.resolve(tokens)
    if not order:
        return score
    kext = lay.kvals[lay.dl_idx[lay.ext2int]]
    for t in order:
        docs, tf = all_postings(lay, t)
        ext = lay.int2ext[docs]
        score[ext] += lay.idf(t) * (tf * (params.K1 + 1) / (tf + kext[ext]))
    return score


def contrib(lay: Layout, q: QTerm, weight: float, upto: int | None = None) -> tuple[Array, Array]:
    """(docs, weight * impact) of a term's postings (whole term, or its prefix at level `upto`)."""
    lo, hi = q.lo, q.hi
    offs = lay.layer_off[lo : hi + 1].tolist()
    if upto is None:
        docs = lay.post[offs[0] : offs[-1]]
        cuts = [b - a for a, b in pairwise(offs)]
    else:
        r0 = int(lay.grid_row0[q.g])
        cuts = lay.grid_cut[r0 : r0 + hi - lo, upto].tolist()
        parts = [lay.post[o : o + c] for o, c in zip(offs, cuts) if c]
        docs = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else EMPTY
    dl = np.take(lay.dl_idx, docs)
    fcol = lay.fcol
    if q.maxtf < len(fcol):
        if hi - lo == 1:
            vals = np.take(fcol[q.maxtf], dl)
        elif hi - lo <= 2:
            vals = np.empty(len(docs))
            a = 0
            for tf, c in zip(lay.layer_tf[lo:hi].tolist(), cuts):
                if c:
                    np.take(fcol[tf], dl[a : a + c], out=vals[a : a + c])
                    a += c
        else:
            idx = dl.astype(np.intp)
            idx <<= 4
            idx += np.repeat(lay.layer_tf[lo:hi], cuts)
            vals = np.take(lay.f16t, idx)
    else:
        tf = np.repeat(lay.layer_tf[lo:hi], cuts)
        vals = impact(tf.astype(np.float64), lay.kvals[dl])
    vals *= weight
    return docs, vals
