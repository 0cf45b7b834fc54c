"""Exact scores and tfs of given documents, for the public surface (scores, score_all, term_freqs).

rank-bm25 computes ``score += idf * (tf * (k1 + 1) / (tf + K))`` for each query token in turn
(K = k1 * (1 - b + b * dl / avgdl)); these functions do the same double arithmetic in the same
order (compiled in lookup.py, or in numpy for every document at once), so scores are equal to
rank_bm25.BM25Okapi.get_scores to the last bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layout import Array, Layout
from .lookup import exacts, tf_part, tfs_in


def query(lay: Layout, order: list[int]) -> tuple[Array, Array, Array]:
    """A query's compiled form: (distinct term ids, their idfs, token order as indexes into them)."""
    distinct = list(dict.fromkeys(order))
    pos = {t: i for i, t in enumerate(distinct)}
    return (
        np.array(distinct, np.int64),
        np.array([lay.idf(t) for t in distinct], np.float64),
        np.array([pos[t] for t in order], np.int64),
    )


def term_tf(lay: Layout, t: int, docs: Array) -> Array:
    """tf (int64) of term t in internal docs."""
    return np.asarray(tfs_in(lay.kernel, t, np.asarray(docs, np.int64)))


def all_postings(lay: Layout, t: int) -> tuple[Array, Array]:
    """(internal doc ids, tf) of every posting of term t, layer by layer (highest tf first)."""
    lo, hi = int(lay.term_layer[t]), int(lay.term_layer[t + 1])
    a, b = int(lay.layer_off[lo]), int(lay.layer_off[hi])
    sizes = np.diff(lay.layer_off[lo : hi + 1])
    return lay.post[a:b], np.repeat(lay.layer_tf[lo:hi].astype(np.int64), sizes)


def exact_scores(lay: Layout, order: list[int], docs: Array) -> Array:
    """Exact scores of internal docs for the query's known term ids, in query order."""
    tids, idfs, pos = query(lay, order)
    return np.asarray(exacts(lay.kernel, tids, idfs, pos, np.asarray(docs, np.int64)))


def score_all(lay: Layout, tokens: Sequence[str]) -> Array:
    """Exact scores of every document (what BM25Okapi.get_scores returns), by external id."""
    score = np.zeros(lay.doc_count)
    order, _ = lay.resolve(tokens)
    if not order:
        return score
    kext = lay.kvals[lay.dl_idx[lay.ext2int]]
    for t in order:
        docs, tf = all_postings(lay, t)
        ext = lay.int2ext[docs]
        score[ext] += lay.idf(t) * tf_part(tf, kext[ext])
    return score
