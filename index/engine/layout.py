"""The index's layout: the arrays a query reads, and per-thread scratch buffers.

N documents are renumbered internally by length (then by id), so the length normaliser
``K = k1 * (1 - b + b * dl / avgdl)`` never decreases along the internal order, and the
documents of one length form a run (``dl_start``).

* A term's postings are split into *layers*, one per distinct term frequency, highest tf first;
  a layer is a sorted int32 array of internal doc ids (its tf is the layer's, not stored per
  posting).  Within a run of one length every posting of a layer has the same impact
  ``tf * (k1 + 1) / (tf + K)``: an impact-ordered index in the sense of Anh & Moffat, "Pruned
  query evaluation using pre-computed impacts" (SIGIR 2006), kept exact.
* The frequent terms (in >= N/DENSE_FRACTION documents) also have their tf in a dense column
  (4 bits per document, two terms to a byte column; 15 = look in a small exception table), so
  that a term's tf in any document is one load.
* ``blocks``: the runs of one length cut into pieces of at most BLOCK documents, the unit the
  MaxScore strategy (maxscore.py) works in.

build.py makes these arrays from token lists, storage.py saves and maps them.  Compiled code gets
them as one tuple, ``kernel`` (KERNEL_ARRAYS gives the order).
"""

from __future__ import annotations

import itertools
import math
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from . import params
from .vocab import Vocab

Array = npt.NDArray[Any]

# name -> dtype every index has (one dtype each, so compiled code is compiled once)
DTYPES: dict[str, Any] = {
    "int2ext": np.int32,
    "ext2int": np.int32,
    "dl_idx": np.int32,
    "dl_vals": np.int64,
    "dl_start": np.int64,
    "kvals": np.float64,
    "df_": np.int64,
    "term_layer": np.int64,
    "layer_off": np.int64,
    "layer_tf": np.int32,
    "post": np.int32,
    "dense_of": np.int32,
    "dense": np.uint8,
    "esc_key": np.int64,
    "esc_tf": np.int64,
}
ARRAY_NAMES = tuple(DTYPES)
KERNEL_ARRAYS = (
    "term_layer",
    "layer_off",
    "layer_tf",
    "post",
    "dl_idx",
    "kvals",
    "dense_of",
    "dense",
    "esc_key",
    "esc_tf",
    "int2ext",
)


class Scratch(threading.local):
    """Per-thread buffers, all-zero between queries: an N-entry accumulator and seen-flags
    (exhaustive.py), and BLOCK-entry ones (maxscore.py)."""

    acc: Array | None = None
    seen: Array | None = None
    block: tuple[Array, Array] | None = None


class Layout:
    """The arrays of one index (see the module doc) and the corpus statistics."""

    int2ext: Array
    ext2int: Array
    dl_idx: Array
    dl_vals: Array
    dl_start: Array
    kvals: Array
    df_: Array
    term_layer: Array
    layer_off: Array
    layer_tf: Array
    post: Array
    dense_of: Array
    dense: Array
    esc_key: Array
    esc_tf: Array

    def __init__(self, arrays: dict[str, Array], meta: dict[str, Any]):
        for name, dtype in DTYPES.items():
            a = np.ascontiguousarray(arrays[name], dtype=dtype)
            if a.flags.writeable:
                a.flags.writeable = False  # read-only, as a memory-mapped index's
            setattr(self, name, a)
        self.vocab = Vocab.from_arrays(arrays)
        self.doc_count = int(meta["doc_count"])
        self.total_tokens = int(meta["total_tokens"])
        self.avgdl = float(meta["avgdl"])
        self.average_idf = float(meta["average_idf"])
        self.max_tf = int(meta["max_tf"])
        self.kernel = tuple(getattr(self, name) for name in KERNEL_ARRAYS)
        self.blocks = self._blocks()
        self.scratch = Scratch()
        self._tokens: dict[str, int] = {}  # token -> term id (-1: not in the corpus)
        self._idfs: dict[int, float] = {}  # term id -> idf

    def _blocks(self) -> Array:
        """Block starts (and N at the end): each run of one length cut into BLOCK-doc pieces."""
        starts: list[int] = []
        runs = self.dl_start.tolist()
        for a, b in itertools.pairwise(runs):
            starts.extend(range(a, b, params.BLOCK))
        starts.append(self.doc_count)
        out = np.asarray(starts, np.int64)
        out.flags.writeable = False
        return out

    def meta(self) -> dict[str, Any]:
        """The corpus statistics saved beside the arrays (storage.py's meta.json)."""
        return {
            "doc_count": self.doc_count,
            "total_tokens": self.total_tokens,
            "avgdl": self.avgdl,
            "average_idf": self.average_idf,
            "max_tf": self.max_tf,
        }

    def arrays(self) -> dict[str, Array]:
        """Every array of the index by name, the vocabulary's included (what storage.py saves)."""
        out = {name: getattr(self, name) for name in ARRAY_NAMES}
        out.update(self.vocab.arrays())
        return out

    @property
    def nbytes(self) -> int:
        """Bytes of everything the query path holds: the index arrays and a query's scratch buffers."""
        n = sum(int(a.nbytes) for a in self.arrays().values())
        full = np.dtype(np.float64).itemsize + np.dtype(np.bool_).itemsize  # full_scratch, per document
        block = np.dtype(np.float64).itemsize + np.dtype(np.int32).itemsize  # block_scratch, per entry
        return n + self.doc_count * full + params.BLOCK * block

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

    # ------------------------------------------------------------------ scratch buffers
    def full_scratch(self) -> tuple[Array, Array]:
        """This thread's all-zero N-entry (float64 accumulator, bool seen-flags)."""
        s = self.scratch
        if s.acc is None or s.seen is None or len(s.acc) != self.doc_count:
            s.acc = np.zeros(self.doc_count)
            s.seen = np.zeros(self.doc_count, np.bool_)
        return s.acc, s.seen

    def block_scratch(self) -> tuple[Array, Array]:
        """This thread's all-zero BLOCK-entry (float64 accumulator, int32 list)."""
        s = self.scratch
        if s.block is None or len(s.block[0]) != params.BLOCK:
            s.block = (np.zeros(params.BLOCK), np.zeros(params.BLOCK, np.int32))
        return s.block
