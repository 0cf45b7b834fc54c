"""Persistence (index/engine/storage.py): save, load with and without mmap, refuse other formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.engine import BM25Index

from .conftest import seed_queries


def test_seed_save_load_round_trip(seed, tmp_path):
    corpus, _, idx = seed
    idx.save(tmp_path / "index")
    for mmap in (True, False):
        back = BM25Index.load(tmp_path / "index", mmap=mmap)
        assert back.doc_count == idx.doc_count and back.nbytes == idx.nbytes
        for q in seed_queries(corpus)[:30]:
            for a, b in zip(back.top_k(q, 10), idx.top_k(q, 10)):
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(back.score_all(q), idx.score_all(q))
        assert back.df("the") == idx.df("the") and back.idf("zzqxv") == 0.0


def test_other_format_is_refused_with_advice(seed, tmp_path):
    _, _, idx = seed
    idx.save(tmp_path / "index")
    meta = json.loads((tmp_path / "index" / "meta.json").read_text())
    meta["format"] = 1
    (tmp_path / "index" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="rebuild"):
        BM25Index.load(tmp_path / "index")
