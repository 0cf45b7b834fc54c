"""Shared fixtures of the engine's tests: rank-bm25 as the definition, brute-force top-k, the
seed corpus (the bundled transcripts) indexed with dense columns, and settings that send tiny
corpora down the paths big corpora take."""

from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from index.engine import BM25Index
from index.engine import params as engine_params
from index.engine.scoring import query
from index.tokens import tokenize

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "bot" / "samples"

# Thresholds small enough that tiny corpora take every path of the engine.
SMALL = {"DENSE_MIN_DOCS": 1, "DENSE_FRACTION": 4, "BLOCK": 8, "SEED": 1, "FAST_MAX": 0, "OVER_ALLOWED": 0}
# Query-time settings that send small queries down the paths big corpora take.
PRUNING = {"FAST_MAX": 0, "SEED": 1, "OVER_ALLOWED": 0}


def patched(params: dict[str, Any]) -> contextlib.AbstractContextManager[Any]:
    return mock.patch.multiple(engine_params, **params) if params else contextlib.nullcontext()


def escapes_corpus(seed: int, n: int) -> list[list[str]]:
    """``n`` documents of a word "w" up to 39 times (tf above 15: the dense columns' exception
    table), a word "v" 0 to 2 times and one of 50 rare words: every way the engine stores a tf."""
    rng = np.random.default_rng(seed)
    return [
        ["w"] * int(a) + ["v"] * int(b) + [f"r{int(c)}"]
        for a, b, c in zip(rng.integers(0, 40, n), rng.integers(0, 3, n), rng.integers(0, 50, n))
    ]


def bm25(corpus: list[list[str]]) -> BM25Okapi:
    return BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)


def brute_top_k(
    bm: BM25Okapi, corpus: list[list[str]], tokens: list[str], k: int, allowed: Any = None
) -> tuple[Any, Any]:
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
def seed() -> tuple[list[list[str]], BM25Okapi, BM25Index]:
    corpus = [tokenize(t) for t in _seed_texts()]
    # dense columns are made for bigger corpora; the seed corpus gets them too, and small blocks
    with mock.patch.multiple(engine_params, DENSE_MIN_DOCS=1000, BLOCK=64):
        index = BM25Index.build(corpus)
    assert len(index.layout.dense) > 0
    return corpus, bm25(corpus), index


def seed_queries(corpus: list[list[str]]) -> list[list[str]]:
    fixed = [
        "the",
        "of the",
        "and so the",
        "the the",
        "the of the and",
        "a",
        "is",
        "it is",
        "you know",
        "like i think that",
        "reinforcement learning is terrible",
        "deepseek",
        "nvidia gpus",
        "zzqxv",
        "zzqxv the",
        "the zzqxv zzqxv of",
        "scaling laws",
        "tsmc tsmc tsmc",
        "lex fridman",
        "openai o3-mini",
        "i'm actually optimistic",
        "so so so so",
        "and and",
        "ghosts animals",
    ]
    queries = [q.split() for q in fixed]
    rng = np.random.default_rng(5)
    for _ in range(60):
        doc = corpus[int(rng.integers(len(corpus)))]
        if doc:
            i = int(rng.integers(len(doc)))
            queries.append(doc[i : i + int(rng.integers(1, 5))])
    return queries


def compiled(idx: BM25Index, tokens: list[str]) -> tuple[Any, Any, Any, Any]:
    """(distinct term ids, idfs, token order, weights) as BM25Index.top_k hands a query to the
    compiled strategies, for calling one directly."""
    lay = idx.layout
    order, mult = lay.resolve(tokens)
    tids, idfs, pos = query(lay, order)
    return tids, idfs, pos, idfs * np.array([mult[t] for t in tids.tolist()], np.float64)


def assert_top_k(got: tuple[Any, Any], want: tuple[Any, Any], msg: str = "") -> None:
    """Same ids in the same order (ties by lower id), scores equal to 1e-6."""
    np.testing.assert_array_equal(got[0], want[0], err_msg=msg)
    assert np.abs(np.asarray(got[1]) - np.asarray(want[1])).max(initial=0) <= 1e-6, msg
