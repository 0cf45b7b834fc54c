"""The build (index/engine/build.py): what each array it makes promises."""

from __future__ import annotations

import numpy as np

from index.engine import BM25Index

from .conftest import SMALL, patched


def _corpus(seed: int, n: int = 800) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, 61) ** 1.1
    return [[f"t{x}" for x in rng.choice(60, int(m), p=p / p.sum())] for m in rng.integers(0, 70, n)]


def test_layout_invariants():
    corpus = _corpus(1)
    with patched({**SMALL, "BLOCK": 5}):
        lay = BM25Index.build(corpus).layout
    N = len(corpus)
    lens = np.array([len(d) for d in corpus])
    # internal order: by length, then id
    assert np.array_equal(lay.int2ext, np.lexsort((np.arange(N), lens)))
    assert np.array_equal(lay.ext2int[lay.int2ext], np.arange(N))
    dl = np.asarray(lay.dl_vals)[np.asarray(lay.dl_idx)]
    assert np.all(np.diff(dl) >= 0) and np.array_equal(dl, lens[lay.int2ext])
    for t in range(len(lay.vocab)):
        word = lay.vocab.token(t)
        tf_true = np.array([d.count(word) for d in corpus])[lay.int2ext]
        assert int(lay.df_[t]) == int(np.count_nonzero(tf_true))
        lo, hi = int(lay.term_layer[t]), int(lay.term_layer[t + 1])
        tfs = np.asarray(lay.layer_tf[lo:hi]).astype(int)
        assert np.all(np.diff(tfs) < 0)  # layers: highest tf first
        for li in range(lo, hi):
            docs = lay.post[lay.layer_off[li] : lay.layer_off[li + 1]]
            assert np.all(np.diff(docs) > 0) and np.all(tf_true[docs] == lay.layer_tf[li])
        slot = int(lay.dense_of[t])
        if slot >= 0:
            col = lay.dense[slot // 2]
            nib = (col >> 4) if slot & 1 else (col & 15)
            assert np.array_equal(nib, np.minimum(tf_true, 15))
