"""Exact scoring for the public surface (index/engine/scoring.py): tfs and scores to BM25Okapi's."""

from __future__ import annotations

import numpy as np

from index.engine import BM25Index
from index.engine.scoring import exact_scores, term_tf

from .conftest import SMALL, bm25, escapes_corpus, patched


def test_tf_from_dense_columns_escapes_and_layers_and_exact_scores():
    corpus = escapes_corpus(2, 300)
    bm = bm25(corpus)
    for params in ({}, SMALL):
        with patched(params):
            idx = BM25Index.build(corpus)
            lay = idx.layout
            docs = np.arange(len(corpus))
            for word in ("w", "v", "r3", "r49"):
                t = lay.tid(word)
                want = np.array([d.count(word) for d in corpus])[lay.int2ext[docs]]
                assert np.array_equal(term_tf(lay, t, docs), want), (word, params)
            for q in (["w"], ["v", "w", "v"], ["r3", "w", "zz"], ["r1", "r2", "r3"]):
                order, _ = lay.resolve(q)
                for some in (docs[:20], docs):  # the few-docs path and the array path
                    ours = exact_scores(lay, order, some)
                    assert np.abs(ours - bm.get_scores(q)[lay.int2ext[some]]).max() <= 1e-9
                assert np.abs(idx.score_all(q) - bm.get_scores(q)).max() <= 1e-9
