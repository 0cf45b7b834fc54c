"""Building the layout (layout.py) from token lists: one pass over the documents, then compiled
counting sorts.

The documents are read in chunks of CHUNK: each token becomes a term id (in order of first
appearance, as BM25Okapi meets them, so the average idf is summed in rank-bm25's order) and only
int32 term ids and int64 lengths are kept.  The postings come from two counting sorts, by term
and then by tf within a term, reading the documents in their internal order (``_invert``): a
sort-based inversion (Witten, Moffat & Bell, "Managing Gigabytes", 2nd ed., section 5.2) that
is linear in the tokens.  Then the dense tf columns of the frequent terms (``_dense``).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, count, islice
from typing import Any

import numba
import numpy as np

from . import params
from .layout import Array, Layout
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
    lay = Layout(arrays, meta)
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
    dl_idx = np.searchsorted(dl_vals, dl_sorted).astype(np.int32)
    dl_start = np.append(np.searchsorted(dl_sorted, dl_vals), N).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kvals = params.K1 * (1 - params.B + params.B * dl_vals / avgdl) if N else np.zeros(0)

    # postings: grouped by term, then by tf (highest first), then by internal doc
    starts = np.zeros(N + 1, np.int64)
    np.cumsum(lens, out=starts[1:])
    pdoc, layer_tf, layer_off, term_layer, df = _invert(terms, starts, int2ext, V)
    del terms
    max_tf = int(layer_tf.max(initial=0))

    # the average idf exactly as rank_bm25 sums it: math.log, in first-appearance order
    if V:
        dfs, inv = np.unique(df, return_inverse=True)
        per_df = np.array([math.log(N - d + 0.5) - math.log(d + 0.5) for d in dfs.tolist()])
        average_idf = float(np.add.accumulate(per_df[inv.ravel()])[-1]) / V  # accumulate: left to right
    else:
        average_idf = 0.0

    # 4-bit tf columns for the frequent terms (two to a byte column), tf >= 15 in an exception table
    if N >= params.DENSE_MIN_DOCS:
        dense_terms = np.flatnonzero(df >= max(N // params.DENSE_FRACTION, 1))
    else:
        dense_terms = np.zeros(0, np.int64)
    F = len(dense_terms)
    dense_of = np.full(V, -1, np.int32)
    dense_of[dense_terms] = np.arange(F, dtype=np.int32)
    dense = np.zeros(((F + 1) // 2, N), np.uint8)
    esc_key, esc_tf = _dense(dense_terms, term_layer, layer_off, layer_tf, pdoc, dense, params.NIBBLE)

    arrays = {
        "int2ext": int2ext,
        "ext2int": ext2int,
        "dl_idx": dl_idx,
        "dl_vals": dl_vals,
        "dl_start": dl_start,
        "kvals": kvals,
        "df_": df,
        "term_layer": term_layer,
        "layer_off": layer_off,
        "layer_tf": layer_tf,
        "post": pdoc,
        "dense_of": dense_of,
        "dense": dense,
        "esc_key": esc_key,
        "esc_tf": esc_tf,
    }
    meta = {
        "doc_count": N,
        "total_tokens": tot,
        "avgdl": avgdl,
        "average_idf": average_idf,
        "max_tf": max_tf,
    }
    return arrays, meta


@numba.njit(cache=True, nogil=True)
def _invert(terms: Any, starts: Any, int2ext: Any, V: int) -> tuple[Any, Any, Any, Any, Any]:
    """The postings of N documents whose tokens have term ids ``terms`` (document e's are
    ``terms[starts[e]:starts[e + 1]]``), as (post, layer_tf, layer_off, term_layer, df).

    Two counting sorts (a bucket per term, then a bucket per tf within a term), so linear in the
    tokens: documents are read in internal order (``int2ext``), so each term's bucket holds its
    documents in order, a document's repeats side by side.
    """
    T = len(terms)
    off = np.zeros(V + 1, np.int64)
    for x in range(T):
        off[terms[x] + 1] += 1
    for t in range(V):
        off[t + 1] += off[t]
    pos = off[:V].copy()
    bucket = np.empty(T, np.int32)
    for d in range(len(int2ext)):
        e = int2ext[d]
        for x in range(starts[e], starts[e + 1]):
            t = terms[x]
            bucket[pos[t]] = d
            pos[t] += 1
    # runs of one document are postings: (doc, tf), compacted in place
    df = np.zeros(V, np.int64)
    tf_of = np.empty(T, np.int32)
    pstart = np.zeros(V + 1, np.int64)
    w = 0
    max_tf = 0
    for t in range(V):
        pstart[t] = w
        x = off[t]
        while x < off[t + 1]:
            d = bucket[x]
            y = x + 1
            while y < off[t + 1] and bucket[y] == d:
                y += 1
            bucket[w] = d
            tf_of[w] = y - x
            if y - x > max_tf:
                max_tf = y - x
            w += 1
            x = y
        df[t] = w - pstart[t]
    pstart[V] = w
    # layers: within each term, the postings by tf (highest first), documents in order
    count = np.zeros(max_tf + 1, np.int64)
    n_layers = 0
    for t in range(V):
        for p in range(pstart[t], pstart[t + 1]):
            if count[tf_of[p]] == 0:
                n_layers += 1
            count[tf_of[p]] += 1
        for p in range(pstart[t], pstart[t + 1]):
            count[tf_of[p]] = 0
    post = np.empty(w, np.int32)
    layer_tf = np.empty(n_layers, np.int32)
    layer_off = np.empty(n_layers + 1, np.int64)
    term_layer = np.empty(V + 1, np.int64)
    at = np.zeros(max_tf + 1, np.int64)
    li = 0
    for t in range(V):
        term_layer[t] = li
        hi = 0
        for p in range(pstart[t], pstart[t + 1]):
            count[tf_of[p]] += 1
            if tf_of[p] > hi:
                hi = tf_of[p]
        o = pstart[t]
        for tf in range(hi, 0, -1):
            if count[tf]:
                layer_tf[li] = tf
                layer_off[li] = o
                at[tf] = o
                o += count[tf]
                count[tf] = 0
                li += 1
        for p in range(pstart[t], pstart[t + 1]):
            post[at[tf_of[p]]] = bucket[p]
            at[tf_of[p]] += 1
    term_layer[V] = li
    layer_off[n_layers] = w
    return post, layer_tf, layer_off, term_layer, df


@numba.njit(cache=True, nogil=True)
def _dense(
    dense_terms: Any, term_layer: Any, layer_off: Any, layer_tf: Any, post: Any, dense: Any, nibble: int
) -> tuple[Any, Any]:
    """Fill the dense 4-bit tf columns (slot i: byte row i // 2, high nibble if i is odd); a tf
    of ``nibble`` or more is stored as ``nibble``, and its (slot * N + doc, tf) goes to the
    exception table, returned as (esc_key, esc_tf), sorted by key."""
    N = dense.shape[1]
    n_esc = 0
    for i in range(len(dense_terms)):
        t = dense_terms[i]
        for li in range(term_layer[t], term_layer[t + 1]):
            if layer_tf[li] >= nibble:
                n_esc += layer_off[li + 1] - layer_off[li]
    esc_key = np.empty(n_esc, np.int64)
    esc_tf = np.empty(n_esc, np.int64)
    k = 0
    for i in range(len(dense_terms)):
        t = dense_terms[i]
        row = dense[i >> 1]
        shift = 4 if i & 1 else 0
        for li in range(term_layer[t], term_layer[t + 1]):
            tf = layer_tf[li]
            nib = np.uint8(min(tf, nibble) << shift)
            for p in range(layer_off[li], layer_off[li + 1]):
                d = post[p]
                row[d] |= nib
                if tf >= nibble:
                    esc_key[k] = np.int64(i) * N + d
                    esc_tf[k] = tf
                    k += 1
    o = np.argsort(esc_key)
    return esc_key[o], esc_tf[o]
