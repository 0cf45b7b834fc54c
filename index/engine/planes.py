"""Queries of several common words: tf bit planes, length-group bounds, and a shared decision diagram.

For a query of common words the threshold algorithm is slow: a top document is often only fairly
high on several terms, and single-term (or pair) bounds cannot rule out the millions of
documents that hold one or two of them.  This strategy bounds every document at once instead.

* Layout: for every dense term, bit planes over the documents (internal order, 64 to a uint64
  word): plane s holds the documents with tf >= PLANE_TF[s] (``plane_bits``, F x planes x W;
  by default tf >= 1, 2 and 4).
  Documents are numbered by length, so PLANE_GROUPS equal runs of words are length groups; for
  each term and group the largest tf (``plane_tf``, capped at 15).
* Bounds: in group g a document in tf state s (0 = absent; s = PLANE_TF[s-1] <= tf <
  PLANE_TF[s]) gets at most ``w * impact(PLANE_TF[s] - 1, K_g)`` from the term (``impact(max tf
  in g, K_g)`` in the last state), K_g being the group's smallest length normaliser.  These are block-max bounds (Ding &
  Suel, "Faster top-k document retrieval using block-max indexes", SIGIR 2011) refined by the
  document's own tf state, which the planes give for every document in a few word operations.
* Candidates: the documents whose bound reaches a guess of the k-th score, as a bit set.  The
  bounds are rounded up to units of guess / PLANE_UNITS, so "the terms from i on
  must still bring n units" has few distinct values, and the bit set is built as a reduced ordered binary
  decision diagram over the terms (Bryant, "Graph-based algorithms for Boolean function
  manipulation", IEEE ToC 1986): each node, one AND and OR per state on the group's words,
  computed once.  Bit-sliced term rows answered by ANDs follow BitFunnel (Goodwin et al.,
  SIGIR 2017).
* The guess: the k-th exact score among each dense term's best postings (by impact) and the
  rare terms' documents, a lower bound on the k-th score; every document that can reach it is
  a candidate, so the candidates, scored exactly, hold the exact top-k.  (If they are many, a
  higher guess is tried first: if k candidates reach it, they are the top-k; else their k-th
  exact score is a better lower bound than the first.)  Rare query terms
  (no planes) add all their postings as candidates.
"""

from __future__ import annotations

import numpy as np

from . import params
from .exhaustive import kth_distinct, select
from .layout import Array, Layout, QTerm, impact, tol
from .pairs import pair_up
from .scoring import all_postings, contrib, exact_scores
from .threshold import threshold

NO_PLANES: dict[str, Array] = {"plane_bits": np.zeros((0, 0, 0), np.uint64), "plane_tf": np.zeros((0, 0), np.uint8)}


