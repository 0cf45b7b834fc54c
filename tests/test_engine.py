"""The BM25 engine against its definition, rank_bm25.BM25Okapi(k1=1.5, b=0.75, epsilon=0.25).

* On the seed corpus (the bundled transcripts, ingested and segmented): every score, for
  common-word, repeated-token, out-of-vocabulary and mixed queries, and the exact top-k, with and
  without an `allowed` mask.
  Run twice: with the default settings (small queries scored exhaustively) and with the
  settings that send them down the threshold algorithm big corpora use.
* The pair lists' bounds, against exact pair scores.
* On small random corpora (hypothesis), with tiny vocabularies so that floored idfs, negative
  average idfs and ties are common: top-k (with and without masks) against brute force, scores
  against BM25Okapi.  These run with the engine's size thresholds turned down, so that every
  query path (impact levels, dense columns with escapes, truncated dense layers, pair lists and
  their hand-over, scratch buffers) is taken.
* Save/load round trips; empty corpora; progress reports; tf above 15 and 255.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from itertools import pairwise
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from index.engine import BM25Index, threshold
from index.engine import params as engine_params
from index.tokens import tokenize

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "bot" / "samples"

# Thresholds small enough that tiny corpora take every path of the engine.
SMALL = {
    "GRID_MIN_DF": 1, "DENSE_MIN_DOCS": 1, "DENSE_FRACTION": 4, "DENSE_PREFIX": 3, "SEED_COUNT": 1,
    "DEEPEN_BUDGET": 2, "MERGE": 4, "MAX_BUFS": 2,
    "PAIR_TERMS": 6, "PAIR_DEPTH": 6, "PAIR_DOCS": 1, "PAIR_MIN_DEPTH": 1, "PAIR_HEAD": 2, "PAIR_FIRST": 1,
    "FAST_MAX": 0, "DENSE_ACC_MAX": 0, "SMALL_CORPUS": 0,
}
# Query-time settings that send small queries down the paths big corpora take.
PRUNING = {"FAST_MAX": 0, "DENSE_ACC_MAX": 0, "SEED_COUNT": 4, "DEEPEN_BUDGET": 16, "MERGE": 32, "OVER_ALLOWED_MIN": 0}


def _patched(params: dict):
    return mock.patch.multiple(engine_params, **params) if params else contextlib.nullcontext()


def _bm25(corpus):
    return BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)


def _brute_top_k(bm: BM25Okapi, corpus, tokens, k, allowed=None):
    """The exact top-k by definition: docs holding a query token, by (score desc, id asc)."""
    scores = bm.get_scores(tokens)
    words = set(tokens)
    ids = [i for i, doc in enumerate(corpus) if words & set(doc) and (allowed is None or allowed[i])]
    ids.sort(key=lambda i: (-scores[i], i))
    ids = np.array(ids[:k], dtype=np.int64)
    return ids, scores[ids] if len(ids) else np.zeros(0)


def _seed_texts() -> list[str]:
    """Segment texts of the seeds: ingested into a temporary store, else ~30-word windows."""
    try:
        from index.ingest import ingest
        from index.store import Store

        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/seeds.db")
            try:
                ingest([str(SAMPLES)], store)
                texts = [seg.text for seg in store.iter_segments()]
            finally:
                store.close()
        if len(texts) > 1000:
            return texts
    except Exception:  # noqa: BLE001, S110 - the ingest pipeline is not this file's subject
        pass
    words = []
    for path in sorted(SAMPLES.glob("*.txt")):
        text = re.sub(r"\[[0-9:.,\s>\-]+\]", " ", path.read_text(encoding="utf-8", errors="replace"))
        words.extend(text.split())
    return [" ".join(words[i : i + 30]) for i in range(0, len(words), 30)]


@pytest.fixture(scope="module")
def seed():
    corpus = [tokenize(t) for t in _seed_texts()]
    # dense columns and pair lists are made for bigger corpora; the seed corpus gets them too
    with mock.patch.multiple(engine_params, DENSE_MIN_DOCS=1000, PAIR_DOCS=16, PAIR_MIN_DEPTH=16):
        index = BM25Index.build(corpus)
    assert len(index.layout.pair_b0) > 0 and len(index.layout.dense) > 0
    return corpus, _bm25(corpus), index


def _seed_queries(corpus) -> list[list[str]]:
    fixed = [
        "the", "of the", "and so the", "the the", "the of the and", "a", "is", "it is", "you know",
        "like i think that", "reinforcement learning is terrible", "deepseek", "nvidia gpus",
        "zzqxv", "zzqxv the", "the zzqxv zzqxv of", "scaling laws", "tsmc tsmc tsmc", "lex fridman",
        "openai o3-mini", "i'm actually optimistic", "so so so so", "and and", "ghosts animals",
    ]
    queries = [q.split() for q in fixed]
    rng = np.random.default_rng(5)
    for _ in range(60):
        doc = corpus[int(rng.integers(len(corpus)))]
        if doc:
            i = int(rng.integers(len(doc)))
            queries.append(doc[i : i + int(rng.integers(1, 5))])
    return queries


def test_seed_scores_equal_bm25okapi(seed):
    corpus, bm, idx = seed
    assert idx.doc_count == len(corpus)
    for q in _seed_queries(corpus):
        ours = idx.score_all(q)
        ref = bm.get_scores(q)
        assert np.abs(ours - ref).max() <= 1e-6, q
        some = np.arange(0, len(corpus), 7)
        assert np.abs(idx.scores(q, some) - ref[some]).max() <= 1e-6, q


@pytest.mark.parametrize("params", [{}, PRUNING], ids=["default", "pruning"])
def test_seed_top_k_is_exact(seed, params):
    corpus, bm, idx = seed
    with _patched(params):
        for q in _seed_queries(corpus):
            for k in (1, 10, 37):
                ids, scores = idx.top_k(q, k)
                want_ids, want_scores = _brute_top_k(bm, corpus, q, k)
                assert ids.dtype == np.int64 and scores.dtype == np.float64
                np.testing.assert_array_equal(ids, want_ids, err_msg=str(q))
                assert np.abs(scores - want_scores).max(initial=0) <= 1e-6, q


@pytest.mark.parametrize("params", [{}, PRUNING], ids=["default", "pruning"])
def test_seed_top_k_with_allowed_mask(seed, params):
    corpus, bm, idx = seed
    rng = np.random.default_rng(11)
    queries = _seed_queries(corpus)[:40]
    with _patched(params):
        for density in (0.002, 0.05, 0.3, 0.9):
            allowed = rng.random(len(corpus)) < density
            for q in queries:
                ids, scores = idx.top_k(q, 10, allowed=allowed)
                want_ids, want_scores = _brute_top_k(bm, corpus, q, 10, allowed)
                np.testing.assert_array_equal(ids, want_ids, err_msg=f"{q} {density}")
                assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
    with pytest.raises(ValueError):
        idx.top_k(["the"], 10, allowed=np.ones(3, bool))
    assert len(idx.top_k(["the"], 10, allowed=np.zeros(len(corpus), bool))[0]) == 0


def test_seed_pair_lists_bound_what_they_leave_out(seed):
    """Each pair list's level bounds hold for every document past that level (or not listed)."""
    _, _, idx = seed
    lay = idx.layout
    names = [idx.vocab.token(int(t)) for t in lay.pair_terms]
    depths = lay.pair_depths.tolist()
    checked = 0
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            p = int(lay.pair_index[i, j])
            docs = lay.int2ext[lay.pair_docs[lay.pair_off[p] : lay.pair_off[p + 1]]]
            pair = idx.score_all([names[i], names[j]])
            listed = pair[docs]
            assert np.all(np.diff(listed) <= 1e-9)  # best first
            rest = np.delete(pair, docs)
            assert len(docs) == 0 or listed[0] <= lay.pair_b0[p] + 1e-9
            for level, d in enumerate(depths):
                beyond = np.concatenate((listed[d:], rest))
                assert beyond.max(initial=0) <= lay.pair_bound[p, level] + 1e-9, (names[i], names[j], d)
            checked += 1
            if checked >= 150:
                return


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


