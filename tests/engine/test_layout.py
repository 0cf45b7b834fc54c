"""The layout (index/engine/layout.py): blocks of one length, read-only arrays of one dtype each,
per-thread scratch, term lookups."""

from __future__ import annotations

import itertools
import threading

import numpy as np

from index.engine import BM25Index
from index.engine.layout import DTYPES

from .conftest import patched


def _corpus() -> list[list[str]]:
    rng = np.random.default_rng(8)
    return [[f"w{x}" for x in rng.integers(0, 30, int(n))] for n in rng.integers(1, 12, 500)]


def test_blocks_never_mix_lengths_and_hold_at_most_block_documents():
    corpus = _corpus()
    with patched({"BLOCK": 7}):
        lay = BM25Index.build(corpus).layout
    dl = np.asarray(lay.dl_vals)[np.asarray(lay.dl_idx)]
    blocks = lay.blocks.tolist()
    assert blocks[0] == 0 and blocks[-1] == len(corpus)
    for a, b in itertools.pairwise(blocks):
        assert 0 < b - a <= 7 and dl[a] == dl[b - 1]
    assert set(np.asarray(lay.dl_start).tolist()) <= set(blocks)  # every run of one length starts a block


def test_arrays_are_read_only_and_of_one_dtype_built_or_loaded(tmp_path):
    """Compiled code is compiled once per argument type: a built and a loaded index must agree."""
    idx = BM25Index.build(_corpus())
    idx.save(tmp_path / "ix")
    for lay in (idx.layout, BM25Index.load(tmp_path / "ix").layout, BM25Index.load(tmp_path / "ix", mmap=False).layout):
        for name, dtype in DTYPES.items():
            a = getattr(lay, name)
            assert a.dtype == np.dtype(dtype) and not a.flags.writeable and a.flags.c_contiguous, name


def test_scratch_is_per_thread():
    lay = BM25Index.build(_corpus()).layout
    mine = lay.full_scratch()[0]
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(lay.full_scratch()[0]))
    t.start()
    t.join()
    assert theirs[0] is not mine and lay.full_scratch()[0] is mine
    assert len(mine) == lay.doc_count and not mine.any()


def test_term_lookups_and_idf():
    corpus = [["a", "b"], ["a"], ["c"]]
    lay = BM25Index.build(corpus).layout
    assert lay.tid("zz") == -1 and lay.vocab.token(lay.tid("b")) == "b"
    order, mult = lay.resolve(["a", "zz", "b", "a"])
    assert order == [lay.tid("a"), lay.tid("b"), lay.tid("a")] and mult == {lay.tid("a"): 2, lay.tid("b"): 1}
