"""The threshold algorithm: read impact-ordered sources only as deep as the bounds require.

The sources of candidates are single terms (listed by impact level, layout.py) and pair lists
(listed by depth, pairs.py).  Listed docs are scored with every query term (dense gathers;
binary searches or a scatter buffer for the others); a doc no source has listed scores below
the sum of the sources' current bounds.  Rounds deepen the sources (heavier ones more) to raise
the k-th score; then a small knapsack (``split``) picks the levels whose bounds sum below it
with the fewest postings.  Pair lists that run out hand over to their two terms.  The
candidates that can still reach the k-th score are rescored exactly.

This is Fagin's threshold algorithm (Fagin, Lotem & Naor, "Optimal aggregation algorithms for
middleware", PODS 2001) over impact-ordered lists, with the threshold split among the lists as
in MaxScore-style early termination (Turtle & Flood 1995; Broder et al., WAND, CIKM 2003).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import params
from .exhaustive import finish, kth_distinct
from .layout import EMPTY, Array, Layout, QTerm, impact, tol
from .pairs import QPair, pair_depth, pair_up
from .scoring import fix_esc, sparse_tf

Source = QTerm | QPair
SPLIT_LEVELS = np.array(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 19, 22, 26, 30, 35, 40, 46, 52, 58, params.LEVELS - 1]
)
BUDGET = np.arange(256)
TRACE: list[Any] | None = None  # debugging and tests: when a list, each round appends what it listed


def score_part(
    lay: Layout,
    qterms: list[QTerm],
    src: QTerm | None,
    docs: Array,
    tf: Array | None,
    floor: float | None,
    rest: Any = None,
) -> tuple[Array, Array]:
    """Scores (float-close to exact) of docs; if src is given, they came from it with tf known.

    floor: documents that cannot reach it -- their src contribution plus `rest` (a bound on
    the other terms' contributions, per doc or one for all; default: their largest) -- are
    dropped.  Returns (docs, scores).
    """
    others = [q for q in qterms if q is not src]
    dl = np.take(lay.dl_idx, docs).astype(np.intp)
    tables = lay.ndl <= params.TABLE_MAX_LENGTHS
    if tables:
        dl16 = dl << 4  # index into the [length, tf < 16] impact tables
    if src is None:
        score = np.zeros(len(docs))
    else:
        if tf is None:
            raise ValueError("a source's postings come with their tf")
        if tables and src.maxtf <= params.NIBBLE and src.tab is not None:
            score = np.take(src.tab, dl16 + tf)
        else:
            score = impact(tf.astype(np.float64), lay.kvals[dl])
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
            col = np.take(lay.dense[q.byte], docs)
            nib = (col >> 4) if q.shift else (col & params.NIBBLE)
            if tables and q.tab is not None:
                v = np.take(q.tab, dl16 + nib)
            else:
                v = impact(nib.astype(np.float64), lay.kvals[dl])
                v *= q.w
            if q.esc:
                pos = np.flatnonzero(nib == params.NIBBLE)
                if len(pos):
                    etf = lay.esc_tf[np.searchsorted(lay.esc_key, q.slot * lay.doc_count + docs[pos].astype(np.int64))]
                    v[pos] = q.w * impact(etf, lay.kvals[dl[pos]])
            score += v
        else:
            q.looked += len(docs)
            if q.buf is None and q.looked * 8 >= q.df:
                q.buf = lay.take_buf()
                if q.buf is not None:
                    lay.fill_buf(q, q.buf, True)
            qtf = q.buf[docs] if q.buf is not None else sparse_tf(lay, q.t, docs)
            hit = np.flatnonzero(qtf)
            if len(hit):
                score[hit] += q.w * impact(qtf[hit].astype(np.float64), lay.kvals[dl[hit]])
    return docs, score


def advance(lay: Layout, q: QTerm | QPair, level: int | None) -> tuple[Array, Array | None]:
    """(docs, tf) of q's postings from its current level down to `level` (None: all the rest);
    for a pair list, (docs, None) down to that level."""
    if q.full or (level is not None and level <= q.cur):
        return EMPTY, (None if isinstance(q, QPair) else EMPTY)
    if isinstance(q, QPair):
        if level is None:
            level = q.jmax
        a, b = pair_depth(lay, q, q.cur), pair_depth(lay, q, level)
        q.cur = level
        return lay.pair_docs[q.off + a : q.off + b], None
    if level is None and not q.whole:
        # the rest of a cut dense term: scan its tf column for what is below the current level
        q.full = True
        col = lay.dense[q.byte]
        nib = (col >> 4) if q.shift else (col & params.NIBBLE)
        docs = np.flatnonzero(nib)
        tf = fix_esc(lay, q.slot, docs, nib[docs])
        if q.cur >= 0:
            f = impact(tf.astype(np.float64), lay.kvals[lay.dl_idx[docs]])
            below = np.flatnonzero(f < q.umax * lay.ratios[q.cur])
            docs, tf = docs[below], tf[below]
        return docs, tf
    lo, hi = q.lo, q.hi
    offs = lay.layer_off[lo : hi + 1].tolist()
    if q.cur >= 0 or level is not None:
        r0 = int(lay.grid_row0[q.g])
        cuts = lay.grid_cut[r0 : r0 + hi - lo]
    old = cuts[:, q.cur].tolist() if q.cur >= 0 else [0] * (hi - lo)
    if level is None:
        q.full = True
        new = [offs[i + 1] - offs[i] for i in range(hi - lo)]
    else:
        q.cur = level
        new = cuts[:, level].tolist()
    tfs = lay.layer_tf[lo:hi].tolist()
    post = lay.post
    parts, sizes, vals = [], [], []
    for i, (a, b) in enumerate(zip(old, new)):
        if b > a:
            parts.append(post[offs[i] + a : offs[i] + b])
            sizes.append(b - a)
            vals.append(tfs[i])
    if not parts:
        return EMPTY, EMPTY
    if len(parts) == 1:
        return parts[0], np.full(sizes[0], vals[0], np.int32)
    return np.concatenate(parts), np.repeat(np.array(vals, np.int32), sizes)


def threshold(lay: Layout, order: list[int], qterms: list[QTerm], k: int, allowed: Array | None) -> tuple[Array, Array]:
    if lay.ndl <= params.TABLE_MAX_LENGTHS:
        for q in qterms:
            q.tab = lay.f16t * q.w
    try:
        return threshold_run(lay, order, qterms, k, allowed)
    finally:
        for q in qterms:
            if q.buf is not None:
                lay.fill_buf(q, q.buf, False)
                lay.give_buf(q.buf)
                q.buf = None


def bound_of(lay: Layout, src: QTerm | QPair) -> float:
    """The bound on src's contribution for every doc it has not listed yet."""
    if src.full:
        return 0.0
    if isinstance(src, QPair):
        return src.b0 if src.cur < 0 else float(src.bounds[src.cur])
    return src.w * src.umax * (float(lay.ratios[src.cur]) if src.cur >= 0 else 1.0)


def threshold_run(
    lay: Layout, order: list[int], qterms: list[QTerm], k: int, allowed: Array | None
) -> tuple[Array, Array]:
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
    pairs = pair_up(lay, qterms)
    paired = {id(x) for p in pairs for x in (p.a, p.b)}
    sources: list[Source] = [*pairs, *(q for q in qterms if id(q) not in paired)]
    ever = len(sources)
    pool: list[tuple[Array, Array]] = [(EMPTY, np.zeros(0))]
    theta = None

    def add(parts: list[tuple[Source, Array, Array | None]]) -> None:
        nonlocal theta
        if TRACE is not None:
            TRACE.append(("round", [(src.t, len(d), src.cur, src.full) for src, d, _ in parts]))
        if allowed is not None:
            kept = []
            for src, docs, tf in parts:
                keep = np.flatnonzero(np.take(allowed, np.take(lay.int2ext, docs)))
                kept.append((src, np.take(docs, keep), None if tf is None else np.take(tf, keep)))
            parts = kept
        parts = [p for p in parts if len(p[1])]
        if not parts:
            return
        total = sum(len(p[1]) for p in parts)
        if total <= params.MERGE and len(parts) > 1:
            docs = np.concatenate([p[1] for p in parts])
            pool.append((docs, score_part(lay, qterms, None, docs, None, None)[1]))
        else:
            floor = theta - tol(theta) if theta is not None else None
            for src, docs, tf in parts:
                if isinstance(src, QPair):
                    pool.append((docs, score_part(lay, qterms, None, docs, None, None)[1]))
                else:
                    pool.append(score_part(lay, qterms, src, docs, tf, floor))
        docs = np.concatenate([d for d, _ in pool])
        sc = np.concatenate([s for _, s in pool])
        theta = kth_distinct(docs, sc, k, ever)
        if theta is not None:
            keep = np.flatnonzero(sc >= theta - tol(theta))
            docs, sc = np.take(docs, keep), np.take(sc, keep)
        pool[:] = [(docs, sc)]

    def dissolve() -> bool:
        """The pair lists are spent: their terms become sources of their own."""
        nonlocal ever
        live = [p for p in sources if isinstance(p, QPair) and not p.dead]
        for p in live:
            p.dead = True
            sources.extend((p.a, p.b))
            ever += 2
        return bool(live)

    # round 1: rare terms whole, the best few postings of the other sources
    parts: list[tuple[Source, Array, Array | None]] = []
    for src in sources:
        if isinstance(src, QPair):
            j = min(int(np.searchsorted(lay.pair_depths, params.SEED_COUNT)), src.jmax)
            parts.append((src, *advance(lay, src, j)))
        elif src.g < 0:
            parts.append((src, *advance(lay, src, None)))
        else:
            j = min(int(np.searchsorted(lay.grid_cnt[src.g], params.SEED_COUNT)), src.jmax)
            parts.append((src, *advance(lay, src, j)))
    add(parts)

    budget = params.DEEPEN_BUDGET
    levels: list[int | None] | None
    while True:
        open_src = [x for x in sources if not x.full and not (isinstance(x, QPair) and x.dead)]
        if not open_src:
            break
        if theta is not None:
            target = theta - tol(theta)
            if sum(bound_of(lay, x) for x in open_src) < target:
                break
            levels, cost = split(lay, open_src, target)
            if cost == math.inf:
                # no split proves the top-k at this threshold: if the pair lists are spent,
                # their terms take over; else raise the threshold first
                if all(x.cur == x.jmax for x in open_src if isinstance(x, QPair)) and dissolve():
                    continue
                levels = deepen(lay, open_src, budget) or [None] * len(open_src)
                budget *= params.DEEPEN_GROWTH
            elif cost > budget:
                # too dear for this threshold: first raise it with a cheaper, deeper look
                deeper = deepen(lay, open_src, budget)
                if deeper is not None:
                    levels = deeper
                budget *= params.DEEPEN_GROWTH
        else:
            levels = deepen(lay, open_src, budget)
            budget *= params.DEEPEN_GROWTH
            if levels is None:
                if dissolve():
                    continue
                levels = [None] * len(open_src)
        add([(x, *advance(lay, x, lev)) for x, lev in zip(open_src, levels)])

    return finish(lay, order, np.unique(pool[0][0]), k)


def split(lay: Layout, open_src: list[Source], target: float) -> tuple[list[int | None], float]:
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
    nl = len(SPLIT_LEVELS)
    tau = np.empty((m, nl + 2))
    cost = np.empty((m, nl + 2))
    singles = [i for i, x in enumerate(open_src) if not isinstance(x, QPair)]
    if singles:
        qs = [x for x in open_src if isinstance(x, QTerm)]
        heft = np.array([q.w * q.umax for q in qs])
        cur = np.array([q.cur for q in qs])
        last = np.array([q.jmax for q in qs])
        cnt = lay.grid_cnt[[q.g for q in qs]][:, SPLIT_LEVELS].astype(np.float64)
        have = np.array([float(lay.grid_cnt[q.g, q.cur]) if q.cur >= 0 else 0.0 for q in qs])
        t_s = heft[:, None] * lay.ratios[SPLIT_LEVELS][None, :]
        c_s = cnt - have[:, None]
        c_s[(SPLIT_LEVELS[None, :] <= cur[:, None]) | (SPLIT_LEVELS[None, :] > last[:, None])] = np.inf
        tau[singles, :nl] = t_s
        cost[singles, :nl] = c_s
        tau[singles, nl] = [bound_of(lay, q) for q in qs]
        tau[singles, nl + 1] = 0.0
        cost[singles, nl + 1] = [q.df - h + (0 if q.whole else lay.doc_count) for q, h in zip(qs, have.tolist())]
    for i, x in enumerate(open_src):
        if isinstance(x, QPair):
            lp = len(lay.pair_depths)
            listed = pair_depth(lay, x, x.cur)
            tau[i, :] = 0.0
            cost[i, :] = np.inf
            tau[i, :lp] = x.bounds
            cost[i, :lp] = np.minimum(lay.pair_depths, x.n) - listed
            cost[i, : x.cur + 1] = np.inf
            tau[i, nl] = bound_of(lay, x)
    cost[:, nl] = 0.0
    units = np.minimum(np.ceil(tau / delta), nb).astype(np.intp)
    idx = BUDGET[:nb][None, None, :] - units[:, :, None]  # (m, options, budget)
    np.maximum(idx, -1, out=idx)
    budget = BUDGET[:nb]
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
            out[i] = o if isinstance(x, QPair) else int(SPLIT_LEVELS[o])
    return out, total


def deepen(lay: Layout, open_src: list[Source], budget: int) -> list[int | None] | None:
    """Levels about `budget` postings deeper in all, shared by the sources' largest
    contributions; None if no source can go deeper within what is stored."""
    heft = {id(x): (x.heft if isinstance(x, QPair) else x.w * x.umax) for x in open_src}
    total = sum(heft.values())
    out: list[int | None] = []
    moved = False
    for x in open_src:
        share = max(1, int(budget * heft[id(x)] / total))
        if isinstance(x, QPair):
            have = pair_depth(lay, x, x.cur)
            j = min(int(np.searchsorted(np.minimum(lay.pair_depths, x.n), have + share)), x.jmax)
        else:
            cnt = lay.grid_cnt[x.g]
            have = int(cnt[x.cur]) if x.cur >= 0 else 0
            j = min(int(np.searchsorted(cnt, have + share)), x.jmax)
        moved |= j > x.cur
        out.append(max(j, x.cur))
    return out if moved else None