def test_seed_save_load_round_trip(seed, tmp_path):
    corpus, _, idx = seed
    idx.save(tmp_path / "index")
    for mmap in (True, False):
        back = BM25Index.load(tmp_path / "index", mmap=mmap)
        assert back.doc_count == idx.doc_count and back.nbytes == idx.nbytes
        for q in _seed_queries(corpus)[:30]:
            for a, b in zip(back.top_k(q, 10), idx.top_k(q, 10)):
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(back.score_all(q), idx.score_all(q))
        assert back.df("the") == idx.df("the") and back.idf("zzqxv") == 0.0


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


def test_short_pair_lists_hand_over_to_their_terms():
    """Pair lists too short to prove the top-k: their terms take over."""
    rng = np.random.default_rng(8)
    p = 1.0 / np.arange(1, 41) ** 0.9
    corpus = [[f"w{x}" for x in rng.choice(40, int(n), p=p / p.sum())] for n in rng.integers(1, 12, 400)]
    bm = _bm25(corpus)
    with _patched({**SMALL, "PAIR_DEPTH": 2, "PAIR_FIRST": 1, "PAIR_HEAD": 100, "DENSE_PREFIX": 1000, "SEED_COUNT": 1}):
        idx = BM25Index.build(corpus)
        assert len(idx.layout.pair_b0) > 0
        threshold.TRACE = trace = []
        try:
            for q in (["w0", "w1"], ["w0", "w1", "w2"], ["w2", "w3", "w0", "w1"], ["w4", "w5"]):
                for k in (1, 5, 30):
                    ids, scores = idx.top_k(q, k)
                    want_ids, want_scores = _brute_top_k(bm, corpus, q, k)
                    np.testing.assert_array_equal(ids, want_ids)
                    assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
        finally:
            threshold.TRACE = None
        # single terms listed in a later round than some pair list
        rounds = [{src for src, *_ in parts} for _, parts in trace]
        assert any(-1 in a and (b - {-1}) - a for a, b in pairwise(rounds))


