"""BM25Index: the engine's public surface, and the choice of a strategy for each query."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from . import build as building
from . import params, storage
from .exhaustive import exhaustive, over_allowed
from .heap import ranked
from .layout import Array, Layout
from .maxscore import maxscore
from .scoring import all_postings, exact_scores, query, score_all, term_tf
from .vocab import Vocab


class BM25Index:
    """Exact BM25Okapi (k1=1.5, b=0.75, epsilon=0.25) over token lists; doc ids 0..N-1 in build order.

    Scores are exactly those of ``rank_bm25.BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)``
    (its idf floor included); ``top_k`` returns the exact k best documents holding a query
    token, ties broken by lower doc id.  Safe to query from several threads at once.
    """

    def __init__(self, layout: Layout):
        self.layout = layout

    # ------------------------------------------------------------------ build, save, load
    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], *, progress: Callable[[int], None] | None = None) -> BM25Index:
        """Index token lists (document i is the i-th list); ``progress(docs_done)`` is called
        after every chunk of 100k documents."""
        return cls(building.build(docs, progress))

    def save(self, directory: Path) -> None:
        """Write the index into ``directory`` (created if needed): one .npy per array + meta.json."""
        storage.save(self.layout, directory)

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = True) -> BM25Index:
        """An index saved by ``save``, memory-mapped if ``mmap``.  Raises OSError if files are
        missing, ValueError if it was saved in another format (rebuild it)."""
        return cls(storage.load(directory, mmap=mmap))

    @staticmethod
    def warm() -> None:
        """Compile every compiled function of the engine (or load it from numba's on-disk cache,
        ``__pycache__`` beside the modules), so that the first real query does not wait for it:
        well under a second with the cache, some seconds without.  Servers call it before
        serving; the container image calls it at build time, so that its cache ships in the
        image.  Compiled code is specialised by argument types, not sizes: a tiny index will do."""
        idx = BM25Index.build([["a", "b"], ["a", "a", "c"], ["b", "c"]])  # the build's own kernels
        lay = idx.layout
        tids, idfs, pos = query(lay, lay.resolve(["a", "b"])[0])
        hs, he = np.zeros(2), np.zeros(2, np.int64)
        for mask in (_EMPTY_MASK, np.ones(lay.doc_count, np.bool_)):
            exhaustive(lay.kernel, tids, idfs, pos, mask, *lay.full_scratch(), hs, he)
            maxscore(lay.kernel, tids, idfs, idfs, pos, mask, lay.blocks, params.SEED, *lay.block_scratch(), hs, he)
        over_allowed(lay.kernel, tids, idfs, pos, np.arange(2, dtype=np.int64), hs, he)
        idx.scores(["a", "b"], np.arange(2))
        idx.term_freqs("a", np.arange(2))

    # ------------------------------------------------------------------ corpus statistics
    @property
    def doc_count(self) -> int:
        """N, the number of documents."""
        return self.layout.doc_count

    @property
    def average_idf(self) -> float:
        """rank-bm25's average idf over the vocabulary (before the floor)."""
        return self.layout.average_idf

    @property
    def vocab(self) -> Vocab:
        """The vocabulary: ``vocab.get(token)`` -> term id or -1, ``vocab.token(id)``, ``len(vocab)``."""
        return self.layout.vocab

    @property
    def nbytes(self) -> int:
        """Bytes of everything the query path holds: the index arrays and a query's scratch buffers."""
        return self.layout.nbytes

    def df(self, token: str) -> int:
        """How many documents hold the token."""
        t = self.layout.tid(token)
        return int(self.layout.df_[t]) if t >= 0 else 0

    def idf(self, token: str) -> float:
        """BM25Okapi's idf (after the epsilon floor); 0.0 for a token not in the corpus."""
        t = self.layout.tid(token)
        return self.layout.idf(t) if t >= 0 else 0.0

    def docs_with(self, token: str) -> Array:
        """Sorted ids (int64) of the documents containing the token."""
        lay = self.layout
        t = lay.tid(token)
        if t < 0:
            return np.zeros(0, np.int64)
        docs, _ = all_postings(lay, t)
        return np.sort(lay.int2ext[docs].astype(np.int64))

    def term_freqs(self, token: str, doc_ids: Array) -> Array:
        """How often the token occurs in each of the given documents (0 where absent)."""
        lay = self.layout
        doc_ids = np.asarray(doc_ids, np.int64)
        t = lay.tid(token)
        if t < 0 or len(doc_ids) == 0:
            return np.zeros(len(doc_ids), np.int64)
        return term_tf(lay, t, lay.ext2int[doc_ids])

    # ------------------------------------------------------------------ scores
    def scores(self, tokens: Sequence[str], doc_ids: Array) -> Array:
        """Exact float64 scores of the given documents (ids), in their order."""
        lay = self.layout
        doc_ids = np.asarray(doc_ids, np.int64)
        order, _ = lay.resolve(tokens)
        if not order or len(doc_ids) == 0:
            return np.zeros(len(doc_ids))
        return exact_scores(lay, order, lay.ext2int[doc_ids])

    def score_all(self, tokens: Sequence[str]) -> Array:
        """Exact scores of every document, shape (N,): what BM25Okapi.get_scores returns."""
        return score_all(self.layout, tokens)

    def top_k(self, tokens: Sequence[str], k: int = 10, allowed: Array | None = None) -> tuple[Array, Array]:
        """The exact k best documents holding a query token: (doc ids int64, scores float64),
        best first, ties by lower id.

        ``allowed``: a bool mask over documents, shape (N,); only those may be returned.
        Raises ValueError if the mask has another shape.

        The strategy: MaxScore over layers and blocks (maxscore.py) when the query has many
        postings; otherwise, or when a score may be <= 0, every posting (exhaustive.py); a
        mask that lets few documents through, those documents one by one.
        """
        lay = self.layout
        order, mult = lay.resolve(tokens)
        if not order or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0)
        mask = _EMPTY_MASK
        if allowed is not None:
            mask = np.ascontiguousarray(allowed, dtype=np.bool_)
            if not mask.flags.writeable:
                mask = mask.copy()  # one array type for compiled code (see warm)
            if mask.shape != (lay.doc_count,):
                raise ValueError(f"allowed must be a bool mask of length {lay.doc_count}")
        tids, idfs, pos = query(lay, order)
        postings = int(sum(lay.df_[t] for t in mult))
        hs, he = np.zeros(k), np.zeros(k, np.int64)
        if allowed is not None:
            n_allowed = int(np.count_nonzero(mask))
            if n_allowed == 0:
                return np.zeros(0, np.int64), np.zeros(0)
            if n_allowed * params.OVER_ALLOWED < postings:
                docs = lay.ext2int[np.flatnonzero(mask)].astype(np.int64)
                return ranked(hs, he, over_allowed(lay.kernel, tids, idfs, pos, docs, hs, he))
        if postings <= params.FAST_MAX or idfs.min() <= 0.0 or len(tids) > params.MAX_TERMS:
            acc, seen = lay.full_scratch()
            return ranked(hs, he, exhaustive(lay.kernel, tids, idfs, pos, mask, acc, seen, hs, he))
        ws = idfs * np.array([mult[t] for t in tids.tolist()], np.float64)
        b_acc, b_list = lay.block_scratch()
        n = maxscore(lay.kernel, tids, ws, idfs, pos, mask, lay.blocks, params.SEED, b_acc, b_list, hs, he)
        return ranked(hs, he, n)


_EMPTY_MASK = np.zeros(0, np.bool_)
