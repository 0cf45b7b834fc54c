"""Exhaustive scoring: every document holding a query term, term at a time, then the exact top-k.

Used when pruning cannot pay: a query with few postings in all, or idf <= 0 (tiny corpora), or
a mask that lets few documents through (``over_allowed``).  Contributions are added in query
order into an accumulator, as BM25Okapi.get_scores adds them (term-at-a-time evaluation, Turtle
& Flood, "Query evaluation: strategies and optimizations", IP&M 1995).  ``select`` and
``kth_distinct`` are the top-k selection every strategy shares: (score desc, doc id asc).
"""

from __future__ import annotations

import numpy as np

from . import params
from .layout import Array, Layout, QTerm, impact
from .scoring import all_postings, contrib, exact_scores, term_tf


def finish(lay: Layout, order: list[int], docs: Array, k: int) -> tuple[Array, Array]:
    """Exact scores of (distinct) internal docs, then the k best by (score desc, id asc)."""
    if len(docs) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    score = exact_scores(lay, order, docs)
    ext = lay.int2ext[docs].astype(np.int64)
    best = np.lexsort((ext, -score))[:k]
    return ext[best], score[best]


def exhaustive(
    lay: Layout, order: list[int], qterms: list[QTerm], k: int, allowed: Array | None
) -> tuple[Array, Array]:
    """Score every document holding a query term, exactly: contributions are added in query
    order, as BM25Okapi.get_scores adds them, into an accumulator."""
    N = lay.doc_count
    by_t = {q.t: q for q in qterms}
    if len(lay.post_w) and len(qterms) > 1 and min(q.w for q in qterms) > 0 and all(q.whole for q in qterms):
        # small corpus with stored contributions: add them up, in query order
        acc = np.zeros(N)
        for t in order:
            q = by_t[t]
            a, b = int(lay.layer_off[q.lo]), int(lay.layer_off[q.hi])
            np.add.at(acc, lay.post[a:b], lay.post_w[a:b])
        if allowed is not None:
            acc[~allowed[lay.int2ext]] = 0.0
        docs = (acc > 0.0).nonzero()[0]  # every doc holding a query term, once
        return select(lay, docs, np.take(acc, docs), k, 1)
    parts: dict[int, tuple[Array, Array]] = {}
    for t in dict.fromkeys(order):
        q = by_t[t]
        if q.whole:
            parts[t] = contrib(lay, q, lay.idf(t))
        else:
            docs, tf = all_postings(lay, t)
            parts[t] = (docs, lay.idf(t) * impact(tf.astype(np.float64), lay.kvals[lay.dl_idx[docs]]))
    positive = min(q.w for q in qterms) > 0
    if len(parts) == 1:
        docs, vals = parts[order[0]]
        score = vals.copy()
        for _ in range(len(order) - 1):  # a repeated token adds its contribution again
            score += vals
        if allowed is not None:
            keep = np.flatnonzero(allowed[lay.int2ext[docs]])
            docs, score = docs[keep], score[keep]
        return select(lay, docs, score, k, 1)
    if N <= params.DENSE_ACC_MAX and positive:
        # small corpus: a fresh dense accumulator, the k-th best read off it directly
        acc = np.zeros(N)
        for t in order:
            np.add.at(acc, *parts[t])
        if allowed is not None:
            acc[~allowed[lay.int2ext]] = 0.0
        docs = (acc > 0.0).nonzero()[0]  # every doc holding a query term, once
        return select(lay, docs, np.take(acc, docs), k, 1)
    s = lay.scratch
    if s.acc is None or len(s.acc) != N:
        s.acc = np.zeros(N)
    acc = s.acc
    try:
        for t in order:
            np.add.at(acc, *parts[t])
        docs = np.concatenate([pv[0] for pv in parts.values()]) if len(parts) > 1 else parts[order[0]][0]
        if allowed is not None:
            docs = docs[allowed[lay.int2ext[docs]]]
        score = np.take(acc, docs)
    finally:
        for pv in parts.values():
            acc[pv[0]] = 0.0
    return select(lay, docs, score, k, len(parts))


def select(lay: Layout, docs: Array, score: Array, k: int, m: int) -> tuple[Array, Array]:
    """(ids, scores) of the k best of internal docs with their exact scores (a doc may be there
    up to m times, always with the same score), ties by lower id."""
    theta = kth_distinct(docs, score, k, m)
    if theta is not None:
        keep = np.flatnonzero(score >= theta)
        docs, score = docs[keep], score[keep]
    if len(docs) <= 64:
        once = dict(zip(docs.tolist(), score.tolist()))
        docs = np.fromiter(once, np.int64, len(once))
        score = np.fromiter(once.values(), np.float64, len(once))
    elif m > 1:
        docs, first = np.unique(docs, return_index=True)
        score = score[first]
    ext = lay.int2ext[docs].astype(np.int64)
    best = np.lexsort((ext, -score))[:k]
    return ext[best], score[best]


def over_allowed(lay: Layout, order: list[int], qterms: list[QTerm], k: int, allowed: Array) -> tuple[Array, Array]:
    """Few allowed documents: look at each of them."""
    docs = lay.ext2int[np.flatnonzero(allowed)]
    hit = np.zeros(len(docs), bool)
    for q in qterms:
        hit |= term_tf(lay, q.t, docs) > 0
    return finish(lay, order, docs[hit], k)


def kth_distinct(docs: Array, score: Array, k: int, m: int) -> float | None:
    """The k-th best score over distinct docs, each doc appearing at most m times (same score)."""
    n = len(score)
    if m == 1:
        if n < k:
            return None
        return float(np.partition(score, n - k)[n - k]) if n > k else float(score.min())
    top = k * m
    if n > top:
        part = np.argpartition(score, n - top)[n - top :]
        docs, score = docs[part], score[part]
    best = dict(zip(docs.tolist(), score.tolist()))
    if len(best) < k:
        return None
    return float(sorted(best.values(), reverse=True)[k - 1])