def test_huge_term_frequencies():
    """tf above 255 (wide layers, int buffers) and above 15 for dense terms (escapes)."""
    rng = np.random.default_rng(3)
    corpus = [["w"] * int(n) + ["v"] * int(m) + ["x"] for n, m in zip(rng.integers(0, 400, 60), rng.integers(0, 30, 60))]
    corpus += [["y", "z"]] * 20
    bm = _bm25(corpus)
    for params in ({}, SMALL):
        with _patched(params):
            idx = BM25Index.build(corpus)
            for q in (["w"], ["v"], ["w", "v"], ["v", "x", "w"], ["x"], ["y", "w"], ["v", "v"]):
                ids, scores = idx.top_k(q, 5)
                want_ids, want_scores = _brute_top_k(bm, corpus, q, 5)
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


queries = st.lists(st.sampled_from(VOCAB + ["zz"]), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), queries, st.integers(1, 12), st.booleans(), st.data())
def test_random_corpora_exact(corpus, query, k, small, data):
    bm = _bm25(corpus)
    with _patched(SMALL if small else {}):
        idx = BM25Index.build(corpus)
        assert np.abs(idx.score_all(query) - bm.get_scores(query)).max() <= 1e-6
        ids, scores = idx.top_k(query, k)
        want_ids, want_scores = _brute_top_k(bm, corpus, query, k)
        np.testing.assert_array_equal(ids, want_ids)
        assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
        allowed = np.array(data.draw(st.lists(st.booleans(), min_size=len(corpus), max_size=len(corpus))), bool)
        ids, scores = idx.top_k(query, k, allowed=allowed)
        want_ids, want_scores = _brute_top_k(bm, corpus, query, k, allowed)
        np.testing.assert_array_equal(ids, want_ids)
        assert np.abs(scores - want_scores).max(initial=0) <= 1e-6


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(200, 3000))
def test_random_zipf_corpora_exact(seed_value, n_docs):
    """Bigger corpora, Zipf-like words, through the impact levels and dense rows."""
    rng = np.random.default_rng(seed_value)
    vocab_size = int(rng.integers(5, 300))
    p = 1.0 / np.arange(1, vocab_size + 1) ** rng.uniform(0.6, 1.4)
    p /= p.sum()
    lens = rng.integers(0, int(rng.choice([40, 600])), n_docs)  # > 256 lengths: 2-byte length index
    flat = rng.choice(vocab_size, int(lens.sum()), p=p)
    bounds = np.concatenate(([0], np.cumsum(lens)))
    corpus = [[f"t{x}" for x in flat[bounds[i] : bounds[i + 1]]] for i in range(n_docs)]
    if not any(corpus):
        corpus[0] = ["t0"]
    bm = _bm25(corpus)
    params = {
        "GRID_MIN_DF": int(rng.integers(1, 40)), "DENSE_MIN_DOCS": 1, "DENSE_FRACTION": int(rng.integers(2, 30)),
        "DENSE_PREFIX": int(rng.integers(2, 200)), "SEED_COUNT": int(rng.integers(1, 40)),
        "DEEPEN_BUDGET": int(rng.integers(2, 300)), "MERGE": int(rng.integers(1, 500)),
        "MAX_BUFS": int(rng.integers(0, 3)), "TABLE_MAX_LENGTHS": int(rng.choice([0, 4096])),
        "PAIR_TERMS": int(rng.integers(0, 12)), "PAIR_DEPTH": int(rng.integers(1, 100)), "PAIR_DOCS": 1,
        "PAIR_MIN_DEPTH": 1, "PAIR_HEAD": int(rng.integers(1, 5)), "PAIR_FIRST": int(rng.integers(1, 8)),
        "FAST_MAX": int(rng.choice([0, 0, 16384])), "DENSE_ACC_MAX": int(rng.choice([0, 65536])),
        "SMALL_CORPUS": int(rng.choice([0, 65536])),
    }
    with mock.patch.multiple(engine_params, **params):
        idx = BM25Index.build(corpus)
        allowed = rng.random(n_docs) < rng.uniform(0.05, 1.0)
        for _ in range(8):
            q = [f"t{x}" for x in rng.choice(vocab_size, int(rng.integers(1, 5)), p=p if rng.random() < 0.7 else None)]
            k = int(rng.integers(1, 20))
            ids, scores = idx.top_k(q, k)
            want_ids, want_scores = _brute_top_k(bm, corpus, q, k)
            np.testing.assert_array_equal(ids, want_ids, err_msg=str((q, k, params)))
            assert np.abs(scores - want_scores).max(initial=0) <= 1e-6
            ids, _ = idx.top_k(q, k, allowed=allowed)
            np.testing.assert_array_equal(ids, _brute_top_k(bm, corpus, q, k, allowed)[0])
