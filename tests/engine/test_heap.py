"""The k best so far (index/engine/heap.py): order by score, then lower id; small and large k."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.engine.heap import push, ranked, theta


@settings(deadline=None)  # no time limit: these machines are noisy
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 30)), max_size=60), st.integers(1, 8))
def test_push_keeps_the_k_best_by_score_then_lower_id(offers, k):
    # a document is offered with one score (its exact score); the first offer stands
    firsts: dict[int, int] = {}
    for score, doc in offers:
        firsts.setdefault(doc, score)
    hs2, he2 = np.zeros(k), np.zeros(k, np.int64)
    n2 = 0
    for doc, score in firsts.items():
        n2 = push(hs2, he2, n2, float(score), doc)
    ids, scores = ranked(hs2, he2, n2)
    want = sorted(firsts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    assert ids.tolist() == [d for d, _ in want] and scores.tolist() == [float(s) for _, s in want]
    assert theta(hs2, n2) == (float(want[-1][1]) if len(want) == k else -np.inf)


def test_a_large_k_over_many_offers_with_ties():
    """k as large as the library asks (4,000) over 50,000 offers with many equal scores."""
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 300, 50_000).astype(np.float64)
    ids = rng.permutation(50_000)
    hs, he = np.zeros(4000), np.zeros(4000, np.int64)
    n = 0
    for s, e in zip(scores.tolist(), ids.tolist()):
        n = push(hs, he, n, s, e)
    got_ids, got_scores = ranked(hs, he, n)
    want = np.lexsort((ids, -scores))[:4000]
    assert got_ids.tolist() == ids[want].tolist() and got_scores.tolist() == scores[want].tolist()
    assert theta(hs, n) == scores[want[-1]]
