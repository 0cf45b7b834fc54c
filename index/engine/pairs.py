"""Pair lists: for every two of the most frequent terms, the documents best on the pair, with bounds.

A query of common words can be fairly high on several of them in one document without that
document being high on any one, and single-term bounds cannot rule that out without listing tens
of thousands of postings.  So for every two a, b of the PAIR_TERMS most frequent dense terms the
index keeps the docs with the best ``idf_a * impact_a + idf_b * impact_b`` (up to PAIR_DEPTH, one
per PAIR_DOCS documents), best first, and a bound on that sum for every doc past the first 16,
32, 64, ... of them.  The threshold algorithm (threshold.py) reads a pair list as one source.
This is a term-pair index in the manner of Broschart & Schenkel, "High-performance processing
of text queries with tunable pruned term and term pair indexes" (ACM TOIS 30(1), 2012), here
with exact bounds for what a list leaves out instead of a pruned approximation.
"""

from __future__ import annotations

import numpy as np

from . import params
from .layout import Array, Layout, QTerm, impact
from .scoring import contrib

NO_PAIRS: dict[str, Array] = {
    "pair_terms": np.zeros(0, np.int32),
    "pair_index": np.zeros((0, 0), np.int32),
    "pair_off": np.zeros(1, np.int64),
    "pair_docs": np.zeros(0, np.int32),
    "pair_b0": np.zeros(0),
    "pair_bound": np.zeros((0, 0)),
    "pair_depths": np.zeros(0, np.int64),
}


class QPair:
    """A pair list standing in for two query terms, and how far the query has read it."""

    __slots__ = ("a", "b", "b0", "bounds", "cur", "dead", "full", "heft", "jmax", "n", "off", "t")
    pair = True
    a: QTerm
    b: QTerm
    b0: float
    bounds: Array
    cur: int
    dead: bool
    full: bool
    heft: float
    jmax: int
    n: int
    off: int
    t: int

    def __repr__(self) -> str:
        return f"<pair {self.a.t},{self.b.t} n={self.n} level={self.cur} dead={self.dead}>"


