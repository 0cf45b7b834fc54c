"""Block MaxScore (index/engine/maxscore.py), called directly, against brute force over rank-bm25's
scores: corpora of common and bursty words (the case it exists for), every block size, with
and without masks, first thetas from none to many seeds."""

from __future__ import annotations

from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.engine import BM25Index
from index.engine import params as engine_params
from index.engine.heap import ranked
from index.engine.maxscore import maxscore

from .conftest import assert_top_k, bm25, brute_top_k, compiled


def _run(idx: BM25Index, q: list[str], k: int, allowed, seed: int):
    lay = idx.layout
    tids, idfs, pos, ws = compiled(idx, q)
    acc, touched = lay.block_scratch()
    hs, he = np.zeros(k), np.zeros(k, np.int64)
    mask = np.zeros(0, bool) if allowed is None else allowed
    n = maxscore(lay.kernel, tids, ws, idfs, pos, mask, lay.blocks, seed, acc, touched, hs, he)
    assert not acc.any()  # the block accumulator is left all-zero
    return ranked(hs, he, n)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_common_and_bursty_words_equal_brute_force(seed_value):
    """Every word in many documents, some repeated in bursts (high tf), lengths in few runs so
    blocks are long, or in many: the layers' splits change from block to block."""
    rng = np.random.default_rng(seed_value)
    n_docs = int(rng.integers(300, 2500))
    words = int(rng.integers(3, 25))
    p = 1.0 / np.arange(1, words + 1) ** rng.uniform(0.0, 1.2)
    p /= p.sum()
    lens = rng.integers(1, int(rng.choice([6, 30, 120])), n_docs)
    corpus = []
    for n in lens.tolist():
        doc = [f"w{x}" for x in rng.choice(words, n, p=p)]
        if rng.random() < 0.2:  # a burst: one word many times
            doc += [f"w{int(rng.integers(words))}"] * int(rng.integers(2, 40))
        corpus.append(doc)
    bm = bm25(corpus)
    block = int(rng.choice([1, 2, 7, 64, 4096]))
    with mock.patch.multiple(engine_params, DENSE_MIN_DOCS=1, DENSE_FRACTION=int(rng.integers(1, 40)), BLOCK=block):
        idx = BM25Index.build(corpus)
    allowed = rng.random(n_docs) < rng.uniform(0.05, 1.0)
    for _ in range(6):
        q = [f"w{x}" for x in rng.choice(words, int(rng.integers(1, 7)), p=p if rng.random() < 0.7 else None)]
        if min(idx.idf(t) for t in q) <= 0:
            continue  # MaxScore takes weights > 0 only (top_k sends the others to exhaustive)
        k = int(rng.integers(1, 30))
        s = int(rng.integers(0, 9))
        assert_top_k(_run(idx, q, k, None, s), brute_top_k(bm, corpus, q, k), str((q, k, block, s)))
        assert_top_k(_run(idx, q, k, allowed, s), brute_top_k(bm, corpus, q, k, allowed), str((q, k, "mask")))


def test_ties_are_broken_by_lower_id_across_blocks():
    """Identical documents in every block: the k best are the lowest ids, whatever block order."""
    corpus = [["a", "b", "c"]] * 50 + [["a", "x"]] * 30 + [["b", "b", "c", "a"]] * 20
    bm = bm25(corpus)
    with mock.patch.multiple(engine_params, DENSE_MIN_DOCS=1, DENSE_FRACTION=2, BLOCK=3):
        idx = BM25Index.build(corpus)
    for q in (["a", "b"], ["c", "b", "a"], ["a", "a", "c"]):
        for k in (1, 5, 25, 60):
            assert_top_k(_run(idx, q, k, None, 0), brute_top_k(bm, corpus, q, k), str((q, k)))


def test_seed_corpus_common_word_queries(seed):
    corpus, bm, idx = seed
    for text in ("the of the and", "and so the", "like i think that", "you know it is", "so so so so", "the"):
        q = text.split()
        assert_top_k(_run(idx, q, 10, None, 2), brute_top_k(bm, corpus, q, 10), text)
