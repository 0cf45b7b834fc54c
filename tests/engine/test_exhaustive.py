"""Exhaustive scoring (index/engine/exhaustive.py), called directly: every posting, and the
allowed documents one by one, against brute force over rank-bm25's scores."""

from __future__ import annotations

import numpy as np

from index.engine import BM25Index
from index.engine.exhaustive import exhaustive, over_allowed
from index.engine.heap import ranked

from .conftest import SMALL, assert_top_k, bm25, brute_top_k, compiled, patched


def _corpus() -> list[list[str]]:
    rng = np.random.default_rng(9)
    p = 1.0 / np.arange(1, 41) ** 0.8
    return [[f"t{x}" for x in rng.choice(40, int(m), p=p / p.sum())] for m in rng.integers(1, 50, 1500)]


def test_exhaustive_and_over_allowed_equal_brute_force():
    corpus = _corpus()
    bm = bm25(corpus)
    rng = np.random.default_rng(1)
    for params in ({}, SMALL):
        with patched(params):
            idx = BM25Index.build(corpus)
            lay = idx.layout
            allowed = rng.random(len(corpus)) < 0.3
            for q in (["t0"], ["t5", "t5"], ["t39"], ["t0", "t1", "t7"], ["t2", "t30", "zz", "t2"]):
                tids, idfs, pos, _ = compiled(idx, q)
                for k in (1, 10, 100):
                    hs, he = np.zeros(k), np.zeros(k, np.int64)
                    acc, seen = lay.full_scratch()
                    for mask, want_mask in ((np.zeros(0, bool), None), (allowed, allowed)):
                        n = exhaustive(lay.kernel, tids, idfs, pos, mask, acc, seen, hs, he)
                        assert_top_k(ranked(hs, he, n), brute_top_k(bm, corpus, q, k, want_mask), str(q))
                        assert not acc.any() and not seen.any()  # scratch left all-zero
                    docs = lay.ext2int[np.flatnonzero(allowed)].astype(np.int64)
                    n = over_allowed(lay.kernel, tids, idfs, pos, docs, hs, he)
                    assert_top_k(ranked(hs, he, n), brute_top_k(bm, corpus, q, k, allowed), str(q))


def test_documents_scoring_zero_or_less_still_count():
    """In tiny corpora a word in every document has idf <= 0: those documents hold a query
    term and are ranked, as brute force ranks them."""
    corpus = [["a", "b"], ["a"], ["a", "c"], ["a", "a", "b"]]
    bm = bm25(corpus)
    idx = BM25Index.build(corpus)
    for q in (["a"], ["a", "b"], ["c", "a"]):
        assert_top_k(idx.top_k(q, 10), brute_top_k(bm, corpus, q, 10), str(q))