def add_pairs(lay: Layout) -> None:
    """Pair lists: for every two of the params.PAIR_TERMS most frequent dense terms a and b, the docs
    with the best idf_a * impact_a + idf_b * impact_b, best first, and the bound of that sum
    for every doc past each level (16, 32, 64, ... docs) of the list."""
    N = lay.doc_count
    depth = min(params.PAIR_DEPTH, N // params.PAIR_DOCS)
    dense_terms = np.flatnonzero(np.asarray(lay.dense_of) >= 0)
    P = min(params.PAIR_TERMS, len(dense_terms))
    if depth < params.PAIR_MIN_DEPTH or P < 2:
        return
    depths = []
    d = params.PAIR_FIRST
    while d < depth:
        depths.append(d)
        d *= 2
    depths.append(depth)
    df = np.asarray(lay.df_)
    top = dense_terms[np.argsort(-df[dense_terms], kind="stable")][:P].tolist()
    L = params.PAIR_HEAD * depth
    heads = []
    for t in top:
        q = lay.qterm(t, lay.idf(t))
        cnt = lay.grid_cnt[q.g]
        j = min(int(np.searchsorted(cnt, L + 1)), q.jmax)
        docs, vals = contrib(lay, q, q.w, j)
        o = np.lexsort((docs, -vals))
        docs, vals = docs[o], vals[o]
        bound = float(vals[L]) if len(vals) > L else 0.0 if int(cnt[j]) >= q.df else q.w * q.umax * float(lay.ratios[j])
        docs, vals = docs[:L], vals[:L]
        d16 = np.take(lay.dl_idx, docs).astype(np.intp) << 4
        cols = lay.dense[:, docs]  # every dense column at the head's docs
        heads.append((q, docs, vals, d16, bound, cols))
    index = np.full((P, P), -1, np.int32)
    lists: list[Array] = []
    b0: list[float] = []
    bounds: list[list[float]] = []
    last = np.zeros(N, np.int32)  # scratch: position of a doc's last copy among a pair's candidates
    seq = np.arange(2 * depth, dtype=np.int32)
    for i in range(P):
        qa, da, va, d16a, ba, cols_a = heads[i]
        for j in range(i + 1, P):
            qb, db, vb, d16b, bb, cols_b = heads[j]
            beta = ba + bb  # any doc outside both heads sums at most this
            halves = []
            for (_qx, dx, vx, d16x, cols_x), qy in (((qa, da, va, d16a, cols_a), qb), ((qb, db, vb, d16b, cols_b), qa)):
                sx = nib_impacts(lay, qy, dx, d16x, cols_x[qy.byte])
                sx += vx
                if len(sx) > 2 * depth:  # only the best 2*depth of each half can make the list
                    part = np.argpartition(sx, len(sx) - 2 * depth)[len(sx) - 2 * depth :]
                    dx, sx = dx[part], sx[part]
                    beta = max(beta, float(sx.min()))  # the rest sum at most this
                halves.append((dx, sx))
            cand = np.concatenate((halves[0][0], halves[1][0]))
            sc = np.concatenate((halves[0][1], halves[1][1]))
            n = len(sc)
            if n > 2 * depth:
                cut = n - 2 * depth
                part = np.argpartition(sc, cut)[cut:]
                cand, sc = cand[part], sc[part]
                beta = max(beta, float(sc.min()))  # ... or outside the best 2*depth (at most this)
            # a doc in both heads is there twice, with the same sum: keep one
            pos = seq[: len(cand)]
            last[cand] = pos
            once = np.flatnonzero(last[cand] == pos)
            cand, sc = cand[once], sc[once]
            o = np.argsort(-sc)
            cand, sc = cand[o], sc[o]
            keep = int(np.count_nonzero(sc > beta))
            tail = max(beta, float(sc[depth])) if keep > depth else beta
            keep = min(keep, depth)
            cand, sc = cand[:keep], sc[:keep]
            index[i, j] = index[j, i] = len(lists)
            lists.append(cand.astype(np.int32))
            b0.append(float(sc[0]) if keep else tail)
            bounds.append([float(sc[d]) if d < keep else tail for d in depths])
    off = np.zeros(len(lists) + 1, np.int64)
    np.cumsum([len(x) for x in lists], out=off[1:])
    lay.pair_terms = np.array(top, np.int32)
    lay.pair_index = index
    lay.pair_off = off
    lay.pair_docs = np.concatenate(lists) if lists else np.zeros(0, np.int32)
    lay.pair_b0 = np.array(b0, np.float64)
    lay.pair_bound = np.array(bounds, np.float64).reshape(len(lists), len(depths))
    lay.pair_depths = np.array(depths, np.int64)
    lay.pair_rank = {t: i for i, t in enumerate(top)}


def nib_impacts(lay: Layout, q: QTerm, docs: Array, dl16: Array, col: Array) -> Array:
    """w * impact of dense term q in docs (dl16: their length index << 4; col: q's byte column
    at the docs)."""
    nib = (col >> 4) if q.shift else (col & params.NIBBLE)
    if lay.ndl <= params.TABLE_MAX_LENGTHS:
        v: Array = np.take(lay.f16t, dl16 + nib)
    else:
        v = np.asarray(impact(nib.astype(np.float64), lay.kvals[dl16 >> 4]))
    if q.esc:
        pos = np.flatnonzero(nib == params.NIBBLE)
        if len(pos):
            etf = lay.esc_tf[np.searchsorted(lay.esc_key, q.slot * lay.doc_count + docs[pos].astype(np.int64))]
            v[pos] = impact(etf, lay.kvals[dl16[pos] >> 4])
    v *= q.w
    return v


def pair_up(lay: Layout, qterms: list[QTerm]) -> list[QPair]:
    """Pair lists for the query: the heaviest eligible terms two by two (a term repeated in
    the query is not eligible: its weight is not the one the lists were made with)."""
    if not lay.pair_rank:
        return []
    elig = [q for q in qterms if q.t in lay.pair_rank and q.w == lay.idf(q.t)]
    elig.sort(key=lambda q: -q.w * q.umax)
    pairs: list[QPair] = []
    for a, b in zip(elig[0::2], elig[1::2]):
        i = int(lay.pair_index[lay.pair_rank[a.t], lay.pair_rank[b.t]])
        lo, hi = int(lay.pair_off[i]), int(lay.pair_off[i + 1])
        if hi == lo:
            continue
        p = QPair()
        p.a, p.b, p.off, p.n, p.cur, p.full, p.dead = a, b, lo, hi - lo, -1, False, False
        p.b0 = float(lay.pair_b0[i])
        p.bounds = lay.pair_bound[i]
        p.heft = p.b0
        p.t = -1
        p.jmax = len(lay.pair_depths) - 1
        pairs.append(p)
    return pairs


def pair_depth(lay: Layout, p: QPair, level: int) -> int:
    """How many docs of pair list p are listed down to level (-1: none)."""
    return 0 if level < 0 else min(int(lay.pair_depths[level]), p.n)
