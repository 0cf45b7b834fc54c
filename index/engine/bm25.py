"""BM25Index: the engine's public surface, and the choice of a strategy for each query."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from . import build as building
from . import params, storage
from .exhaustive import exhaustive, over_allowed
from .layout import Array, Layout
from .planes import planes, suits
from .scoring import all_postings, exact_scores, score_all, term_tf
from .single import single
from .threshold import threshold
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
        """
        lay = self.layout
        order, mult = lay.resolve(tokens)
        if not order or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (lay.doc_count,):
                raise ValueError(f"allowed must be a bool mask of length {lay.doc_count}")
        qterms = [lay.qterm(t, m * lay.idf(t)) for t, m in mult.items()]
        postings = sum(q.df * mult[q.t] if q.whole else lay.doc_count for q in qterms)
        if (postings <= params.FAST_MAX and len(qterms) > 1) or min(q.w for q in qterms) <= 0.0:
            # few postings (or idf <= 0, in tiny corpora): score every document holding a query term
            return exhaustive(lay, order, qterms, k, allowed)
        if allowed is not None:
            n_allowed = int(np.count_nonzero(allowed))
            if n_allowed == 0:
                return np.zeros(0, np.int64), np.zeros(0)
            if n_allowed * len(qterms) <= max(params.OVER_ALLOWED_MIN, lay.doc_count // 16):
                return over_allowed(lay, order, qterms, k, allowed)
        if len(qterms) == 1:
            if qterms[0].g < 0:
                return exhaustive(lay, order, qterms, k, allowed)
            return single(lay, order, qterms[0], k, allowed)
        if suits(lay, qterms):
            return planes(lay, order, qterms, k, allowed)
        return threshold(lay, order, qterms, k, allowed)
