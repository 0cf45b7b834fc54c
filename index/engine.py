"""An exact BM25 index in numpy: rank-bm25's BM25Okapi scores, top-k in well under a millisecond.

Scores are exactly those of ``rank_bm25.BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)``: the
same idf (with its floor, epsilon * average idf, for terms in more than half of the documents),
the same ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` computed in the same order,
and a query token repeated n times counts n times.  The top-k are the exact k best documents
holding a query token, ties broken by lower doc id.  The engine takes token lists and does not
care how they were made.

Layout (N documents):

* Documents are renumbered internally by length (then by id), so the length normaliser
  ``K = k1 * (1 - b + b * dl / avgdl)`` never decreases along the internal order.
* A term's postings are split into *layers*, one per distinct term frequency, highest tf first;
  a layer is a sorted int32 array of internal doc ids (its tf is the layer's, not stored per
  posting).  Along a layer the impact ``tf * (k1 + 1) / (tf + K)`` never increases, so "the
  postings with impact >= g" is a prefix of every layer.
* Terms with more than GRID_MIN_DF postings have 64 impact levels ``g_j = max_impact * RATIOS[j]``:
  for each layer, the length of its prefix at each level; for the term, the postings above each.
* The frequent terms (in >= N/64 documents) also have their tf in a dense column (4 bits per
  document, two terms to a byte column; 15 = look in a small exception table), so that looking
  up a candidate is one gather.  Their layers are kept only down to about DENSE_PREFIX postings.
* Pair lists: for every two of the 64 most frequent terms, the docs with the best sum of the two
  contributions (up to 4096 of them, one per 256 documents), best first, with a bound on that sum
  for every doc past 16, 32, 64, ... of them.  Queries of common words mostly need these: a doc
  can be fairly high on several common words without being high on any, and single-term bounds
  cannot rule that out without listing tens of thousands of postings.
* Small corpora (up to SMALL_CORPUS documents) also keep each posting's impact (float32).

A query:

* with few postings in all is scored exhaustively, contributions added in query order;
* of one term lists its best postings, level by level, until the level's bound is below the k-th;
* else runs a threshold algorithm over *sources*, pair lists and single terms.  Listed docs are
  scored with every query term (dense gathers; binary searches or a scatter buffer for the
  others); a doc no source has listed scores below the sum of the sources' current bounds.
  Rounds deepen the sources (heavier ones more) to raise the k-th score; then a small knapsack
  picks the levels whose bounds sum below it with the fewest postings.  Pair lists that run out
  hand over to their two terms.

The candidates that can still reach the k-th score are rescored exactly, in query order, and
sorted by (score desc, doc id asc).  With an ``allowed`` mask, listed docs outside it are dropped
(the bounds still hold); a mask that lets few docs through is scored doc by doc.
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, count, islice, pairwise
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75
EPSILON = 0.25

GRID_MIN_DF = 512  # terms with more postings get impact-level tables
DENSE_FRACTION = 64  # terms in >= N/64 documents get a dense 4-bit tf column
DENSE_MIN_DOCS = 4096  # no dense columns in smaller corpora
DENSE_PREFIX = 1 << 16  # postings kept in a dense term's layers (its best, by impact)
NIBBLE = 15  # a dense tf of 15 or more is stored as 15; the exact value is in the exception table
LEVELS = 64
RATIOS = np.exp(-0.04 * np.arange(LEVELS))
SEED_COUNT = 32  # postings per term in the first round
DEEPEN_BUDGET = 2048  # postings in the first deepening round
DEEPEN_GROWTH = 4  # ... and this many times more in each next one
CHUNK = 100_000  # documents per build chunk (and progress report)
MAX_BUFS = 2  # per-thread N-entry tf buffers for looking up mid-frequency terms
MERGE = 8192  # a round's parts smaller than this in total are scored as one batch
TABLE_MAX_LENGTHS = 4096  # impact lookup tables when there are at most this many distinct doc lengths
FAST_MAX = 16384  # queries with at most this many postings are scored exhaustively
SMALL_CORPUS = 1 << 16  # corpora up to this size store each posting's contribution (float64)
DENSE_ACC_MAX = 1 << 16  # corpora up to this size score exhaustive queries in a fresh dense array
PAIR_TERMS = 64  # pair lists for every two of the most frequent dense terms
PAIR_DEPTH = 4096  # docs kept per pair list (at most)
PAIR_DOCS = 256  # ... and at most one per this many documents of the corpus
PAIR_MIN_DEPTH = 64  # no pair lists if they would be shorter
PAIR_HEAD = 8  # a pair list is chosen among each term's PAIR_HEAD * depth best postings
PAIR_FIRST = 16  # pair list levels: the first 16, 32, 64, ... docs
OVER_ALLOWED_MIN = 4096  # a mask letting through at most max(this, N/16) docs is scored doc by doc
CACHE_TERMS = 1 << 14  # tokens and terms whose lookups are cached (the cache is cleared when full)
_FORMAT = 7

_SPLIT_LEVELS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 19, 22, 26, 30, 35, 40, 46, 52, 58, LEVELS - 1])
_BUDGET = np.arange(256)
_TRACE: list | None = None  # debugging: when a list, the query path appends what it does

_I32 = np.int32
_I64 = np.int64
_EMPTY = np.zeros(0, _I32)
_NO_PAIRS = {
    "pair_terms": np.zeros(0, np.int32), "pair_index": np.zeros((0, 0), np.int32), "pair_off": np.zeros(1, np.int64),
    "pair_docs": np.zeros(0, np.int32), "pair_b0": np.zeros(0), "pair_bound": np.zeros((0, 0)), "pair_depths": np.zeros(0, np.int64),
}


def _impact(tf, K):
    """rank-bm25's tf part, in its order of operations."""
    return tf * (K1 + 1) / (tf + K)


def _tol(theta: float) -> float:
    """Slack for float rounding when comparing bounds with candidate scores."""
    return 1e-9 * (1.0 + abs(theta))


class _Vocab:
    """Token -> term id in numpy arrays: the tokens' utf-8 bytes and a crc32-bucketed table."""

    __slots__ = ("bids", "blob", "bstart", "mask", "off")

    def __init__(self, blob, off, bstart, bids):
        self.blob, self.off, self.bstart, self.bids = blob, off, bstart, bids
        self.mask = len(bstart) - 2

    @classmethod
    def build(cls, tokens: list[str]) -> _Vocab:
        raw = [t.encode("utf-8", "surrogatepass") for t in tokens]
        off = np.zeros(len(raw) + 1, _I64)
        np.cumsum(np.fromiter(map(len, raw), _I64, len(raw)), out=off[1:])
        blob = np.frombuffer(b"".join(raw), np.uint8).copy()
        size = 1 << max(0, (len(raw) - 1).bit_length())
        h = np.fromiter(map(zlib.crc32, raw), _I64, len(raw)) & (size - 1)
        bids = np.argsort(h, kind="stable").astype(_I32)
        bstart = np.zeros(size + 1, _I64)
        np.cumsum(np.bincount(h, minlength=size), out=bstart[1:])
        if off[-1] < 2**31:
            off, bstart = off.astype(_I32), bstart.astype(_I32)
        return cls(blob, off, bstart, bids)

    def get(self, token: str) -> int:
        raw = token.encode("utf-8", "surrogatepass")
        h = zlib.crc32(raw) & self.mask
        lo, hi = self.bstart[h : h + 2].tolist()
        for i in range(lo, hi):
            t = int(self.bids[i])
            a, b = self.off[t : t + 2].tolist()
            if b - a == len(raw) and self.blob[a:b].tobytes() == raw:
                return t
        return -1

    def token(self, t: int) -> str:
        a, b = self.off[t : t + 2].tolist()
        return self.blob[a:b].tobytes().decode("utf-8", "surrogatepass")

    def arrays(self) -> dict:
        return {"vocab_blob": self.blob, "vocab_off": self.off, "vocab_bstart": self.bstart, "vocab_bids": self.bids}


