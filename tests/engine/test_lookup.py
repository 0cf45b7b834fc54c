"""One document at a time (index/engine/lookup.py): tf from dense columns, escapes and layers, and
exact scores equal to rank-bm25's to the bit."""

from __future__ import annotations

from index.engine import BM25Index
from index.engine.lookup import exact, tf_in

from .conftest import SMALL, bm25, compiled, escapes_corpus, patched


def test_tf_and_exact_score_of_every_document():
    corpus = escapes_corpus(4, 200)
    bm = bm25(corpus)
    for params in ({}, SMALL):
        with patched(params):
            idx = BM25Index.build(corpus)
        lay = idx.layout
        for word in ("w", "v", "r3", "r49"):
            t = lay.tid(word)
            for d in range(len(corpus)):
                assert tf_in(lay.kernel, t, d) == corpus[int(lay.int2ext[d])].count(word)
        for q in (["w"], ["v", "w", "v"], ["r3", "w", "zz"]):
            tids, idfs, pos, _ = compiled(idx, q)
            ref = bm.get_scores(q)
            for d in range(len(corpus)):
                assert exact(lay.kernel, tids, idfs, pos, d) == ref[int(lay.int2ext[d])]  # to the bit
