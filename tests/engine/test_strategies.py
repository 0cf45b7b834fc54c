"""The exhaustive and single-term strategies (index/engine/exhaustive.py, single.py), called directly."""

from __future__ import annotations

import numpy as np

from index.engine import BM25Index
from index.engine.exhaustive import exhaustive, kth_distinct, over_allowed
from index.engine.single import single

from .conftest import SMALL, assert_top_k, bm25, brute_top_k, patched, query_terms


def _corpus() -> list[list[str]]:
    rng = np.random.default_rng(9)
    p = 1.0 / np.arange(1, 41) ** 0.8
    return [[f"t{x}" for x in rng.choice(40, int(m), p=p / p.sum())] for m in rng.integers(1, 50, 1500)]


def test_exhaustive_single_and_over_allowed_equal_brute_force():
    corpus = _corpus()
    bm = bm25(corpus)
    rng = np.random.default_rng(1)
    for params in ({}, SMALL):
        with patched(params):
            idx = BM25Index.build(corpus)
            lay = idx.layout
            allowed = rng.random(len(corpus)) < 0.3
            for q in (["t0"], ["t5", "t5"], ["t39"], ["t0", "t1", "t7"], ["t2", "t30", "zz", "t2"]):
                for k in (1, 10, 100):
                    want = brute_top_k(bm, corpus, q, k)
                    order, qterms = query_terms(idx, q)  # fresh query terms for each call: strategies move them on
                    assert_top_k(exhaustive(lay, order, qterms, k, None), want, str(q))
                    order, qterms = query_terms(idx, q)
                    assert_top_k(over_allowed(lay, order, qterms, k, allowed), brute_top_k(bm, corpus, q, k, allowed))
                    if len(qterms) == 1 and qterms[0].g >= 0:
                        order, qterms = query_terms(idx, q)
                        assert_top_k(single(lay, order, qterms[0], k, None), want, str(q))
                        order, qterms = query_terms(idx, q)
                        assert_top_k(single(lay, order, qterms[0], k, allowed), brute_top_k(bm, corpus, q, k, allowed))


def test_kth_distinct_counts_each_doc_once():
    docs = np.array([1, 1, 2, 3, 3, 4])
    score = np.array([5.0, 5.0, 4.0, 3.0, 3.0, 1.0])
    assert kth_distinct(docs, score, 2, 2) == 4.0
    assert kth_distinct(docs, score, 4, 2) == 1.0
    assert kth_distinct(docs, score, 5, 2) is None
