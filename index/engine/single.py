"""One distinct query term: its best postings, impact level by impact level, until the next
level's bound is below the k-th score found (score-at-a-time over impact-ordered postings, Anh &
Moffat, "Pruned query evaluation using pre-computed impacts", SIGIR 2006, here stopped exactly).
"""

from __future__ import annotations

import numpy as np

from .exhaustive import exhaustive, kth_distinct, select
from .layout import Array, Layout, QTerm, tol
from .scoring import contrib
from .threshold import threshold


def single(lay: Layout, order: list[int], q: QTerm, k: int, allowed: Array | None) -> tuple[Array, Array]:
    """One distinct term: its best postings, by impact level, scored exactly."""
    cnt = lay.grid_cnt[q.g]
    j = min(int(np.searchsorted(cnt, 2 * k)), q.jmax)
    idf = lay.idf(q.t)
    w = q.w
    while True:
        docs, vals = contrib(lay, q, idf, j)
        if allowed is not None:
            keep = np.flatnonzero(allowed[lay.int2ext[docs]])
            docs, vals = docs[keep], vals[keep]
        if len(docs) >= k:
            score = vals.copy()
            for _ in range(len(order) - 1):  # a repeated token adds its contribution again
                score += vals
            theta = kth_distinct(docs, score, k, 1)
            if theta is not None and w * q.umax * lay.ratios[j] < theta - tol(theta):
                return select(lay, docs, score, k, 1)
        if j >= q.jmax:
            break
        j = min(j + 4, q.jmax)
    if q.whole:
        return exhaustive(lay, order, [q], k, allowed)
    return threshold(lay, order, [q], k, allowed)
