"""Pair lists (index/engine/pairs.py): listed docs best first, and every level's bound holds."""

from __future__ import annotations

import numpy as np


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
