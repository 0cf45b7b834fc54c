"""Building the layout (layout.py) from token lists: one pass over the documents, then numpy sorts.

The documents are read in chunks of CHUNK: each token becomes a term id (in order of first
appearance, as BM25Okapi meets them, so the average idf is summed in rank-bm25's order) and only
int32 term ids and int64 lengths are kept.  The postings come from one sort of (term, doc) keys
(then one of (term, -tf, doc) keys), in the manner of a sort-based inversion (Witten, Moffat &
Bell, "Managing Gigabytes", 2nd ed., section 5.2).  Then the impact-level tables, the dense tf
columns and, in pairs.py, the pair lists.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, count, islice
from typing import Any

import numpy as np

from . import pairs, params
from .layout import Array, Layout, impact
from .planes import build_planes
from .vocab import Vocab


def build(docs: Iterable[Sequence[str]], progress: Callable[[int], None] | None = None) -> Layout:
    """The layout of token lists (doc ids 0..N-1 in their order); ``progress(docs_done)`` is
    called after every chunk of CHUNK documents."""
    # token -> id, ids given in order of first appearance (as BM25Okapi meets them)
    vocab: dict[str, int] = defaultdict(count().__next__)
    term_chunks: list[Array] = []
    len_chunks: list[Array] = []
    done = 0
    it = iter(docs)
    while True:
        chunk = list(islice(it, params.CHUNK))
        if not chunk:
            break
        lens = np.fromiter(map(len, chunk), np.int64, len(chunk))
        n = int(lens.sum())
        term_chunks.append(np.fromiter(map(vocab.__getitem__, chain.from_iterable(chunk)), np.int32, n))
        len_chunks.append(lens)
        done += len(chunk)
        if progress is not None:
            progress(done)
    terms = np.concatenate(term_chunks) if term_chunks else np.zeros(0, np.int32)
    lens = np.concatenate(len_chunks) if len_chunks else np.zeros(0, np.int64)
    del term_chunks, len_chunks
    arrays, meta = build_arrays(terms, lens, len(vocab))
    arrays.update(Vocab.build(list(vocab)).arrays())
    arrays.update(pairs.NO_PAIRS)
    arrays.update(build_planes(arrays["dense"], int(np.count_nonzero(arrays["dense_of"] >= 0)), len(lens)))
    lay = Layout(arrays, meta)
    pairs.add_pairs(lay)
    _release_freed_memory()
    return lay


def _release_freed_memory() -> None:
    """Hand the build's freed memory back to the OS.  glibc keeps freed heap memory for reuse
    (and raises its mmap threshold after large frees, so mid-sized temporaries land on the heap):
    without malloc_trim(3) the process's RSS would stay near the build's peak."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def build_arrays(terms: Array, lens: Array, V: int) -> tuple[dict[str, Array], dict[str, Any]]:
    """The layout's arrays and meta for N documents of the given lengths whose tokens, in order,
    have the term ids ``terms`` (V distinct)."""
    N = len(lens)
    tot = int(lens.sum())
    avgdl = tot / N if N else 0.0
    # internal order: by length, then id
    perm = np.argsort(lens, kind="stable")
    int2ext = perm.astype(np.int32)
    ext2int = np.empty(N, np.int32)
    ext2int[perm] = np.arange(N, dtype=np.int32)
    dl_sorted = lens[perm]
    dl_vals = np.unique(dl_sorted)
    ndl = len(dl_vals)
    dl_idx = np.searchsorted(dl_vals, dl_sorted).astype(
        np.uint8 if ndl <= 256 else np.uint16 if ndl <= 65536 else np.int32
    )
    dl_start = np.append(np.searchsorted(dl_sorted, dl_vals), N).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kvals = params.K1 * (1 - params.B + params.B * dl_vals / avgdl) if N else np.zeros(0)

    # postings: (term, internal doc) pairs with their counts, then grouped by term and tf (desc)
    pdoc, layer_tf, layer_term, layer_off, df, max_tf = _postings(terms, np.repeat(ext2int, lens), V)
    del terms
    term_layer = np.searchsorted(layer_term, np.arange(V + 1)).astype(np.int64)
    NL = len(layer_tf)

    # idf exactly as rank_bm25 computes it (math.log; summed in first-appearance order)
    # the average idf exactly as rank_bm25 sums it: math.log, in first-appearance order
    if V:
        dfs, inv = np.unique(df, return_inverse=True)
        per_df = np.array([math.log(N - d + 0.5) - math.log(d + 0.5) for d in dfs.tolist()])
        average_idf = float(np.add.accumulate(per_df[inv.ravel()])[-1]) / V  # accumulate: left to right
    else:
        average_idf = 0.0

    # each term's largest impact: the first (shortest) doc of one of its layers; kept as float32,
    # rounded up (a bound), and used as such everywhere
    if NL:
        lay_imp = impact(layer_tf.astype(np.float64), kvals[dl_idx[pdoc[layer_off[:-1]]]])
        umax = np.maximum.reduceat(lay_imp, term_layer[:-1])
    else:
        umax = np.zeros(V)
    umax32 = umax.astype(np.float32)
    low = umax32.astype(np.float64) < umax
    umax32[low] = np.nextafter(umax32[low], np.float32(np.inf))
    umax = umax32.astype(np.float64)

    # impact-level tables
    grid_terms = np.flatnonzero(df > params.GRID_MIN_DF)
    Vg = len(grid_terms)
    grid_of = np.full(V, -1, np.int32)
    grid_of[grid_terms] = np.arange(Vg, dtype=np.int32)
    nrows = int((term_layer[grid_terms + 1] - term_layer[grid_terms]).sum()) if Vg else 0
    grid_cut = np.zeros((nrows, params.LEVELS), np.int32)
    grid_row0 = np.zeros(Vg, np.int64)
    grid_cnt = np.zeros((Vg, params.LEVELS), np.int64)
    grid_jmax = np.full(Vg, params.LEVELS - 1, np.int16)
    grid_whole = np.ones(Vg, bool)  # layers kept whole (else cut below level grid_jmax)
    neg_f: dict[int, np.ndarray] = {}
    row = 0
    for g, t in enumerate(grid_terms.tolist()):
        grid_row0[g] = row
        thr = umax[t] * params.RATIOS
        for li in range(int(term_layer[t]), int(term_layer[t + 1])):
            a = int(layer_tf[li])
            nf = neg_f.get(a)
            if nf is None:
                nf = neg_f[a] = -impact(float(a), kvals)  # ascending along the length order
            bound = dl_start[np.searchsorted(nf, -thr, side="right")]
            grid_cut[row] = np.searchsorted(pdoc[layer_off[li] : layer_off[li + 1]], bound)
            row += 1
        grid_cnt[g] = grid_cut[grid_row0[g] : row].sum(axis=0)

    # 4-bit tf columns for the frequent terms; their layers keep only their best postings
    if N >= params.DENSE_MIN_DOCS:
        dense_terms = np.flatnonzero(df >= max(N // params.DENSE_FRACTION, params.GRID_MIN_DF + 1))
    else:
        dense_terms = np.zeros(0, np.int64)
    F = len(dense_terms)
    dense_of = np.full(V, -1, np.int32)
    dense_of[dense_terms] = np.arange(F, dtype=np.int32)
    dense = np.zeros(((F + 1) // 2, N), np.uint8)
    keep = np.ones(len(pdoc), bool)
    esc_keys, esc_tfs = [], []
    col = np.zeros(N, np.uint8)
    for i, t in enumerate(dense_terms.tolist()):
        g = int(grid_of[t])
        if df[t] <= params.DENSE_PREFIX:
            jmax = -1  # layers kept whole
        else:
            jmax = max(int(np.searchsorted(grid_cnt[g], params.DENSE_PREFIX, side="right")) - 1, 0)
            grid_jmax[g] = jmax
            grid_whole[g] = False
        lo, hi = int(term_layer[t]), int(term_layer[t + 1])
        r0 = int(grid_row0[g])
        col[:] = 0
        for li in range(lo, hi):
            a, b = int(layer_off[li]), int(layer_off[li + 1])
            tfv = int(layer_tf[li])
            col[pdoc[a:b]] = min(tfv, params.NIBBLE)
            if tfv >= params.NIBBLE:
                esc_keys.append(i * N + pdoc[a:b].astype(np.int64))
                esc_tfs.append(np.full(b - a, tfv, np.int64))
            if jmax >= 0:
                keep[a + int(grid_cut[r0 + li - lo, jmax]) : b] = False
        if i & 1:
            dense[i // 2] |= col << 4
        else:
            dense[i // 2] |= col
    if esc_keys:
        esc_key = np.concatenate(esc_keys)
        o = np.argsort(esc_key)
        esc_key, esc_tf = esc_key[o], np.concatenate(esc_tfs)[o].astype(np.int32 if max_tf < 2**31 else np.int64)
    else:
        esc_key, esc_tf = np.zeros(0, np.int64), np.zeros(0, np.int32)
    if not keep.all():
        kept = np.zeros(len(keep) + 1, np.int64)
        np.cumsum(keep, out=kept[1:])
        layer_off = kept[layer_off]
        pdoc = pdoc[keep]
    del keep

    # small corpora also keep each posting's contribution, idf * impact, exactly as rank_bm25
    # computes it: exhaustive queries just add them up
    if N <= params.SMALL_CORPUS and len(pdoc):
        sizes = np.diff(layer_off)
        tf_each = np.repeat(layer_tf.astype(np.int64), sizes)
        idfs = np.array([math.log(N - d + 0.5) - math.log(d + 0.5) for d in df.tolist()])
        idfs[idfs < 0] = params.EPSILON * average_idf
        post_w = np.repeat(idfs[layer_term], sizes) * (tf_each * (params.K1 + 1) / (tf_each + kvals[dl_idx[pdoc]]))
    else:
        post_w = np.zeros(0)

    arrays = {
        "int2ext": int2ext,
        "ext2int": ext2int,
        "dl_idx": dl_idx,
        "dl_vals": dl_vals.astype(np.int64),
        "dl_start": dl_start,
        "kvals": np.asarray(kvals, np.float64),
        "df_": df.astype(np.int32 if N < 2**31 else np.int64),
        "umax": umax32,
        "term_layer": term_layer.astype(np.int32 if NL < 2**31 else np.int64),
        "layer_off": layer_off.astype(np.int32 if len(pdoc) < 2**31 else np.int64),
        "layer_tf": layer_tf.astype(np.uint16 if max_tf < 65536 else np.int32),
        "post": pdoc,
        "post_w": post_w,
        "dense_of": _small(dense_of),
        "dense": dense,
        "esc_key": esc_key,
        "esc_tf": esc_tf,
        "grid_of": _small(grid_of),
        "grid_cnt": grid_cnt.astype(np.int32 if N < 2**31 else np.int64),
        "grid_row0": grid_row0,
        "grid_cut": grid_cut,
        "grid_jmax": grid_jmax,
        "grid_whole": grid_whole,
    }
    meta = {
        "doc_count": N,
        "total_tokens": tot,
        "avgdl": avgdl,
        "average_idf": average_idf,
        "max_tf": max_tf,
        "ratios": params.RATIOS.tolist(),
    }
    return arrays, meta


def _postings(terms: Array, docs: Array, V: int) -> tuple[Array, Array, Array, Array, Array, int]:
    """Postings from token occurrences (term id, internal doc id): the doc ids grouped by term,
    then by tf (highest first), then by doc; and per layer (one per term and tf) its tf, term
    and offset, each term's df and the largest tf.

    One sort of (term, doc) keys counts the tfs.  Postings of tf 1 (most of them) are then
    already in their final order within their term; only those of higher tf are sorted again.
    """
    if len(terms) == 0:
        return (
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(1, np.int64),
            np.zeros(V, np.int64),
            0,
        )
    key = terms.astype(np.uint64)  # (term << 32 | doc), built in place: 8 bytes a token, once
    key <<= np.uint64(32)
    key |= docs.astype(np.uint32)
    key.sort()
    chg = np.empty(len(key), bool)
    chg[0] = True
    np.not_equal(key[1:], key[:-1], out=chg[1:])
    starts = np.flatnonzero(chg)
    del chg
    tf = np.diff(starts, append=len(key)).astype(np.int32)
    key = key[starts]
    del starts
    term = (key >> np.uint64(32)).astype(np.int32)
    doc = (key & np.uint64(0xFFFFFFFF)).astype(np.int32)
    del key
    df = np.bincount(term, minlength=V).astype(np.int64)
    first = np.zeros(V + 1, np.int64)  # where each term's postings start
    np.cumsum(df, out=first[1:])
    multi = np.flatnonzero(tf > 1)
    multi = multi[np.lexsort((doc[multi], -tf[multi], term[multi]))]
    n_multi = np.bincount(term[multi], minlength=V)
    m_first = np.zeros(V + 1, np.int64)
    np.cumsum(n_multi, out=m_first[1:])
    mt = term[multi]
    pos = first[mt] + (np.arange(len(multi)) - m_first[mt])
    P = len(doc)
    pdoc = np.empty(P, np.int32)
    ptf = np.ones(P, np.int32)
    pdoc[pos] = doc[multi]
    ptf[pos] = tf[multi]
    del pos, mt
    single = np.ones(P, bool)
    single[multi] = False
    ones = np.flatnonzero(single)
    del single
    st = term[ones]
    s_first = np.zeros(V + 1, np.int64)
    np.cumsum(df - n_multi, out=s_first[1:])
    pdoc[first[st] + n_multi[st] + (np.arange(len(ones)) - s_first[st])] = doc[ones]
    del ones, st, doc, term
    pterm = np.repeat(np.arange(V, dtype=np.int32), df)
    chg = np.empty(P, bool)
    chg[0] = True
    chg[1:] = (pterm[1:] != pterm[:-1]) | (ptf[1:] != ptf[:-1])
    lstart = np.flatnonzero(chg)
    del chg
    layer_off = np.append(lstart, P).astype(np.int64)
    return pdoc, ptf[lstart].astype(np.int64), pterm[lstart].astype(np.int64), layer_off, df, int(tf.max())


def _small(a: Array) -> Array:
    """int16 if the values fit."""
    return a.astype(np.int16) if len(a) == 0 or (a.min() >= -(1 << 15) and a.max() < (1 << 15)) else a