class _Scratch(threading.local):
    """Per-thread tf buffers (N entries each, kept all-zero between uses)."""

    bufs: list | None = None
    made = 0
    acc = None  # float64 score accumulator, all-zero between uses


class _QTerm:
    """A query term and where the query has got to in its postings."""

    __slots__ = ("buf", "byte", "cur", "df", "esc", "full", "g", "hi", "jmax", "lo", "looked", "maxtf", "shift", "slot", "t", "tab", "umax", "w", "whole")

    pair = False

    def __repr__(self) -> str:
        return f"<t={self.t} w={self.w:.3f} slot={self.slot} level={self.cur} full={self.full}>"


class _QPair:
    """A pair list standing in for two query terms, and how far the query has read it."""

    __slots__ = ("a", "b", "b0", "bounds", "cur", "dead", "full", "heft", "jmax", "n", "off", "t")
    pair = True

    def __repr__(self) -> str:
        return f"<pair {self.a.t},{self.b.t} n={self.n} level={self.cur} dead={self.dead}>"


class BM25Index:
    """Exact BM25Okapi (k1=1.5, b=0.75, epsilon=0.25) over token lists; doc ids 0..N-1 in build order."""

    _ARRAYS = (
        "int2ext", "ext2int", "dl_idx", "dl_vals", "dl_start", "kvals",
        "df_", "umax", "term_layer", "layer_off", "layer_tf", "post", "post_w",
        "dense_of", "dense", "esc_key", "esc_tf",
        "grid_of", "grid_cnt", "grid_row0", "grid_cut", "grid_jmax", "grid_whole",
        "pair_terms", "pair_index", "pair_off", "pair_docs", "pair_b0", "pair_bound", "pair_depths",
    )

    def __init__(self, arrays: dict, meta: dict):
        for name in self._ARRAYS:
            setattr(self, name, arrays[name])
        self.vocab = _Vocab(arrays["vocab_blob"], arrays["vocab_off"], arrays["vocab_bstart"], arrays["vocab_bids"])
        self.doc_count = int(meta["doc_count"])
        self.total_tokens = int(meta["total_tokens"])
        self.avgdl = float(meta["avgdl"])
        self.average_idf = float(meta["average_idf"])
        self.max_tf = int(meta["max_tf"])
        self.ratios = np.asarray(meta["ratios"], np.float64)
        self._ndl = len(self.kvals)
        self._klist = np.asarray(self.kvals).tolist()
        # impact of tf 0..15 at each length: the dense terms' lookup table
        with np.errstate(divide="ignore", invalid="ignore"):
            # impact of tf 0..15 at each length, laid out [length, tf]
            self._f16t = _impact(np.arange(NIBBLE + 1, dtype=np.float64)[None, :], np.asarray(self.kvals)[:, None]).ravel()
        self._esc_slots = set(np.unique(np.asarray(self.esc_key) // max(self.doc_count, 1)).tolist()) if len(self.esc_key) else set()
        self._scratch = _Scratch()
        # impact of tf = 0..15 at each length index, one array per tf
        self._fcol = [self._f16t[tf :: NIBBLE + 1].copy() for tf in range(NIBBLE + 1)] if self._ndl <= TABLE_MAX_LENGTHS else []
        self._pair_rank = {t: i for i, t in enumerate(np.asarray(self.pair_terms).tolist())}
        self._terms: dict[int, tuple] = {}  # term id -> what a query needs to know of it
        self._tokens: dict[str, int] = {}  # token -> term id (-1: not in the corpus)
        self._idfs: dict[int, float] = {}  # term id -> idf
        self._tfbuf_dtype = np.uint8 if self.max_tf <= 255 else _I32

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls, docs: Iterable[Sequence[str]], *, progress: Callable[[int], None] | None = None
    ) -> BM25Index:
        """Index token lists; ``progress(docs_done)`` is called after every chunk of 100k documents."""
        # token -> id, ids given in order of first appearance (as BM25Okapi meets them)
        vocab: dict[str, int] = defaultdict(count().__next__)
        term_chunks: list[np.ndarray] = []
        len_chunks: list[np.ndarray] = []
        done = 0
        it = iter(docs)
        while True:
            chunk = list(islice(it, CHUNK))
            if not chunk:
                break
            lens = np.fromiter(map(len, chunk), _I64, len(chunk))
            n = int(lens.sum())
            term_chunks.append(np.fromiter(map(vocab.__getitem__, chain.from_iterable(chunk)), _I32, n))
            len_chunks.append(lens)
            done += len(chunk)
            if progress is not None:
                progress(done)
        terms = np.concatenate(term_chunks) if term_chunks else np.zeros(0, _I32)
        lens = np.concatenate(len_chunks) if len_chunks else np.zeros(0, _I64)
        del term_chunks, len_chunks
        arrays, meta = _build_arrays(terms, lens, len(vocab))
        arrays.update(_Vocab.build(list(vocab)).arrays())
        arrays.update(_NO_PAIRS)
        index = cls(arrays, meta)
        index._add_pairs()
        return index

    def _add_pairs(self) -> None:
        """Pair lists: for every two of the PAIR_TERMS most frequent dense terms a and b, the docs
        with the best idf_a * impact_a + idf_b * impact_b, best first, and the bound of that sum
        for every doc past each level (16, 32, 64, ... docs) of the list."""
        N = self.doc_count
        depth = min(PAIR_DEPTH, N // PAIR_DOCS)
        dense_terms = np.flatnonzero(np.asarray(self.dense_of) >= 0)
        P = min(PAIR_TERMS, len(dense_terms))
        if depth < PAIR_MIN_DEPTH or P < 2:
            return
        depths = []
        d = PAIR_FIRST
        while d < depth:
            depths.append(d)
            d *= 2
        depths.append(depth)
        df = np.asarray(self.df_)
        top = dense_terms[np.argsort(-df[dense_terms], kind="stable")][:P].tolist()
        L = PAIR_HEAD * depth
        heads = []
        for t in top:
            q = _QTerm()
            q.t, q.w = t, self._idf(t)
            self._prepare(q)
            cnt = self.grid_cnt[q.g]
            j = min(int(np.searchsorted(cnt, L + 1)), q.jmax)
            docs, vals = self._contrib(q, q.w, j)
            o = np.lexsort((docs, -vals))
            docs, vals = docs[o], vals[o]
            if len(vals) > L:
                bound = float(vals[L])
            else:
                bound = 0.0 if int(cnt[j]) >= q.df else q.w * q.umax * float(self.ratios[j])
            docs, vals = docs[:L], vals[:L]
            d16 = np.take(self.dl_idx, docs).astype(np.intp) << 4
            cols = self.dense[:, docs]  # every dense column at the head's docs
            heads.append((q, docs, vals, d16, bound, cols))
        index = np.full((P, P), -1, _I32)
        lists, b0, bounds = [], [], []
        last = np.zeros(N, _I32)  # scratch: position of a doc's last copy among a pair's candidates
        seq = np.arange(2 * depth, dtype=_I32)
        for i in range(P):
            qa, da, va, d16a, ba, cols_a = heads[i]
            for j in range(i + 1, P):
                qb, db, vb, d16b, bb, cols_b = heads[j]
                beta = ba + bb  # any doc outside both heads sums at most this
                halves = []
                for (qx, dx, vx, d16x, cols_x), qy in (((qa, da, va, d16a, cols_a), qb), ((qb, db, vb, d16b, cols_b), qa)):
                    sx = self._nib_impacts(qy, dx, d16x, cols_x[qy.byte])
                    sx += vx
                    if len(sx) > 2 * depth:  # only the best 2*depth of each half can make the list
                        part = np.argpartition(sx, len(sx) - 2 * depth)[len(sx) - 2 * depth :]
                        dx, sx = dx[part], sx[part]
                        beta = max(beta, float(sx.min()))  # the rest sum at most this
                    halves.append((dx, sx))
                cand = np.concatenate((halves[0][0], halves[1][0]))
                sc = np.concatenate((halves[0][1], halves[1][1]))
                n = len(sc)
                if n > 2 * depth:
                    cut = n - 2 * depth
                    part = np.argpartition(sc, cut)[cut:]
                    cand, sc = cand[part], sc[part]
                    beta = max(beta, float(sc.min()))  # ... or outside the best 2*depth (at most this)
                # a doc in both heads is there twice, with the same sum: keep one
                pos = seq[: len(cand)]
                last[cand] = pos
                once = np.flatnonzero(last[cand] == pos)
                cand, sc = cand[once], sc[once]
                o = np.argsort(-sc)
                cand, sc = cand[o], sc[o]
                keep = int(np.count_nonzero(sc > beta))
                tail = max(beta, float(sc[depth])) if keep > depth else beta
                keep = min(keep, depth)
                cand, sc = cand[:keep], sc[:keep]
                index[i, j] = index[j, i] = len(lists)
                lists.append(cand.astype(_I32))
                b0.append(float(sc[0]) if keep else tail)
                bounds.append([float(sc[d]) if d < keep else tail for d in depths])
        off = np.zeros(len(lists) + 1, _I64)
        np.cumsum([len(x) for x in lists], out=off[1:])
        self.pair_terms = np.array(top, _I32)
        self.pair_index = index
        self.pair_off = off
        self.pair_docs = np.concatenate(lists) if lists else np.zeros(0, _I32)
        self.pair_b0 = np.array(b0, np.float64)
        self.pair_bound = np.array(bounds, np.float64).reshape(len(lists), len(depths))
        self.pair_depths = np.array(depths, _I64)
        self._pair_rank = {t: i for i, t in enumerate(top)}

    def _nib_impacts(self, q: _QTerm, docs: np.ndarray, dl16: np.ndarray, col: np.ndarray) -> np.ndarray:
        """w * impact of dense term q in docs (dl16: their length index << 4; col: q's byte column
        at the docs)."""
        nib = (col >> 4) if q.shift else (col & NIBBLE)
        if self._ndl <= TABLE_MAX_LENGTHS:
            v = np.take(self._f16t, dl16 + nib)
        else:
            v = _impact(nib.astype(np.float64), self.kvals[dl16 >> 4])
        if q.esc:
            pos = np.flatnonzero(nib == NIBBLE)
            if len(pos):
                etf = self.esc_tf[np.searchsorted(self.esc_key, q.slot * self.doc_count + docs[pos].astype(_I64))]
                v[pos] = _impact(etf, self.kvals[dl16[pos] >> 4])
        v *= q.w
        return v

    # ------------------------------------------------------------------ save / load
    def save(self, directory: Path) -> None:
        """Write the index into ``directory`` (created if needed): one .npy per array + meta.json."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, arr in self._all_arrays().items():
            np.save(directory / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        meta = {
            "format": _FORMAT, "doc_count": self.doc_count, "total_tokens": self.total_tokens,
            "avgdl": self.avgdl, "average_idf": self.average_idf, "max_tf": self.max_tf,
            "ratios": self.ratios.tolist(), "k1": K1, "b": B, "epsilon": EPSILON,
        }
        (directory / "meta.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = True) -> BM25Index:
        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("format") != _FORMAT:
            raise ValueError(f"unsupported index format {meta.get('format')!r} in {directory}")
        names = cls._ARRAYS + ("vocab_blob", "vocab_off", "vocab_bstart", "vocab_bids")
        mode = "r" if mmap else None
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode=mode, allow_pickle=False) for name in names}
        # plain ndarray views of the maps: np.memmap's Python-level subclass hooks cost on every op
        arrays = {name: a.view(np.ndarray) if isinstance(a, np.memmap) else a for name, a in arrays.items()}
        return cls(arrays, meta)

    def _all_arrays(self) -> dict:
        out = {name: getattr(self, name) for name in self._ARRAYS}
        out.update(self.vocab.arrays())
        return out

    @property
    def nbytes(self) -> int:
        """Bytes of everything the query path holds: the index arrays and a query's scratch buffer."""
        n = sum(int(a.nbytes) for a in self._all_arrays().values())
        return n + self.doc_count * (MAX_BUFS * np.dtype(self._tfbuf_dtype).itemsize + 8)

    def _take_buf(self) -> np.ndarray | None:
        s = self._scratch
        if s.bufs is None:
            s.bufs = []
            s.made = 0
        if s.bufs:
            return s.bufs.pop()
        if s.made < MAX_BUFS:
            s.made += 1
            return np.zeros(self.doc_count, self._tfbuf_dtype)
        return None

    def _fill_buf(self, q: _QTerm, buf: np.ndarray, value: bool) -> None:
        offs = self.layer_off[q.lo : q.hi + 1].tolist()
        tfs = self.layer_tf[q.lo : q.hi].tolist() if value else [0] * (q.hi - q.lo)
        post = self.post
        for i, tf in enumerate(tfs):
            buf[post[offs[i] : offs[i + 1]]] = tf

    # ------------------------------------------------------------------ term lookups
    def _tid(self, token: str) -> int:
        t = self._tokens.get(token)
        if t is None:
            t = self.vocab.get(token) if self.doc_count else -1
            if len(self._tokens) >= CACHE_TERMS:
                self._tokens.clear()
            self._tokens[token] = t
        return t

    def df(self, token: str) -> int:
        t = self._tid(token)
        return int(self.df_[t]) if t >= 0 else 0

    def _idf(self, t: int) -> float:
        """BM25Okapi's idf of term t, as rank_bm25 computes it (floored at epsilon * average idf)."""
        v = self._idfs.get(t)
        if v is None:
            d = int(self.df_[t])
            v = math.log(self.doc_count - d + 0.5) - math.log(d + 0.5)
            if v < 0:
                v = EPSILON * self.average_idf
            if len(self._idfs) >= CACHE_TERMS:
                self._idfs.clear()
            self._idfs[t] = v
        return v

    def idf(self, token: str) -> float:
        """BM25Okapi's idf (after the epsilon floor); 0.0 for a token not in the corpus."""
        t = self._tid(token)
        return self._idf(t) if t >= 0 else 0.0

    def _dense_tf(self, slot: int, docs: np.ndarray) -> np.ndarray:
        """tf of dense term `slot` in internal docs."""
        col = np.take(self.dense[slot // 2], docs)
        nib = (col >> 4) if slot & 1 else (col & NIBBLE)
        if slot in self._esc_slots:
            nib = nib.astype(_I64)
            pos = np.flatnonzero(nib == NIBBLE)
            if len(pos):
                nib[pos] = self.esc_tf[np.searchsorted(self.esc_key, slot * self.doc_count + docs[pos].astype(_I64))]
        return nib

    def _sparse_tf(self, t: int, docs: np.ndarray) -> np.ndarray:
        """tf of a term (from its layers) in internal docs, 0 where absent."""
        lo, hi = int(self.term_layer[t]), int(self.term_layer[t + 1])
        offs = self.layer_off[lo : hi + 1].tolist()
        tfs = self.layer_tf[lo:hi].tolist()
        n = len(docs)
        df = offs[-1] - offs[0]
        post = self.post
        if n > 64 and n * max(1, df.bit_length()) > 3 * df:
            # cheaper to scatter the postings into a buffer and gather
            buf = self._take_buf()
            if buf is not None:
                try:
                    for i, tf in enumerate(tfs):
                        buf[post[offs[i] : offs[i + 1]]] = tf
                    return buf[docs]
                finally:
                    for i in range(len(tfs)):
                        buf[post[offs[i] : offs[i + 1]]] = 0
                    self._scratch.bufs.append(buf)
        out = np.zeros(n, _I64)
        for i, tf in enumerate(tfs):
            arr = post[offs[i] : offs[i + 1]]
            pos = np.searchsorted(arr, docs)
            np.minimum(pos, len(arr) - 1, out=pos)
            out[arr[pos] == docs] = tf
        return out

    def _tf(self, t: int, docs: np.ndarray) -> np.ndarray:
        slot = int(self.dense_of[t])
        if slot >= 0:
            return self._dense_tf(slot, docs)
        return self._sparse_tf(t, docs)

    def _all_postings(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(internal doc ids, tf) of every posting of term t."""
        slot = int(self.dense_of[t])
        if slot >= 0:
            col = self.dense[slot // 2]
            nib = (col >> 4) if slot & 1 else (col & NIBBLE)
            docs = np.flatnonzero(nib)
            return docs, self._fix_esc(slot, docs, nib[docs])
        lo, hi = int(self.term_layer[t]), int(self.term_layer[t + 1])
        a, b = int(self.layer_off[lo]), int(self.layer_off[hi])
        sizes = np.diff(self.layer_off[lo : hi + 1])
        return self.post[a:b], np.repeat(self.layer_tf[lo:hi].astype(_I64), sizes)

    def _fix_esc(self, slot: int, docs: np.ndarray, nib: np.ndarray) -> np.ndarray:
        nib = nib.astype(_I64)
        if slot in self._esc_slots:
            pos = np.flatnonzero(nib == NIBBLE)
            if len(pos):
                nib[pos] = self.esc_tf[np.searchsorted(self.esc_key, slot * self.doc_count + docs[pos].astype(_I64))]
        return nib

    def docs_with(self, token: str) -> np.ndarray:
        """Sorted ids of the documents containing the token."""
        t = self._tid(token)
        if t < 0:
            return np.zeros(0, _I64)
        docs, _ = self._all_postings(t)
        return np.sort(self.int2ext[docs].astype(_I64))

    def term_freqs(self, token: str, doc_ids: np.ndarray) -> np.ndarray:
        """How often the token occurs in each of the given documents (0 where absent)."""
        doc_ids = np.asarray(doc_ids, _I64)
        t = self._tid(token)
        if t < 0 or len(doc_ids) == 0:
            return np.zeros(len(doc_ids), _I64)
        return self._tf(t, self.ext2int[doc_ids])

    # ------------------------------------------------------------------ exact scores
    def _exact(self, order: list[int], docs: np.ndarray) -> np.ndarray:
        """Exact scores of internal docs for the query's known term ids, in query order."""
        if len(docs) <= 32:
            # a few docs: the same double arithmetic, in Python (no numpy call per step)
            K = [self._klist[d] for d in np.take(self.dl_idx, docs).tolist()]
            score = [0.0] * len(docs)
            tfs: dict[int, list] = {}
            for t in order:
                tfl = tfs.get(t)
                if tfl is None:
                    tfl = tfs[t] = self._tf(t, docs).tolist()
                idf = self._idf(t)
                for i, tf in enumerate(tfl):
                    if tf:
                        score[i] += idf * (tf * (K1 + 1) / (tf + K[i]))
            return np.array(score)
        K = self.kvals[self.dl_idx[docs]]
        score = np.zeros(len(docs))
        for t in order:
            tf = self._tf(t, docs).astype(_I64)
            score += self._idf(t) * (tf * (K1 + 1) / (tf + K))
        return score

    def _resolve(self, tokens: Sequence[str]) -> tuple[list[int], dict[int, int]]:
        order = [t for t in map(self._tid, tokens) if t >= 0]
        mult: dict[int, int] = {}
        for t in order:
            mult[t] = mult.get(t, 0) + 1
        return order, mult

    def scores(self, tokens: Sequence[str], doc_ids: np.ndarray) -> np.ndarray:
        """Exact float64 scores of the given documents."""
        doc_ids = np.asarray(doc_ids, _I64)
        order, _ = self._resolve(tokens)
        if not order or len(doc_ids) == 0:
            return np.zeros(len(doc_ids))
        return self._exact(order, self.ext2int[doc_ids])

    def score_all(self, tokens: Sequence[str]) -> np.ndarray:
        """Exact scores of every document (what BM25Okapi.get_scores returns)."""
        score = np.zeros(self.doc_count)
        order, _ = self._resolve(tokens)
        if not order:
            return score
        kext = self.kvals[self.dl_idx[self.ext2int]]
        for t in order:
            docs, tf = self._all_postings(t)
            ext = self.int2ext[docs]
            score[ext] += self._idf(t) * (tf * (K1 + 1) / (tf + kext[ext]))
        return score

    # ------------------------------------------------------------------ top-k
    def top_k(
        self, tokens: Sequence[str], k: int = 10, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact k best documents holding a query token: (doc ids, scores), best first, ties by id.

        ``allowed``: a bool mask over documents; only those may be returned.
        """
        order, mult = self._resolve(tokens)
        if not order or k <= 0:
            return np.zeros(0, _I64), np.zeros(0)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (self.doc_count,):
                raise ValueError(f"allowed must be a bool mask of length {self.doc_count}")
        qterms = []
        small = 0
        for t, m in mult.items():
            q = _QTerm()
            q.t, q.w = t, m * self._idf(t)
            self._prepare(q)
            qterms.append(q)
            small += q.df * m if q.whole else self.doc_count
        if small <= FAST_MAX and len(qterms) > 1 or min(q.w for q in qterms) <= 0.0:
            # few postings (or idf <= 0, in tiny corpora): score every document holding a query term
            return self._exhaustive(order, qterms, k, allowed)
        if allowed is not None:
            n_allowed = int(np.count_nonzero(allowed))
            if n_allowed == 0:
                return np.zeros(0, _I64), np.zeros(0)
            if n_allowed * len(qterms) <= max(OVER_ALLOWED_MIN, self.doc_count // 16):
                return self._over_allowed(order, qterms, k, allowed)
        if len(qterms) == 1:
            if qterms[0].g < 0:
                return self._exhaustive(order, qterms, k, allowed)
            return self._single(order, qterms[0], k, allowed)
        return self._threshold(order, qterms, k, allowed)

    def _finish(self, order, docs, k):
        """Exact scores of (distinct) internal docs, then the k best by (score desc, id asc)."""
        if len(docs) == 0:
            return np.zeros(0, _I64), np.zeros(0)
        exact = self._exact(order, docs)
        ext = self.int2ext[docs].astype(_I64)
        best = np.lexsort((ext, -exact))[:k]
        return ext[best], exact[best]

    def _contrib(self, q: _QTerm, weight: float, upto: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(docs, weight * impact) of a term's postings (whole term, or its prefix at level `upto`)."""
        lo, hi = q.lo, q.hi
        offs = self.layer_off[lo : hi + 1].tolist()
        if upto is None:
            docs = self.post[offs[0] : offs[-1]]
            cuts = [b - a for a, b in pairwise(offs)]
        else:
            r0 = int(self.grid_row0[q.g])
            cuts = self.grid_cut[r0 : r0 + hi - lo, upto].tolist()
            parts = [self.post[o : o + c] for o, c in zip(offs, cuts) if c]
            docs = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else _EMPTY
        dl = np.take(self.dl_idx, docs)
        fcol = self._fcol
        if q.maxtf < len(fcol):
            if hi - lo == 1:
                vals = np.take(fcol[q.maxtf], dl)
            elif hi - lo <= 2:
                vals = np.empty(len(docs))
                a = 0
                for tf, c in zip(self.layer_tf[lo:hi].tolist(), cuts):
                    if c:
                        np.take(fcol[tf], dl[a : a + c], out=vals[a : a + c])
                        a += c
            else:
                idx = dl.astype(np.intp)
                idx <<= 4
                idx += np.repeat(self.layer_tf[lo:hi], cuts)
                vals = np.take(self._f16t, idx)
        else:
            tf = np.repeat(self.layer_tf[lo:hi], cuts)
            vals = _impact(tf.astype(np.float64), self.kvals[dl])
        vals *= weight
        return docs, vals

    def _exhaustive(self, order, qterms, k, allowed):
        """Score every document holding a query term, exactly: contributions are added in query
        order, as BM25Okapi.get_scores adds them, into an accumulator."""
        N = self.doc_count
        by_t = {q.t: q for q in qterms}
        if len(self.post_w) and len(qterms) > 1 and min(q.w for q in qterms) > 0 and all(q.whole for q in qterms):
            # small corpus with stored contributions: add them up, in query order
            acc = np.zeros(N)
            for t in order:
                q = by_t[t]
                a, b = int(self.layer_off[q.lo]), int(self.layer_off[q.hi])
                np.add.at(acc, self.post[a:b], self.post_w[a:b])
            if allowed is not None:
                acc[~allowed[self.int2ext]] = 0.0
            docs = (acc > 0.0).nonzero()[0]  # every doc holding a query term, once
            return self._select(docs, np.take(acc, docs), k, 1)
        parts: dict[int, tuple] = {}
        for t in dict.fromkeys(order):
            q = by_t[t]
            if q.whole:
                parts[t] = self._contrib(q, self._idf(t))
            else:
                docs, tf = self._all_postings(t)
                parts[t] = (docs, self._idf(t) * _impact(tf.astype(np.float64), self.kvals[self.dl_idx[docs]]))
        positive = min(q.w for q in qterms) > 0
        if len(parts) == 1:
            docs, vals = parts[order[0]]
            score = vals.copy()
            for _ in range(len(order) - 1):  # a repeated token adds its contribution again
                score += vals
            if allowed is not None:
                keep = np.flatnonzero(allowed[self.int2ext[docs]])
                docs, score = docs[keep], score[keep]
            return self._select(docs, score, k, 1)
        if N <= DENSE_ACC_MAX and positive:
            # small corpus: a fresh dense accumulator, the k-th best read off it directly
            acc = np.zeros(N)
            for t in order:
                np.add.at(acc, *parts[t])
            if allowed is not None:
                acc[~allowed[self.int2ext]] = 0.0
            docs = (acc > 0.0).nonzero()[0]  # every doc holding a query term, once
            return self._select(docs, np.take(acc, docs), k, 1)
        s = self._scratch
        if s.acc is None or len(s.acc) != N:
            s.acc = np.zeros(N)
        acc = s.acc
        try:
            for t in order:
                np.add.at(acc, *parts[t])
            docs = np.concatenate([pv[0] for pv in parts.values()]) if len(parts) > 1 else parts[order[0]][0]
            if allowed is not None:
                docs = docs[allowed[self.int2ext[docs]]]
            score = np.take(acc, docs)
        finally:
            for pv in parts.values():
                acc[pv[0]] = 0.0
        return self._select(docs, score, k, len(parts))

    def _select(self, docs, score, k, m):
        """(ids, scores) of the k best of internal docs with their exact scores (a doc may be there
        up to m times, always with the same score), ties by lower id."""
        theta = _kth_distinct(docs, score, k, m)
        if theta is not None:
            keep = np.flatnonzero(score >= theta)
            docs, score = docs[keep], score[keep]
        if len(docs) <= 64:
            best = dict(zip(docs.tolist(), score.tolist()))
            docs = np.fromiter(best, _I64, len(best))
            score = np.fromiter(best.values(), np.float64, len(best))
        elif m > 1:
            docs, first = np.unique(docs, return_index=True)
            score = score[first]
        ext = self.int2ext[docs].astype(_I64)
        best = np.lexsort((ext, -score))[:k]
        return ext[best], score[best]

    def _single(self, order, q, k, allowed):
        """One distinct term: its best postings, by impact level, scored exactly."""
        cnt = self.grid_cnt[q.g]
        j = min(int(np.searchsorted(cnt, 2 * k)), q.jmax)
        idf = self._idf(q.t)
        w = q.w
        while True:
            docs, vals = self._contrib(q, idf, j)
            if allowed is not None:
                keep = np.flatnonzero(allowed[self.int2ext[docs]])
                docs, vals = docs[keep], vals[keep]
            if len(docs) >= k:
                score = vals.copy()
                for _ in range(len(order) - 1):  # a repeated token adds its contribution again
                    score += vals
                theta = _kth_distinct(docs, score, k, 1)
                if w * q.umax * self.ratios[j] < theta - _tol(theta):
                    return self._select(docs, score, k, 1)
            if j >= q.jmax:
                break
            j = min(j + 4, q.jmax)
        if q.whole:
            return self._exhaustive(order, [q], k, allowed)
        return self._threshold(order, [q], k, allowed)

    def _over_allowed(self, order, qterms, k, allowed):
        """Few allowed documents: look at each of them."""
        docs = self.ext2int[np.flatnonzero(allowed)]
        hit = np.zeros(len(docs), bool)
        for q in qterms:
            hit |= self._tf(q.t, docs) > 0
        return self._finish(order, docs[hit], k)

    # ------------------------------------------------------------------ the threshold algorithm
    def _prepare(self, q: _QTerm) -> None:
        t = q.t
        info = self._terms.get(t)
        if info is None:
            slot = int(self.dense_of[t])
            g = int(self.grid_of[t])
            lo, hi = int(self.term_layer[t]), int(self.term_layer[t + 1])
            info = (
                slot, slot // 2, 4 if slot & 1 else 0, slot in self._esc_slots, g,
                float(self.umax[t]), lo, hi, int(self.grid_jmax[g]) if g >= 0 else -1,
                g < 0 or bool(self.grid_whole[g]), int(self.df_[t]), int(self.layer_tf[lo]),
            )
            if len(self._terms) >= CACHE_TERMS:
                self._terms.clear()
            self._terms[t] = info
        (q.slot, q.byte, q.shift, q.esc, q.g, q.umax, q.lo, q.hi, q.jmax, q.whole, q.df, q.maxtf) = info
        q.cur = -1
        q.full = False
        q.buf = None
        q.looked = 0
        q.tab = None

    def _score_part(self, qterms: list[_QTerm], src: _QTerm | None, docs: np.ndarray, tf, floor: float | None, rest=None):
        """Scores (float-close to exact) of docs; if src is given, they came from it with tf known.

        floor: documents that cannot reach it -- their src contribution plus `rest` (a bound on
        the other terms' contributions, per doc or one for all; default: their largest) -- are
        dropped.  Returns (docs, scores).
        """
        others = [q for q in qterms if q is not src]
        dl = np.take(self.dl_idx, docs).astype(np.intp)
        tables = self._ndl <= TABLE_MAX_LENGTHS
        if tables:
            dl16 = dl << 4  # index into the [length, tf < 16] impact tables
        if src is None:
            score = np.zeros(len(docs))
        else:
            if tables and src.maxtf <= NIBBLE:
                score = np.take(src.tab, dl16 + tf)
            else:
                score = _impact(tf.astype(np.float64), self.kvals[dl])
                score *= src.w
            if floor is not None:
                if rest is None:
                    rest = sum(q.w * q.umax for q in others)
                if np.ndim(rest) or floor - rest > 0:
                    keep = np.flatnonzero(score + rest >= floor) if np.ndim(rest) else np.flatnonzero(score >= floor - rest)
                    if len(keep) < len(docs):
                        docs, score, dl = docs[keep], score[keep], dl[keep]
                        if tables:
                            dl16 = dl16[keep]
        for q in others:
            if q.slot >= 0:
                col = np.take(self.dense[q.byte], docs)
                nib = (col >> 4) if q.shift else (col & NIBBLE)
                if tables:
                    v = np.take(q.tab, dl16 + nib)
                else:
                    v = _impact(nib.astype(np.float64), self.kvals[dl])
                    v *= q.w
                if q.esc:
                    pos = np.flatnonzero(nib == NIBBLE)
                    if len(pos):
                        etf = self.esc_tf[np.searchsorted(self.esc_key, q.slot * self.doc_count + docs[pos].astype(_I64))]
                        v[pos] = q.w * _impact(etf, self.kvals[dl[pos]])
                score += v
            else:
                q.looked += len(docs)
                if q.buf is None and q.looked * 8 >= q.df:
                    q.buf = self._take_buf()
                    if q.buf is not None:
                        self._fill_buf(q, q.buf, True)
                qtf = q.buf[docs] if q.buf is not None else self._sparse_tf(q.t, docs)
                hit = np.flatnonzero(qtf)
                if len(hit):
                    score[hit] += q.w * _impact(qtf[hit].astype(np.float64), self.kvals[dl[hit]])
        return docs, score

    def _enumerate(self, q, level: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(docs, tf) of q's postings from its current level down to `level` (None: all the rest);
        for a pair list, (docs, None) down to that level."""
        if q.full or (level is not None and level <= q.cur):
            return _EMPTY, (None if q.pair else _EMPTY)
        if q.pair:
            if level is None:
                level = q.jmax
            a, b = self._pair_depth(q, q.cur), self._pair_depth(q, level)
            q.cur = level
            return self.pair_docs[q.off + a : q.off + b], None
        if level is None and not q.whole:
            # the rest of a cut dense term: scan its tf column for what is below the current level
            q.full = True
            col = self.dense[q.byte]
            nib = (col >> 4) if q.shift else (col & NIBBLE)
            docs = np.flatnonzero(nib)
            tf = self._fix_esc(q.slot, docs, nib[docs])
            if q.cur >= 0:
                f = _impact(tf.astype(np.float64), self.kvals[self.dl_idx[docs]])
                below = np.flatnonzero(f < q.umax * self.ratios[q.cur])
                docs, tf = docs[below], tf[below]
            return docs, tf
        lo, hi = q.lo, q.hi
        offs = self.layer_off[lo : hi + 1].tolist()
        if q.cur >= 0 or level is not None:
            r0 = int(self.grid_row0[q.g])
            cuts = self.grid_cut[r0 : r0 + hi - lo]
        old = cuts[:, q.cur].tolist() if q.cur >= 0 else [0] * (hi - lo)
        if level is None:
            q.full = True
            new = [offs[i + 1] - offs[i] for i in range(hi - lo)]
        else:
            q.cur = level
            new = cuts[:, level].tolist()
        tfs = self.layer_tf[lo:hi].tolist()
        post = self.post
        parts, sizes, vals = [], [], []
        for i, (a, b) in enumerate(zip(old, new)):
            if b > a:
                parts.append(post[offs[i] + a : offs[i] + b])
                sizes.append(b - a)
                vals.append(tfs[i])
        if not parts:
            return _EMPTY, _EMPTY
        if len(parts) == 1:
            return parts[0], np.full(sizes[0], vals[0], _I32)
        return np.concatenate(parts), np.repeat(np.array(vals, _I32), sizes)

    def _threshold(self, order, qterms, k, allowed):
        if self._ndl <= TABLE_MAX_LENGTHS:
            for q in qterms:
                q.tab = self._f16t * q.w
        try:
            return self._threshold_run(order, qterms, k, allowed)
        finally:
            for q in qterms:
                if q.buf is not None:
                    self._fill_buf(q, q.buf, False)
                    self._scratch.bufs.append(q.buf)
                    q.buf = None

    def _pair_up(self, qterms: list[_QTerm]) -> list[_QPair]:
        """Pair lists for the query: the heaviest eligible terms two by two (a term repeated in
        the query is not eligible: its weight is not the one the lists were made with)."""
        if not self._pair_rank:
            return []
        elig = [q for q in qterms if q.t in self._pair_rank and q.w == self._idf(q.t)]
        elig.sort(key=lambda q: -q.w * q.umax)
        pairs = []
        for a, b in zip(elig[0::2], elig[1::2]):
            i = int(self.pair_index[self._pair_rank[a.t], self._pair_rank[b.t]])
            lo, hi = int(self.pair_off[i]), int(self.pair_off[i + 1])
            if hi == lo:
                continue
            p = _QPair()
            p.a, p.b, p.off, p.n, p.cur, p.full, p.dead = a, b, lo, hi - lo, -1, False, False
            p.b0 = float(self.pair_b0[i])
            p.bounds = self.pair_bound[i]
            p.heft = p.b0
            p.t = -1
            p.jmax = len(self.pair_depths) - 1
            pairs.append(p)
        return pairs

    def _tau(self, src) -> float:
        """The bound on src's contribution for every doc it has not listed yet."""
        if src.full:
            return 0.0
        if src.pair:
            return src.b0 if src.cur < 0 else float(src.bounds[src.cur])
        return src.w * src.umax * (float(self.ratios[src.cur]) if src.cur >= 0 else 1.0)

    def _pair_depth(self, p: _QPair, level: int) -> int:
        return 0 if level < 0 else min(int(self.pair_depths[level]), p.n)

    def _threshold_run(self, order, qterms, k, allowed):
        """Deepen the terms' impact levels until the candidates provably hold the top-k.

        The sources of candidates are single terms (listed by impact level) and pair lists
        (listed by depth).  Listed docs are scored with all query terms.  A doc is listed at
        most once per source (levels only deepen), so it is at most `ever` times in the pool,
        always with the same score; the pool keeps what can still reach the threshold (the k-th
        best distinct score).  While the sources' bounds sum above the threshold, rounds deepen
        (heavier sources more) to raise it; once a split of the threshold over the sources is
        cheap enough, one last round lists what that split needs.  If the pair lists run out
        before proving anything, their terms take over as single sources.
        """
        pairs = self._pair_up(qterms)
        paired = {id(x) for p in pairs for x in (p.a, p.b)}
        sources: list = pairs + [q for q in qterms if id(q) not in paired]
        ever = len(sources)
        pool = [(_EMPTY, np.zeros(0))]
        theta = None

        def add(parts: list) -> None:
            nonlocal theta
            if _TRACE is not None:
                _TRACE.append(("round", [(src.t, len(d), src.cur, src.full) for src, d, _ in parts]))
            if allowed is not None:
                kept = []
                for src, docs, tf in parts:
                    keep = np.flatnonzero(np.take(allowed, np.take(self.int2ext, docs)))
                    kept.append((src, np.take(docs, keep), None if tf is None else np.take(tf, keep)))
                parts = kept
            parts = [p for p in parts if len(p[1])]
            if not parts:
                return
            total = sum(len(p[1]) for p in parts)
            if total <= MERGE and len(parts) > 1:
                docs = np.concatenate([p[1] for p in parts])
                pool.append((docs, self._score_part(qterms, None, docs, None, None)[1]))
            else:
                floor = theta - _tol(theta) if theta is not None else None
                for src, docs, tf in parts:
                    if src.pair:
                        pool.append((docs, self._score_part(qterms, None, docs, None, None)[1]))
                    else:
                        pool.append(self._score_part(qterms, src, docs, tf, floor))
            docs = np.concatenate([d for d, _ in pool])
            sc = np.concatenate([s for _, s in pool])
            theta = _kth_distinct(docs, sc, k, ever)
            if theta is not None:
                keep = np.flatnonzero(sc >= theta - _tol(theta))
                docs, sc = np.take(docs, keep), np.take(sc, keep)
            pool[:] = [(docs, sc)]

        def dissolve() -> bool:
            """The pair lists are spent: their terms become sources of their own."""
            nonlocal ever
            live = [p for p in sources if p.pair and not p.dead]
            for p in live:
                p.dead = True
                sources.extend((p.a, p.b))
                ever += 2
            return bool(live)

        # round 1: rare terms whole, the best few postings of the other sources
        parts = []
        for src in sources:
            if src.pair:
                j = min(int(np.searchsorted(self.pair_depths, SEED_COUNT)), src.jmax)
                parts.append((src, *self._enumerate(src, j)))
            elif src.g < 0:
                parts.append((src, *self._enumerate(src, None)))
            else:
                j = min(int(np.searchsorted(self.grid_cnt[src.g], SEED_COUNT)), src.jmax)
                parts.append((src, *self._enumerate(src, j)))
        add(parts)

        budget = DEEPEN_BUDGET
        while True:
            open_src = [x for x in sources if not x.full and not (x.pair and x.dead)]
            if not open_src:
                break
            if theta is not None:
                target = theta - _tol(theta)
                if sum(self._tau(x) for x in open_src) < target:
                    break
                levels, cost = self._split(open_src, target)
                if cost == math.inf:
                    # no split proves the top-k at this threshold: if the pair lists are spent,
                    # their terms take over; else raise the threshold first
                    if all(x.cur == x.jmax for x in open_src if x.pair) and dissolve():
                        continue
                    levels = self._deepen(open_src, budget) or [None] * len(open_src)
                    budget *= DEEPEN_GROWTH
                elif cost > budget:
                    # too dear for this threshold: first raise it with a cheaper, deeper look
                    deeper = self._deepen(open_src, budget)
                    if deeper is not None:
                        levels = deeper
                    budget *= DEEPEN_GROWTH
            else:
                levels = self._deepen(open_src, budget)
                budget *= DEEPEN_GROWTH
                if levels is None:
                    if dissolve():
                        continue
                    levels = [None] * len(open_src)
            add([(x, *self._enumerate(x, lev)) for x, lev in zip(open_src, levels)])

        return self._finish(order, np.unique(pool[0][0]), k)

    def _split(self, open_src, target):
        """Levels whose contribution bounds sum below target, with the fewest postings.

        A small knapsack over the sources.  A term's choices: stay, a deeper stored level (from a
        subset of them), or all of its postings; a pair list's: stay or a deeper level.  Each
        bound is rounded up to a 47th of the target.  (levels, postings); inf if impossible.
        """
        if not target > 0:
            return [None] * len(open_src), math.inf
        nb = 48
        m = len(open_src)
        delta = target / (nb - 1)
        nl = len(_SPLIT_LEVELS)
        tau = np.empty((m, nl + 2))
        cost = np.empty((m, nl + 2))
        singles = [i for i, x in enumerate(open_src) if not x.pair]
        if singles:
            qs = [open_src[i] for i in singles]
            heft = np.array([q.w * q.umax for q in qs])
            cur = np.array([q.cur for q in qs])
            last = np.array([q.jmax for q in qs])
            cnt = self.grid_cnt[[q.g for q in qs]][:, _SPLIT_LEVELS].astype(np.float64)
            have = np.array([float(self.grid_cnt[q.g, q.cur]) if q.cur >= 0 else 0.0 for q in qs])
            t_s = heft[:, None] * self.ratios[_SPLIT_LEVELS][None, :]
            c_s = cnt - have[:, None]
            c_s[(_SPLIT_LEVELS[None, :] <= cur[:, None]) | (_SPLIT_LEVELS[None, :] > last[:, None])] = np.inf
            tau[singles, :nl] = t_s
            cost[singles, :nl] = c_s
            tau[singles, nl] = [self._tau(q) for q in qs]
            tau[singles, nl + 1] = 0.0
            cost[singles, nl + 1] = [q.df - h + (0 if q.whole else self.doc_count) for q, h in zip(qs, have.tolist())]
        for i, x in enumerate(open_src):
            if x.pair:
                lp = len(self.pair_depths)
                have = self._pair_depth(x, x.cur)
                tau[i, :] = 0.0
                cost[i, :] = np.inf
                tau[i, :lp] = x.bounds
                cost[i, :lp] = np.minimum(self.pair_depths, x.n) - have
                cost[i, : x.cur + 1] = np.inf
                tau[i, nl] = self._tau(x)
        cost[:, nl] = 0.0
        units = np.minimum(np.ceil(tau / delta), nb).astype(np.intp)
        idx = _BUDGET[:nb][None, None, :] - units[:, :, None]  # (m, options, budget)
        np.maximum(idx, -1, out=idx)
        budget = _BUDGET[:nb]
        best = np.zeros(nb + 1)
        best[nb] = np.inf  # index -1: infeasible
        choices = []
        for i in range(m):
            mat = best[idx[i]]
            mat += cost[i][:, None]
            ch = mat.argmin(axis=0)
            best[:nb] = mat[ch, budget]
            choices.append(ch)
        b = nb - 1
        total = float(best[b])
        if total == math.inf:
            return [x.cur for x in open_src], total
        out: list[int | None] = [None] * m
        for i in range(m - 1, -1, -1):
            o = int(choices[i][b])
            b -= int(units[i, o])
            x = open_src[i]
            if o == nl:
                out[i] = x.cur
            elif o == nl + 1:
                out[i] = None
            else:
                out[i] = o if x.pair else int(_SPLIT_LEVELS[o])
        return out, total

    def _deepen(self, open_src, budget):
        """Levels about `budget` postings deeper in all, shared by the sources' largest
        contributions; None if no source can go deeper within what is stored."""
        heft = {id(x): (x.heft if x.pair else x.w * x.umax) for x in open_src}
        total = sum(heft.values())
        out = []
        moved = False
        for x in open_src:
            share = max(1, int(budget * heft[id(x)] / total))
            if x.pair:
                have = self._pair_depth(x, x.cur)
                j = min(int(np.searchsorted(np.minimum(self.pair_depths, x.n), have + share)), x.jmax)
            else:
                cnt = self.grid_cnt[x.g]
                have = int(cnt[x.cur]) if x.cur >= 0 else 0
                j = min(int(np.searchsorted(cnt, have + share)), x.jmax)
            moved |= j > x.cur
            out.append(max(j, x.cur))
        return out if moved else None


def _kth_distinct(docs: np.ndarray, score: np.ndarray, k: int, m: int) -> float | None:
    """The k-th best score over distinct docs, each doc appearing at most m times (same score)."""
    n = len(score)
    if m == 1:
        if n < k:
            return None
        return float(np.partition(score, n - k)[n - k]) if n > k else float(score.min())
    top = k * m
    if n > top:
        part = np.argpartition(score, n - top)[n - top :]
        docs, score = docs[part], score[part]
    best = dict(zip(docs.tolist(), score.tolist()))
    if len(best) < k:
        return None
    return sorted(best.values(), reverse=True)[k - 1]


def _small(a: np.ndarray) -> np.ndarray:
    """int16 if the values fit."""
    return a.astype(np.int16) if len(a) == 0 or (a.min() >= -(1 << 15) and a.max() < (1 << 15)) else a


def _build_arrays(terms: np.ndarray, lens: np.ndarray, V: int) -> tuple[dict, dict]:
    N = len(lens)
    tot = int(lens.sum())
    avgdl = tot / N if N else 0.0
    # internal order: by length, then id
    perm = np.argsort(lens, kind="stable")
    int2ext = perm.astype(_I32)
    ext2int = np.empty(N, _I32)
    ext2int[perm] = np.arange(N, dtype=_I32)
    dl_sorted = lens[perm]
    dl_vals = np.unique(dl_sorted)
    ndl = len(dl_vals)
    dl_idx = np.searchsorted(dl_vals, dl_sorted).astype(np.uint8 if ndl <= 256 else np.uint16 if ndl <= 65536 else _I32)
    dl_start = np.append(np.searchsorted(dl_sorted, dl_vals), N).astype(_I64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kvals = K1 * (1 - B + B * dl_vals / avgdl) if N else np.zeros(0)

    # postings: (term, internal doc) pairs with their counts, then grouped by term and tf (desc)
    if tot:
        key = (terms.astype(np.uint64) << np.uint64(32)) | np.repeat(ext2int, lens).astype(np.uint64)
        del terms
        key.sort()
        chg = np.empty(len(key), bool)
        chg[0] = True
        np.not_equal(key[1:], key[:-1], out=chg[1:])
        starts = np.flatnonzero(chg)
        del chg
        tf = np.diff(starts, append=len(key))
        key = key[starts]
        del starts
        max_tf = int(tf.max())
        if max_tf < 256 and V < (1 << 24):
            k2 = key >> np.uint64(32)
            k2 <<= np.uint64(40)
            k2 |= (255 - tf).astype(np.uint64) << np.uint64(32)
            k2 |= key & np.uint64(0xFFFFFFFF)
            key = k2
            del k2
            key.sort()
            pterm = (key >> np.uint64(40)).astype(_I64)
            tf = (255 - ((key >> np.uint64(32)) & np.uint64(0xFF))).astype(_I64)
            pdoc = (key & np.uint64(0xFFFFFFFF)).astype(_I32)
            del key
        else:
            pterm = (key >> np.uint64(32)).astype(_I64)
            pdoc = (key & np.uint64(0xFFFFFFFF)).astype(_I32)
            del key
            o = np.lexsort((pdoc, -tf, pterm))
            pterm, tf, pdoc = pterm[o], tf[o], pdoc[o]
        P = len(pdoc)
        chg = np.empty(P, bool)
        chg[0] = True
        chg[1:] = (pterm[1:] != pterm[:-1]) | (tf[1:] != tf[:-1])
        lstart = np.flatnonzero(chg)
        del chg
        layer_tf = tf[lstart]
        layer_term = pterm[lstart]
        layer_off = np.append(lstart, P).astype(_I64)
        df = np.bincount(pterm, minlength=V).astype(_I64)
        del pterm, tf
    else:
        max_tf = 0
        pdoc = np.zeros(0, _I32)
        layer_tf = np.zeros(0, _I64)
        layer_term = np.zeros(0, _I64)
        layer_off = np.zeros(1, _I64)
        df = np.zeros(V, _I64)
    term_layer = np.searchsorted(layer_term, np.arange(V + 1)).astype(_I64)
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
        lay_imp = _impact(layer_tf.astype(np.float64), kvals[dl_idx[pdoc[layer_off[:-1]]]])
        umax = np.maximum.reduceat(lay_imp, term_layer[:-1])
    else:
        umax = np.zeros(V)
    umax32 = umax.astype(np.float32)
    low = umax32.astype(np.float64) < umax
    umax32[low] = np.nextafter(umax32[low], np.float32(np.inf))
    umax = umax32.astype(np.float64)

    # impact-level tables
    grid_terms = np.flatnonzero(df > GRID_MIN_DF)
    Vg = len(grid_terms)
    grid_of = np.full(V, -1, _I32)
    grid_of[grid_terms] = np.arange(Vg, dtype=_I32)
    nrows = int((term_layer[grid_terms + 1] - term_layer[grid_terms]).sum()) if Vg else 0
    grid_cut = np.zeros((nrows, LEVELS), _I32)
    grid_row0 = np.zeros(Vg, _I64)
    grid_cnt = np.zeros((Vg, LEVELS), _I64)
    grid_jmax = np.full(Vg, LEVELS - 1, np.int16)
    grid_whole = np.ones(Vg, bool)  # layers kept whole (else cut below level grid_jmax)
    neg_f: dict[int, np.ndarray] = {}
    row = 0
    for g, t in enumerate(grid_terms.tolist()):
        grid_row0[g] = row
        thr = umax[t] * RATIOS
        for li in range(int(term_layer[t]), int(term_layer[t + 1])):
            a = int(layer_tf[li])
            nf = neg_f.get(a)
            if nf is None:
                nf = neg_f[a] = -_impact(float(a), kvals)  # ascending along the length order
            bound = dl_start[np.searchsorted(nf, -thr, side="right")]
            grid_cut[row] = np.searchsorted(pdoc[layer_off[li] : layer_off[li + 1]], bound)
            row += 1
        grid_cnt[g] = grid_cut[grid_row0[g] : row].sum(axis=0)

    # 4-bit tf columns for the frequent terms; their layers keep only their best postings
    if N >= DENSE_MIN_DOCS:
        dense_terms = np.flatnonzero(df >= max(N // DENSE_FRACTION, GRID_MIN_DF + 1))
    else:
        dense_terms = np.zeros(0, _I64)
    F = len(dense_terms)
    dense_of = np.full(V, -1, _I32)
    dense_of[dense_terms] = np.arange(F, dtype=_I32)
    dense = np.zeros(((F + 1) // 2, N), np.uint8)
    keep = np.ones(len(pdoc), bool)
    esc_keys, esc_tfs = [], []
    col = np.zeros(N, np.uint8)
    for i, t in enumerate(dense_terms.tolist()):
        g = int(grid_of[t])
        if df[t] <= DENSE_PREFIX:
            jmax = -1  # layers kept whole
        else:
            jmax = max(int(np.searchsorted(grid_cnt[g], DENSE_PREFIX, side="right")) - 1, 0)
            grid_jmax[g] = jmax
            grid_whole[g] = False
        lo, hi = int(term_layer[t]), int(term_layer[t + 1])
        r0 = int(grid_row0[g])
        col[:] = 0
        for li in range(lo, hi):
            a, b = int(layer_off[li]), int(layer_off[li + 1])
            tfv = int(layer_tf[li])
            col[pdoc[a:b]] = min(tfv, NIBBLE)
            if tfv >= NIBBLE:
                esc_keys.append(i * N + pdoc[a:b].astype(_I64))
                esc_tfs.append(np.full(b - a, tfv, _I64))
            if jmax >= 0:
                keep[a + int(grid_cut[r0 + li - lo, jmax]) : b] = False
        if i & 1:
            dense[i // 2] |= col << 4
        else:
            dense[i // 2] |= col
    if esc_keys:
        esc_key = np.concatenate(esc_keys)
        o = np.argsort(esc_key)
        esc_key, esc_tf = esc_key[o], np.concatenate(esc_tfs)[o].astype(_I32 if max_tf < 2**31 else _I64)
    else:
        esc_key, esc_tf = np.zeros(0, _I64), np.zeros(0, _I32)
    if not keep.all():
        kept = np.zeros(len(keep) + 1, _I64)
        np.cumsum(keep, out=kept[1:])
        layer_off = kept[layer_off]
        pdoc = pdoc[keep]
    del keep

    # small corpora also keep each posting's contribution, idf * impact, exactly as rank_bm25
    # computes it: exhaustive queries just add them up
    if N <= SMALL_CORPUS and len(pdoc):
        sizes = np.diff(layer_off)
        tf_each = np.repeat(layer_tf.astype(_I64), sizes)
        idfs = np.array([math.log(N - d + 0.5) - math.log(d + 0.5) for d in df.tolist()])
        idfs[idfs < 0] = EPSILON * average_idf
        post_w = np.repeat(idfs[layer_term], sizes) * (tf_each * (K1 + 1) / (tf_each + kvals[dl_idx[pdoc]]))
    else:
        post_w = np.zeros(0)

    arrays = {
        "int2ext": int2ext, "ext2int": ext2int, "dl_idx": dl_idx, "dl_vals": dl_vals.astype(_I64),
        "dl_start": dl_start, "kvals": np.asarray(kvals, np.float64),
        "df_": df.astype(_I32 if N < 2**31 else _I64), "umax": umax32,
        "term_layer": term_layer.astype(_I32 if NL < 2**31 else _I64),
        "layer_off": layer_off.astype(_I32 if len(pdoc) < 2**31 else _I64),
        "layer_tf": layer_tf.astype(np.uint16 if max_tf < 65536 else _I32), "post": pdoc, "post_w": post_w,
        "dense_of": _small(dense_of), "dense": dense, "esc_key": esc_key, "esc_tf": esc_tf,
        "grid_of": _small(grid_of), "grid_cnt": grid_cnt.astype(_I32 if N < 2**31 else _I64),
        "grid_row0": grid_row0, "grid_cut": grid_cut, "grid_jmax": grid_jmax, "grid_whole": grid_whole,
    }
    meta = {
        "doc_count": N, "total_tokens": tot, "avgdl": avgdl, "average_idf": average_idf,
        "max_tf": max_tf, "ratios": RATIOS.tolist(),
    }
    return arrays, meta