def build_planes(dense: Array, slots: int, N: int) -> dict[str, Array]:
    """The bit planes and per-group largest tf (capped at 15) of ``slots`` dense terms, from their
    4-bit columns ``dense`` (two terms to a byte row)."""
    if slots == 0 or N == 0:
        return dict(NO_PLANES)
    W = -(-N // 64)
    G = max(1, min(params.PLANE_GROUPS, W))
    gw = -(-W // G)
    bits = np.zeros((slots, len(params.PLANE_TF), W), np.uint64)
    top = np.zeros((slots, G), np.uint8)
    padded = np.zeros(G * gw * 64, np.uint8)
    for i in range(slots):
        col = dense[i // 2]
        padded[:N] = (col >> 4) if i & 1 else (col & params.NIBBLE)
        top[i] = padded.reshape(G, -1).max(axis=1)
        for s, tf in enumerate(params.PLANE_TF):
            bits[i, s] = np.packbits(padded[: W * 64] >= tf, bitorder="little").view(np.uint64)
    return {"plane_bits": bits, "plane_tf": top}


class _Diagram:
    """The candidate bit sets of one length group: a decision diagram over the query's dense terms.

    ``units[i][s]``: term i's bound in tf state s, in units; node (i, n) is the set of the
    group's documents whose terms i.. can bring at least n units.  Nodes are computed once.
    """

    def __init__(self, rows: list[Array], units: list[list[int]], words: int, always: list[bool]):
        self.rows = rows  # per term: its planes' words in this group, (planes, words)
        self.units = units
        self.always = always  # per term: counted as present everywhere (it is in most documents)
        self.words = words
        rest = [0] * (len(units) + 1)
        for i in range(len(units) - 1, -1, -1):
            rest[i] = rest[i + 1] + units[i][-1]
        self.rest = rest
        self.memo: dict[tuple[int, int], Array | bool] = {}
        self.counts: dict[int, int] = {}

    def node(self, i: int, need: int) -> Array | bool:
        """True: every document; False: none; else the set's words."""
        if need <= 0:
            return True
        if self.rest[i] < need:
            return False
        key = (i, need)
        got = self.memo.get(key)
        if got is not None:
            return got
        u = self.units[i]
        first = 1
        if self.always[i]:
            # its first plane holds most documents: cheaper to credit every document with the
            # first state's bound than to intersect with it
            out = self.node(i + 1, need - u[1])
            first = 2
        else:
            out = self.node(i + 1, need)
        if out is True:  # (a later term credited everywhere can bring the rest)
            return True
        for s in range(first, len(u)):
            sub = self.node(i + 1, need - u[s])
            if sub is False:
                continue
            plane = self.rows[i][s - 1]
            x = plane if sub is True else plane & sub
            out = x if out is False else out | x
            if sub is True:
                break  # the higher states' planes are subsets of this one
        self.memo[key] = out
        return out

    def count(self, need: int) -> int:
        """How many documents (of the group's words) reach ``need`` units."""
        c = self.counts.get(need)
        if c is None:
            got = self.node(0, need)
            c = self.counts[need] = (
                self.words * 64 if got is True else 0 if got is False else int(np.bitwise_count(got).sum())
            )
        return c


def _bounds(lay: Layout, dense: list[QTerm], G: int, gw: int) -> Array:
    """(G, terms, states): each term's bound per length group and tf state (state 0: 0)."""
    first = np.minimum(np.arange(G) * gw * 64, lay.doc_count - 1)
    K = np.asarray(lay.kvals)[np.asarray(lay.dl_idx)[first]]  # the smallest K of each group
    tfs = params.PLANE_TF
    out = np.zeros((G, len(dense), len(tfs) + 1))
    for i, q in enumerate(dense):
        top = lay.plane_tf[q.slot].astype(np.float64)
        top[top >= params.NIBBLE] = lay.max_tf
        for s in range(1, len(tfs)):
            out[:, i, s] = q.w * impact(np.clip(top, tfs[s - 1], tfs[s] - 1), K)
        out[:, i, len(tfs)] = q.w * impact(np.maximum(top, tfs[-1]), K)
    return out


def _docs(diagrams: list[_Diagram], need: int, gw: int, N: int) -> Array:
    """Internal ids of the documents that reach ``need`` units."""
    parts = []
    for g, d in enumerate(diagrams):
        got = d.node(0, need)
        if got is False:
            continue
        if got is True:
            parts.append(np.arange(g * gw * 64, (g * gw + d.words) * 64, dtype=np.int64))
            continue
        nz = np.flatnonzero(got)
        if len(nz):
            bit = np.flatnonzero(np.unpackbits(got[nz].view(np.uint8), bitorder="little"))
            parts.append((nz[bit >> 6] + g * gw) * 64 + (bit & 63))
    docs = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return docs[docs < N]


def planes(lay: Layout, order: list[int], qterms: list[QTerm], k: int, allowed: Array | None) -> tuple[Array, Array]:
    """The exact top-k (ids, scores) of a query with two or more dense terms (see the module doc)."""
    dense = sorted((q for q in qterms if q.slot >= 0), key=lambda q: -q.w * q.umax)
    rare = [q for q in qterms if q.slot < 0]
    rare_docs = np.unique(np.concatenate([all_postings(lay, q.t)[0] for q in rare])) if rare else np.zeros(0, np.int64)

    def scored(docs: Array) -> tuple[Array, Array, float | None]:
        if allowed is not None:
            docs = docs[allowed[lay.int2ext[docs]]]
        score = exact_scores(lay, order, docs)
        hold = np.flatnonzero(score > 0)  # documents holding a query term (every weight is > 0)
        if len(hold) < len(docs):
            docs, score = docs[hold], score[hold]
        return docs, score, kth_distinct(docs, score, k, 1)

    # a first lower bound on the k-th score: the rare terms' documents and each dense term's best
    seeds = [rare_docs]
    for p in pair_up(lay, dense):
        seeds.append(lay.pair_docs[p.off : p.off + min(p.n, params.PLANE_SEED)])
    for q in dense:
        j = min(int(np.searchsorted(lay.grid_cnt[q.g], params.PLANE_SEED)), q.jmax)
        seeds.append(contrib(lay, q, 1.0, j)[0])
    theta = scored(np.unique(np.concatenate(seeds)))[2]
    if theta is None or theta <= 0:
        return threshold(lay, order, qterms, k, allowed)
    W = lay.plane_bits.shape[2]
    G = lay.plane_tf.shape[1]
    gw = -(-W // G)
    bounds = _bounds(lay, dense, G, gw)
    Q = params.PLANE_UNITS
    delta = theta * (1 - 1e-9) / Q
    # terms in most documents are credited their first state everywhere (no intersection with it)
    always = [q.df >= params.PLANE_ALWAYS * lay.doc_count for q in dense]
    diagrams = []
    for g in range(G):
        lo, hi = g * gw, min((g + 1) * gw, W)
        units = np.ceil(bounds[g] / delta).astype(np.int64).tolist()
        diagrams.append(_Diagram([lay.plane_bits[q.slot, :, lo:hi] for q in dense], units, hi - lo, always))
    need = Q
    if sum(d.count(Q) for d in diagrams) > params.PLANE_CANDIDATES:
        # many documents may reach theta: first a higher guess, whose candidates are fewer
        for higher in (Q + Q // 2, Q + Q // 4):
            if higher > Q and sum(d.count(higher) for d in diagrams) >= k:
                need = higher
                break
    while True:
        docs = _docs(diagrams, need, gw, lay.doc_count)
        if len(rare_docs):
            docs = np.union1d(docs, rare_docs)
        docs, score, found = scored(docs)
        if need <= Q or (found is not None and found >= need * delta - tol(need * delta)):
            return select(lay, docs, score, k, 1)
        # the k-th score found is a lower bound: every document that can reach it is listed next
        need = max(Q, int(found * (1 - 1e-9) / delta)) if found is not None else Q


def suits(lay: Layout, qterms: list[QTerm]) -> bool:
    """Whether this strategy should answer: PLANE_MIN_TERMS or more dense terms of which
    PLANE_UNPAIRED or more have no pair lists (else the threshold algorithm and its pair lists
    answer well), or PLANE_ANY_TERMS or more dense terms; and few postings of the other terms."""
    if not len(lay.plane_bits):
        return False
    dense = [q for q in qterms if q.slot >= 0]
    unpaired = sum(1 for q in dense if q.t not in lay.pair_rank or q.w != lay.idf(q.t))
    rare = sum(q.df for q in qterms if q.slot < 0)
    many = len(dense) >= max(2, params.PLANE_ANY_TERMS)
    return (
        many or (len(dense) >= max(2, params.PLANE_MIN_TERMS) and unpaired >= params.PLANE_UNPAIRED)
    ) and rare <= params.PLANE_RARE_MAX
