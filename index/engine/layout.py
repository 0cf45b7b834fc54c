"""The index's layout: the arrays a query reads, and what a query needs to know of one term.

N documents are renumbered internally by length (then by id), so the length normaliser
``K = k1 * (1 - b + b * dl / avgdl)`` never decreases along the internal order.

* A term's postings are split into *layers*, one per distinct term frequency, highest tf first;
  a layer is a sorted int32 array of internal doc ids (its tf is the layer's, not stored per
  posting).  Along a layer the impact ``tf * (k1 + 1) / (tf + K)`` never increases, so "the
  postings with impact >= g" is a prefix of every layer: an impact-ordered index in the sense of
  Anh & Moffat, "Pruned query evaluation using pre-computed impacts" (SIGIR 2006), kept exact.
* Terms with more than GRID_MIN_DF postings have LEVELS impact levels ``g_j = max_impact *
  RATIOS[j]``: for each layer, the length of its prefix at each level (``grid_cut``); for the
  term, the postings above each (``grid_cnt``).
* The frequent terms (in >= N/DENSE_FRACTION documents) also have their tf in a dense column
  (4 bits per document, two terms to a byte column; 15 = look in a small exception table), so
  that looking up a candidate is one gather.  Their layers keep only about DENSE_PREFIX postings.
* Pair lists (pairs.py) for the most frequent terms; tf bit planes (planes.py) for all dense terms.
* Small corpora (up to SMALL_CORPUS documents) also keep each posting's contribution (float64).

build.py makes these arrays from token lists, storage.py saves and maps them.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from . import params
from .vocab import Vocab

Array = npt.NDArray[Any]

ARRAY_NAMES = (
    "int2ext",
    "ext2int",
    "dl_idx",
    "dl_vals",
    "dl_start",
    "kvals",
    "df_",
    "umax",
    "term_layer",
    "layer_off",
    "layer_tf",
    "post",
    "post_w",
    "dense_of",
    "dense",
    "esc_key",
    "esc_tf",
    "grid_of",
    "grid_cnt",
    "grid_row0",
    "grid_cut",
    "grid_jmax",
    "grid_whole",
    "pair_terms",
    "pair_index",
    "pair_off",
    "pair_docs",
    "pair_b0",
    "pair_bound",
    "pair_depths",
    "plane_bits",
    "plane_tf",
)
EMPTY = np.zeros(0, np.int32)


def impact(tf: Any, K: Any) -> Any:
    """rank-bm25's tf part, ``tf * (k1 + 1) / (tf + K)``, in its order of operations."""
    return tf * (params.K1 + 1) / (tf + K)


def tol(theta: float) -> float:
    """Slack for float rounding when comparing bounds with candidate scores."""
    return 1e-9 * (1.0 + abs(theta))


class Scratch(threading.local):
    """Per-thread buffers: N-entry tf buffers and a float64 accumulator, all-zero between uses."""

    bufs: list[Array] | None = None
    made = 0
    acc: Array | None = None


class QTerm:
    """A query term: its weight (query multiplicity * idf), where its postings are, and how far
    a query has read them (``cur``: the impact level listed so far, -1 for none)."""

    __slots__ = (
        "buf",
        "byte",
        "cur",
        "df",
        "esc",
        "full",
        "g",
        "hi",
        "jmax",
        "lo",
        "looked",
        "maxtf",
        "shift",
        "slot",
        "t",
        "tab",
        "umax",
        "w",
        "whole",
    )

    pair = False
    buf: Array | None
    byte: int
    cur: int
    df: int
    esc: bool
    full: bool
    g: int
    hi: int
    jmax: int
    lo: int
    looked: int
    maxtf: int
    shift: int
    slot: int
    t: int
    tab: Array | None
    umax: float
    w: float
    whole: bool

    def __repr__(self) -> str:
        return f"<t={self.t} w={self.w:.3f} slot={self.slot} level={self.cur} full={self.full}>"


