"""The bit-plane strategy (index/engine/planes.py) against brute force, on corpora full of common words.

Hypothesis draws corpora where a handful of words are in most documents, some of them many
times (tf past the planes' thresholds and past 15, the dense columns' escape), with lengths
spread so that the length groups' bounds differ; queries of two to six of those words, some
with a rare word or a repeated one.  The strategy is called directly and through top_k, with
its settings (planes, groups, units, seeds) drawn too, with and without an ``allowed`` mask.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.engine import BM25Index
from index.engine.planes import planes, suits

from .conftest import assert_top_k, bm25, brute_top_k, patched, query_terms


def _corpus(rng: np.random.Generator, n_docs: int) -> list[list[str]]:
    """Documents over a small vocabulary whose first words are common, some of them bursty."""
    n_common = int(rng.integers(3, 9))
    n_words = n_common + int(rng.integers(2, 30))
    p = np.r_[rng.uniform(0.3, 1.0, n_common) * 4, 1.0 / np.arange(1, n_words - n_common + 1)]
    p /= p.sum()
    docs = []
    for _ in range(n_docs):
        length = int(rng.choice([rng.integers(1, 8), rng.integers(8, 40), rng.integers(40, 90)]))
        doc = [f"w{x}" for x in rng.choice(n_words, length, p=p)]
        if rng.random() < 0.1:  # a burst: one common word many times
            doc += [f"w{int(rng.integers(n_common))}"] * int(rng.integers(3, 20))
        docs.append(doc)
    return docs


def _settings(rng: np.random.Generator) -> dict[str, object]:
    return {
        "DENSE_MIN_DOCS": 1,
        "DENSE_FRACTION": int(rng.integers(2, 10)),
        "GRID_MIN_DF": int(rng.integers(1, 20)),
        "DENSE_PREFIX": int(rng.integers(2, 100)),
        "SMALL_CORPUS": 0,
        "DENSE_ACC_MAX": 0,
        "FAST_MAX": 0,
        "PAIR_TERMS": int(rng.integers(0, 8)),
        "PAIR_DEPTH": 8,
        "PAIR_DOCS": 1,
        "PAIR_MIN_DEPTH": 1,
        "PAIR_FIRST": 2,
        "PLANE_TF": [(1,), (1, 2), (1, 2, 4), (1, 3, 7)][int(rng.integers(4))],
        "PLANE_GROUPS": int(rng.integers(1, 6)),
        "PLANE_UNITS": int(rng.choice([2, 4, 16])),
        "PLANE_SEED": int(rng.choice([1, 8, 64])),
        "PLANE_CANDIDATES": int(rng.choice([0, 8192])),
        "PLANE_MIN_TERMS": int(rng.integers(2, 4)),
        "PLANE_UNPAIRED": int(rng.integers(0, 3)),
        "PLANE_ANY_TERMS": int(rng.integers(2, 7)),
        "PLANE_ALWAYS": float(rng.choice([0.0, 0.3, 2.0])),
        "PLANE_RARE_MAX": int(rng.choice([0, 50, 4096])),
        "OVER_ALLOWED_MIN": 0,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(60, 1500))
def test_planes_equal_brute_force_on_common_words(seed_value, n_docs):
    rng = np.random.default_rng(seed_value)
    corpus = _corpus(rng, n_docs)
    bm = bm25(corpus)
    params = _settings(rng)
    with patched(params):
        idx = BM25Index.build(corpus)
        lay = idx.layout
        dense_words = [lay.vocab.token(int(t)) for t in np.flatnonzero(np.asarray(lay.dense_of) >= 0)]
        assert len(lay.plane_bits) == len(dense_words)
        allowed = rng.random(n_docs) < rng.uniform(0.2, 1.0)

        for _ in range(10):
            if len(dense_words) < 2:
                break
            q = [dense_words[i] for i in rng.choice(len(dense_words), int(rng.integers(2, 7)))]
            if rng.random() < 0.3:
                q.append(f"w{int(rng.integers(40))}")  # maybe rare, maybe unknown
            k = int(rng.integers(1, 25))
            order, qterms = query_terms(idx, q)
            if sum(1 for x in qterms if x.slot >= 0) < 2 or min(x.w for x in qterms) <= 0:
                continue  # not this strategy's (idf <= 0 goes to the exhaustive one)

            want = brute_top_k(bm, corpus, q, k)
            assert_top_k(planes(lay, order, qterms, k, None), want, str((q, k, params)))
            assert_top_k(idx.top_k(q, k), want, str((q, k, params)))
            order, qterms = query_terms(idx, q)
            assert_top_k(planes(lay, order, qterms, k, allowed), brute_top_k(bm, corpus, q, k, allowed), str((q, k)))


def test_planes_answer_common_word_queries(seed):
    """On the seeds, queries of three or more common words taken by the planes are exact."""
    corpus, bm, idx = seed
    common = ["the", "and", "to", "of", "a", "that", "is", "in", "it", "you", "i", "so"]
    rng = np.random.default_rng(4)
    used = 0
    with patched({"PLANE_UNPAIRED": 0}):  # the seeds' common words all have pair lists
        for _ in range(40):
            q = [common[i] for i in rng.choice(len(common), int(rng.integers(3, 6)), replace=False)]
            _, qterms = query_terms(idx, q)
            if suits(idx.layout, qterms) and min(x.w for x in qterms) > 0:
                used += 1
            for k in (1, 10, 40):
                assert_top_k(idx.top_k(q, k), brute_top_k(bm, corpus, q, k), str(q))
    assert used > 10
