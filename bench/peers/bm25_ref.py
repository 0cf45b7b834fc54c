# Copied from ../shared/bench/peers/ (the independent BM25 peer benchmark) so that bench/search.py runs
# from the repository; kept as it is there, but for the seeds folder (the bundled bot/samples, the same files).
"""Minimal exact BM25Okapi (rank-bm25 0.2.2 semantics) on a scipy CSC matrix.

Index: an N_docs x V CSC matrix whose entry (d, t) is the full per-term score
contribution idf(t) * tf*(k1+1) / (tf + k1*(1 - b + b*|d|/avgdl)), with
rank-bm25's idf = log(N - df + 0.5) - log(df + 0.5), negative values replaced
by epsilon * mean(idf over the whole vocabulary).  The arithmetic is written in
the same order as rank_bm25.BM25Okapi.get_scores, so per-term contributions are
bit-identical and the summed scores match to the last ulp (query terms are
added in query order, repeated query terms count twice, unknown terms add 0).

Query = sum of the query terms' columns into a reusable dense buffer, then
top-k by argpartition over the touched documents only (touched docs are found
with a reusable boolean mask, or by one scan of the buffer when the postings
are long).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp


class BM25OkapiCSC:
    def __init__(self, corpus, k1=1.5, b=0.75, epsilon=0.25):
        self.k1, self.b, self.epsilon = k1, b, epsilon
        vocab: dict[str, int] = {}
        setdefault = vocab.setdefault
        # term ids in first-occurrence order == rank-bm25's idf dict order
        ids = [setdefault(t, len(vocab)) for doc in corpus for t in doc]
        n = len(corpus)
        lens = np.fromiter((len(d) for d in corpus), dtype=np.int64, count=n)
        term = np.array(ids, dtype=np.int32)
        del ids
        doc = np.repeat(np.arange(n, dtype=np.int32), lens)
        v = len(vocab)
        m = sp.csc_matrix((np.ones(len(term)), (doc, term)), shape=(n, v))
        del term, doc
        m.sum_duplicates()
        m.sort_indices()
        tf = m.data
        rows = m.indices
        indptr = m.indptr
        df = np.diff(indptr)
        # idf exactly as rank_bm25.BM25Okapi._calc_idf (math.log, sequential sum)
        idf = [math.log(n - f + 0.5) - math.log(f + 0.5) for f in df.tolist()]
        idf_sum = 0.0
        for x in idf:
            idf_sum += x
        self.average_idf = idf_sum / len(idf)
        eps = epsilon * self.average_idf
        idf = np.array([eps if x < 0 else x for x in idf], dtype=np.float64)
        self.avgdl = int(lens.sum()) / n
        dl = lens[rows]
        idf_rep = np.repeat(idf, df)
        # same expression and evaluation order as rank_bm25.get_scores
        self.data = idf_rep * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / self.avgdl)))
        self.indices = rows
        self.indptr = indptr
        self.vocab = vocab
        self.idf = idf
        self.n_docs = n
        self.doc_len = lens
        self._buf = np.zeros(n, dtype=np.float64)  # query accumulator, kept all-zero
        self._seen = np.zeros(n, dtype=bool)  # touched-doc marks, kept all-False

    def _cols(self, query_tokens):
        get = self.vocab.get
        return [c for c in (get(t) for t in query_tokens) if c is not None]

    def get_scores(self, query_tokens) -> np.ndarray:
        """Full score vector, identical to rank_bm25.BM25Okapi.get_scores."""
        s = np.zeros(self.n_docs, dtype=np.float64)
        ip, ix, dt = self.indptr, self.indices, self.data
        for c in self._cols(query_tokens):
            a, e = ip[c], ip[c + 1]
            s[ix[a:e]] += dt[a:e]  # rows are unique within a column
        return s

    def top_k(self, query_tokens, k=10):
        """(doc_ids, scores) of the k best documents, best first."""
        cols = self._cols(query_tokens)
        ip, ix, dt, buf, seen = self.indptr, self.indices, self.data, self._buf, self._seen
        total = sum(int(ip[c + 1] - ip[c]) for c in cols)
        if len(cols) > 1 and total > self.n_docs // 4:
            # long postings: accumulate, then scan the dense buffer once
            for c in cols:
                a, e = ip[c], ip[c + 1]
                buf[ix[a:e]] += dt[a:e]  # rows are unique within a column
            cand = np.flatnonzero(buf)
        else:
            # short postings: collect the touched docs without sorting
            parts = []
            for c in cols:
                a, e = ip[c], ip[c + 1]
                r = ix[a:e]
                if len(cols) > 1:
                    new = r[~seen[r]]
                    seen[new] = True
                    parts.append(new)
                else:
                    parts.append(r)
                buf[r] += dt[a:e]
            cand = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
            seen[cand] = False
        scores = buf[cand]
        buf[cand] = 0.0
        if len(cand) > k:
            part = np.argpartition(-scores, k - 1)[:k]
            cand, scores = cand[part], scores[part]
        order = np.argsort(-scores, kind="stable")
        cand, scores = cand[order], scores[order]
        if len(cand) < k:  # rank-bm25 would fill up with zero-score docs
            fill = np.setdiff1d(np.arange(min(self.n_docs, k + len(cand))), cand)[: k - len(cand)]
            cand = np.concatenate([cand, fill])
            scores = np.concatenate([scores, np.zeros(len(fill))])
        return cand, scores

    def score_docs(self, query_tokens, doc_ids) -> np.ndarray:
        """Exact scores of selected documents (used to judge other engines)."""
        return self.get_scores(query_tokens)[np.asarray(doc_ids, dtype=np.int64)]

    def nbytes(self) -> int:
        return (self.data.nbytes + self.indices.nbytes + self.indptr.nbytes + self._buf.nbytes
                + self._seen.nbytes + self.doc_len.nbytes)