class Layout:
    """The arrays of one index (see the module doc) and the per-term facts queries look up."""

    int2ext: Array
    ext2int: Array
    dl_idx: Array
    dl_vals: Array
    dl_start: Array
    kvals: Array
    df_: Array
    umax: Array
    term_layer: Array
    layer_off: Array
    layer_tf: Array
    post: Array
    post_w: Array
    dense_of: Array
    dense: Array
    esc_key: Array
    esc_tf: Array
    grid_of: Array
    grid_cnt: Array
    grid_row0: Array
    grid_cut: Array
    grid_jmax: Array
    grid_whole: Array
    pair_terms: Array
    pair_index: Array
    pair_off: Array
    pair_docs: Array
    pair_b0: Array
    pair_bound: Array
    pair_depths: Array
    plane_bits: Array
    plane_tf: Array

    def __init__(self, arrays: dict[str, Array], meta: dict[str, Any]):
        for name in ARRAY_NAMES:
            setattr(self, name, arrays[name])
        self.vocab = Vocab.from_arrays(arrays)
        self.doc_count = int(meta["doc_count"])
        self.total_tokens = int(meta["total_tokens"])
        self.avgdl = float(meta["avgdl"])
        self.average_idf = float(meta["average_idf"])
        self.max_tf = int(meta["max_tf"])
        self.ratios = np.asarray(meta["ratios"], np.float64)
        self.ndl = len(self.kvals)
        self.klist: list[float] = np.asarray(self.kvals).tolist()
        self.tables = self.ndl <= params.TABLE_MAX_LENGTHS
        with np.errstate(divide="ignore", invalid="ignore"):
            # impact of tf 0..15 at each length, laid out [length, tf]: the dense terms' lookup table
            self.f16t = impact(
                np.arange(params.NIBBLE + 1, dtype=np.float64)[None, :], np.asarray(self.kvals)[:, None]
            ).ravel()
        # impact of tf = 0..15 at each length index, one array per tf
        self.fcol = (
            [self.f16t[tf :: params.NIBBLE + 1].copy() for tf in range(params.NIBBLE + 1)] if self.tables else []
        )
        self.esc_slots: set[int] = (
            set(np.unique(np.asarray(self.esc_key) // max(self.doc_count, 1)).tolist()) if len(self.esc_key) else set()
        )
        self.pair_rank = {t: i for i, t in enumerate(np.asarray(self.pair_terms).tolist())}
        self.scratch = Scratch()
        self.tfbuf_dtype = np.uint8 if self.max_tf <= 255 else np.int32
        self._terms: dict[int, tuple[Any, ...]] = {}  # term id -> what a query needs to know of it
        self._tokens: dict[str, int] = {}  # token -> term id (-1: not in the corpus)
        self._idfs: dict[int, float] = {}  # term id -> idf

    def meta(self) -> dict[str, Any]:
        return {
            "doc_count": self.doc_count,
            "total_tokens": self.total_tokens,
            "avgdl": self.avgdl,
            "average_idf": self.average_idf,
            "max_tf": self.max_tf,
            "ratios": self.ratios.tolist(),
        }

    def arrays(self) -> dict[str, Array]:
        out = {name: getattr(self, name) for name in ARRAY_NAMES}
        out.update(self.vocab.arrays())
        return out

    @property
    def nbytes(self) -> int:
        """Bytes of everything the query path holds: the index arrays and a query's scratch buffers."""
        n = sum(int(a.nbytes) for a in self.arrays().values())
        return n + self.doc_count * (params.MAX_BUFS * np.dtype(self.tfbuf_dtype).itemsize + 8)

    # ------------------------------------------------------------------ terms
    def tid(self, token: str) -> int:
        """The term id of a token; -1 if no document holds it."""
        t = self._tokens.get(token)
        if t is None:
            t = self.vocab.get(token) if self.doc_count else -1
            if len(self._tokens) >= params.CACHE_TERMS:
                self._tokens.clear()
            self._tokens[token] = t
        return t

    def idf(self, t: int) -> float:
        """BM25Okapi's idf of term t, as rank_bm25 computes it (floored at epsilon * average idf)."""
        v = self._idfs.get(t)
        if v is None:
            d = int(self.df_[t])
            v = math.log(self.doc_count - d + 0.5) - math.log(d + 0.5)
            if v < 0:
                v = params.EPSILON * self.average_idf
            if len(self._idfs) >= params.CACHE_TERMS:
                self._idfs.clear()
            self._idfs[t] = v
        return v

    def resolve(self, tokens: list[str] | tuple[str, ...] | Any) -> tuple[list[int], dict[int, int]]:
        """(the known tokens' term ids in query order, each term's multiplicity)."""
        order = [t for t in map(self.tid, tokens) if t >= 0]
        mult: dict[int, int] = {}
        for t in order:
            mult[t] = mult.get(t, 0) + 1
        return order, mult

    def qterm(self, t: int, w: float) -> QTerm:
        """A fresh query term for term id t with weight w (nothing listed yet)."""
        q = QTerm()
        q.t, q.w = t, w
        info = self._terms.get(t)
        if info is None:
            slot = int(self.dense_of[t])
            g = int(self.grid_of[t])
            lo, hi = int(self.term_layer[t]), int(self.term_layer[t + 1])
            info = (
                slot,
                slot // 2,
                4 if slot & 1 else 0,
                slot in self.esc_slots,
                g,
                float(self.umax[t]),
                lo,
                hi,
                int(self.grid_jmax[g]) if g >= 0 else -1,
                g < 0 or bool(self.grid_whole[g]),
                int(self.df_[t]),
                int(self.layer_tf[lo]),
            )
            if len(self._terms) >= params.CACHE_TERMS:
                self._terms.clear()
            self._terms[t] = info
        (q.slot, q.byte, q.shift, q.esc, q.g, q.umax, q.lo, q.hi, q.jmax, q.whole, q.df, q.maxtf) = info
        q.cur = -1
        q.full = False
        q.buf = None
        q.looked = 0
        q.tab = None
        return q

    # ------------------------------------------------------------------ scratch buffers
    def take_buf(self) -> Array | None:
        """An all-zero N-entry tf buffer of this thread's (at most MAX_BUFS); None if all are out."""
        s = self.scratch
        if s.bufs is None:
            s.bufs = []
            s.made = 0
        if s.bufs:
            return s.bufs.pop()
        if s.made < params.MAX_BUFS:
            s.made += 1
            return np.zeros(self.doc_count, self.tfbuf_dtype)
        return None

    def give_buf(self, buf: Array) -> None:
        """Return a buffer from take_buf, all-zero again."""
        if self.scratch.bufs is not None:  # (always: take_buf made the list)
            self.scratch.bufs.append(buf)

    def fill_buf(self, q: QTerm, buf: Array, value: bool) -> None:
        """Write q's tf (value=True) or 0 (value=False) into buf at q's listed postings."""
        offs = self.layer_off[q.lo : q.hi + 1].tolist()
        tfs = self.layer_tf[q.lo : q.hi].tolist() if value else [0] * (q.hi - q.lo)
        post = self.post
        for i, tf in enumerate(tfs):
            buf[post[offs[i] : offs[i + 1]]] = tf
