"""BM25Index (index/engine/bm25.py) against its definition, rank_bm25.BM25Okapi(k1=1.5, b=0.75, epsilon=0.25).

* On the seed corpus (the bundled transcripts, ingested and segmented): every score, for
  common-word, repeated-token, out-of-vocabulary and mixed queries, and the exact top-k, with and
  without an `allowed` mask; run with the default settings and with settings that send small
  queries down the pruning strategies big corpora use.
* On small random corpora (hypothesis), with tiny vocabularies so that floored idfs, negative
  average idfs and ties are common, and on Zipf-like ones with the size thresholds turned down
  so that every strategy and layout path is taken: top-k (with and without masks) against brute
  force, scores against BM25Okapi.
* Term statistics; empty corpora; progress reports; tf above 15 and 255.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.engine import BM25Index
from index.engine import params as engine_params

from .conftest import PRUNING, SMALL, bm25, brute_top_k, patched, seed_queries


def test_seed_scores_equal_bm25okapi(seed):
    corpus, bm, idx = seed
    assert idx.doc_count == len(corpus)
    for q in seed_queries(corpus):
        ours = idx.score_all(q)
        ref = bm.get_scores(q)
        assert np.abs(ours - ref).max() <= 1e-6, q
        some = np.arange(0, len(corpus), 7)
        assert np.abs(idx.scores(q, some) - ref[some]).max() <= 1e-6, q


@pytest.mark.parametrize("params", [{}, PRUNING], ids=["default", "pruning"])
def test_seed_top_k_is_exact(seed, params):
    corpus, bm, idx = seed
    with patched(params):
        for q in seed_queries(corpus):
            for k in (1, 10, 37):
                ids, scores = idx.top_k(q, k)
                want_ids, want_scores = brute_top_k(bm, corpus, q, k)
                assert ids.dtype == np.int64 and scores.dtype == np.float64
                np.testing.assert_array_equal(ids, want_ids, err_msg=str(q))
                assert np.abs(scores - want_scores).max(initial=0) <= 1e-6, q


@pytest.mark.parametrize("params", [{}, PRUNING], ids=["default", "pruning"])
def test_seed_top_k_with_allowed_mask(seed, params):
    corpus, bm, idx = seed
    rng = np.random.default_rng(11)
    queries = seed_queries(corpus)[:40]
    with patched(params):
        for density in (0.002, 0.05, 0.3, 0.9):
            allowed = rng.random(len(corpus)) < density
            for q in queries:
                ids, scores = idx.top_k(q, 10, allowed=allowed)
                want_ids, want_scores = brute_top_k(bm, corpus, q, 10, allowed)
                np.testing.assert_array_equal(ids, want_ids, err_msg=f"{q} {density}")
                assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
    with pytest.raises(ValueError, match="bool mask of length"):
        idx.top_k(["the"], 10, allowed=np.ones(3, bool))
    assert len(idx.top_k(["the"], 10, allowed=np.zeros(len(corpus), bool))[0]) == 0


def test_seed_term_statistics(seed):
    corpus, bm, idx = seed
    for word in ["the", "of", "and", "deepseek", "tsmc", "ghosts", "zzqxv"]:
        holders = [i for i, doc in enumerate(corpus) if word in doc]
        assert idx.df(word) == len(holders)
        np.testing.assert_array_equal(idx.docs_with(word), holders)
        assert idx.idf(word) == pytest.approx(bm.idf.get(word, 0.0), abs=1e-12)
    assert idx.average_idf == bm.average_idf  # summed the same way
    assert idx.idf("the") == bm.epsilon * bm.average_idf  # floored
    assert idx.nbytes > 0


def test_progress_and_edge_cases():
    seen = []
    docs = ([f"w{i % 7}", "x"] for i in range(250_000))
    with mock.patch.object(engine_params, "CHUNK", 100_000):
        idx = BM25Index.build(docs, progress=seen.append)
    assert seen == [100_000, 200_000, 250_000]
    assert idx.doc_count == 250_000
    for corpus in ([], [[]], [[], []]):
        idx = BM25Index.build(corpus)
        assert idx.doc_count == len(corpus)
        ids, scores = idx.top_k(["a"], 10)
        assert len(ids) == 0 and len(scores) == 0
        assert idx.score_all(["a"]).shape == (len(corpus),)
    idx = BM25Index.build([["a", "b"], ["b"], ["c"]])
    assert len(idx.top_k([], 10)[0]) == 0 and len(idx.top_k(["a"], 0)[0]) == 0


def test_huge_term_frequencies():
    """tf above 255 and above 15 for dense terms (escapes)."""
    rng = np.random.default_rng(3)
    corpus = [
        ["w"] * int(n) + ["v"] * int(m) + ["x"] for n, m in zip(rng.integers(0, 400, 60), rng.integers(0, 30, 60))
    ]
    corpus += [["y", "z"]] * 20
    bm = bm25(corpus)
    for params in ({}, SMALL):
        with patched(params):
            idx = BM25Index.build(corpus)
            for q in (["w"], ["v"], ["w", "v"], ["v", "x", "w"], ["x"], ["y", "w"], ["v", "v"]):
                ids, scores = idx.top_k(q, 5)
                want_ids, want_scores = brute_top_k(bm, corpus, q, 5)
                np.testing.assert_array_equal(ids, want_ids)
                assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
                assert np.abs(idx.score_all(q) - bm.get_scores(q)).max() <= 1e-6


# ---------------------------------------------------------------------------- random corpora
VOCAB = ["a", "b", "c", "d", "e", "f", "g", "h"]


@st.composite
def corpora(draw):
    """Small corpora over a tiny vocabulary; some with words in most documents (negative idfs)."""
    n_words = draw(st.integers(1, len(VOCAB)))
    words = VOCAB[:n_words]
    common = draw(st.floats(0.0, 1.0))
    n_docs = draw(st.integers(1, 40))
    docs = []
    for _ in range(n_docs):
        length = draw(st.integers(0, 24))
        if draw(st.floats(0, 1)) < common:
            docs.append([words[i % n_words] for i in range(length)])  # every word: negative idfs
        else:
            docs.append(draw(st.lists(st.sampled_from(words), min_size=length, max_size=length)))
    if not any(docs):  # BM25Okapi cannot be built over documents that are all empty
        docs[0] = [words[0]]
    return docs


queries = st.lists(st.sampled_from([*VOCAB, "zz"]), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), queries, st.integers(1, 12), st.booleans(), st.data())
def test_random_corpora_exact(corpus, query, k, small, data):
    bm = bm25(corpus)
    with patched(SMALL if small else {}):
        idx = BM25Index.build(corpus)
        assert np.abs(idx.score_all(query) - bm.get_scores(query)).max() <= 1e-6
        ids, scores = idx.top_k(query, k)
        want_ids, want_scores = brute_top_k(bm, corpus, query, k)
        np.testing.assert_array_equal(ids, want_ids)
        assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
        allowed = np.array(data.draw(st.lists(st.booleans(), min_size=len(corpus), max_size=len(corpus))), bool)
        ids, scores = idx.top_k(query, k, allowed=allowed)
        want_ids, want_scores = brute_top_k(bm, corpus, query, k, allowed)
        np.testing.assert_array_equal(ids, want_ids)
        assert np.abs(scores - want_scores).max(initial=0) <= 1e-6


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(200, 3000))
def test_random_zipf_corpora_exact(seed_value, n_docs):
    """Bigger corpora, Zipf-like words, through every strategy, block size and dense column."""
    rng = np.random.default_rng(seed_value)
    vocab_size = int(rng.integers(5, 300))
    p = 1.0 / np.arange(1, vocab_size + 1) ** rng.uniform(0.6, 1.4)
    p /= p.sum()
    lens = rng.integers(0, int(rng.choice([40, 600])), n_docs)
    flat = rng.choice(vocab_size, int(lens.sum()), p=p)
    bounds = np.concatenate(([0], np.cumsum(lens)))
    corpus = [[f"t{x}" for x in flat[bounds[i] : bounds[i + 1]]] for i in range(n_docs)]
    if not any(corpus):
        corpus[0] = ["t0"]
    bm = bm25(corpus)
    params = {
        "DENSE_MIN_DOCS": 1,
        "DENSE_FRACTION": int(rng.integers(2, 30)),
        "BLOCK": int(rng.choice([1, 3, 16, 4096])),
        "SEED": int(rng.integers(0, 8)),
        "FAST_MAX": int(rng.choice([0, 0, 16384])),
        "OVER_ALLOWED": int(rng.choice([0, 24, 10**6])),
    }
    with mock.patch.multiple(engine_params, **params):
        idx = BM25Index.build(corpus)
        allowed = rng.random(n_docs) < rng.uniform(0.05, 1.0)
        for _ in range(8):
            q = [f"t{x}" for x in rng.choice(vocab_size, int(rng.integers(1, 5)), p=p if rng.random() < 0.7 else None)]
            k = int(rng.integers(1, 20))
            ids, scores = idx.top_k(q, k)
            want_ids, want_scores = brute_top_k(bm, corpus, q, k)
            np.testing.assert_array_equal(ids, want_ids, err_msg=str((q, k, params)))
            assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
            ids, _ = idx.top_k(q, k, allowed=allowed)
            np.testing.assert_array_equal(ids, brute_top_k(bm, corpus, q, k, allowed)[0])


def test_warm_compiles_every_compiled_function():
    """BM25Index.warm (called before serving and in the image) leaves no compiled function that
    Python calls to compile on a first query (the functions they call are compiled with them)."""
    from index.engine import build, exhaustive, lookup, maxscore

    BM25Index.warm()
    entry_points = [
        build._invert,
        build._dense,
        exhaustive.exhaustive,
        exhaustive.over_allowed,
        maxscore.maxscore,
        lookup.tfs_in,
        lookup.exacts,
    ]
    assert [f.__name__ for f in entry_points if not f.signatures] == []
