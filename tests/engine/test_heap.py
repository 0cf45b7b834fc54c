"""The k best so far (index/engine/heap.py): order by score then lower id, no document twice."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from index.engine.heap import push, ranked, theta


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


def test_a_document_already_held_is_not_added_twice():
    hs, he = np.zeros(3), np.zeros(3, np.int64)
    n = push(hs, he, 0, 2.0, 7)
    n = push(hs, he, n, 2.0, 7)
    assert n == 1 and theta(hs, n) == -np.inf
