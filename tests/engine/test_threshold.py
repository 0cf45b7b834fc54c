"""The threshold algorithm (index/engine/threshold.py): pair lists that run out hand over to their terms."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from index.engine import BM25Index, threshold

from .conftest import SMALL, bm25, brute_top_k, patched


def test_short_pair_lists_hand_over_to_their_terms():
    """Pair lists too short to prove the top-k: their terms take over."""
    rng = np.random.default_rng(8)
    p = 1.0 / np.arange(1, 41) ** 0.9
    corpus = [[f"w{x}" for x in rng.choice(40, int(n), p=p / p.sum())] for n in rng.integers(1, 12, 400)]
    bm = bm25(corpus)
    with patched(
        {
            **SMALL,
            "PAIR_DEPTH": 2,
            "PAIR_FIRST": 1,
            "PAIR_HEAD": 100,
            "DENSE_PREFIX": 1000,
            "SEED_COUNT": 1,
            "PLANE_RARE_MAX": -1,
        }
    ):
        idx = BM25Index.build(corpus)
        assert len(idx.layout.pair_b0) > 0
        threshold.TRACE = trace = []
        try:
            for q in (["w0", "w1"], ["w0", "w1", "w2"], ["w2", "w3", "w0", "w1"], ["w4", "w5"]):
                for k in (1, 5, 30):
                    ids, scores = idx.top_k(q, k)
                    want_ids, want_scores = brute_top_k(bm, corpus, q, k)
                    np.testing.assert_array_equal(ids, want_ids)
                    assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
        finally:
            threshold.TRACE = None
        # single terms listed in a later round than some pair list
        rounds = [{src for src, *_ in parts} for _, parts in trace]
        assert any(-1 in a and (b - {-1}) - a for a, b in pairwise(rounds))
