"""The shared peer benchmark (bench/peers/, copied from ../shared/bench/peers/), run from bench/search.py.

Corpus: make_corpus.py's stream of 1M segments grown from the seeds (no stemming), its first N
lines at smaller sizes; cached in ~/.cache/quotebot-bench/peers (QUOTEBOT_BENCH_CACHE).  Query
sets: make_corpus.py's default 200 queries (half from real segments, half of the 150 most common
tokens) and one set per --query-seed (make_corpus.py --query-seed N), all over the same corpus.

Engines, one after the other in this process, each timed like bench_peers.py times them (one
query at a time, 20 warm-up queries, passes until 5 or 20 s, a query's latency the median of
its passes):
* ours: BM25Index.build, then every query set; memory = RSS growth over the build (after gc)
  beside the size of the index's arrays;
* bm25s + numba, bench_peers.py's ``bm25s_numba_okapi_f32`` (bm25s' scores rescaled to
  BM25Okapi's idf, float32), if numba is installed;
* rank-bm25 BM25Okapi itself, on the first --rank-bm25-queries queries of each set (it scores
  every document in Python: seconds per query at 1M);
* tantivy (block-max WAND, another formula) with --tantivy.
Exactness: every query of every set, our top-10 against the top-10 of the exact BM25Okapi scores
of bm25_ref.py (a scipy scorer that bench_peers.py verifies bit-identical to rank-bm25), ties
by lower id; on rank-bm25's subset, our scores against rank-bm25's own.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEERS = Path(__file__).resolve().parent / "peers"
sys.path.insert(0, str(PEERS))

import bench_peers
import make_corpus
from common import rss_mib

from index.engine import BM25Index

CACHE = Path(os.environ.get("QUOTEBOT_BENCH_CACHE", Path.home() / ".cache" / "quotebot-bench")) / "peers"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TARGETS = {"p50_ms": 0.4, "p99_ms": 1.5, "max_ms": 3.0}


def corpus_and_queries(size: str, seeds: list[int | None]) -> tuple[list[list[str]], dict[str, list[dict[str, Any]]]]:
    """The first N segments of make_corpus.py's stream, and a query set per seed (None: its default)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "corpus_1m.txt"
    names = {s: CACHE / f"queries_{'default' if s is None else s}.json" for s in seeds}
    if not path.exists() or not all(p.exists() for p in names.values()):
        print(f"   making the peer corpus (1M segments, about a minute) in {CACHE} ...", flush=True)
        base, _ = make_corpus.build_base(str(ROOT / "bot" / "samples"))
        rng = np.random.default_rng(make_corpus.SEED)
        stream, df = make_corpus.build_stream(base, max(SIZES.values()), rng)
        default = make_corpus.make_queries(base, df, rng)  # the rng's next draws, as make_corpus.py
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="ascii") as f:
            f.writelines(" ".join(d) + "\n" for d in stream)
        tmp.replace(path)
        for s, p in names.items():
            qs = default if s is None else make_corpus.make_queries(base, df, np.random.default_rng(s))
            p.write_text(json.dumps(qs))
        del stream
    n = SIZES[size]
    docs: list[list[str]] = []
    intern = sys.intern
    with open(path, encoding="ascii") as f:
        for line in f:
            if len(docs) >= n:
                break
            docs.append([intern(t) for t in line.split()])
    sets = {("default" if s is None else f"seed {s}"): json.loads(p.read_text()) for s, p in names.items()}
    return docs, sets


def _time(search: Any, queries: list[list[str]]) -> tuple[np.ndarray, list[Any]]:
    """Per-query latency (ms, median over passes) and the last pass's results."""
    for q in queries[:20]:
        search(q)
    passes, t_start = [], time.perf_counter()
    while True:
        lat = np.empty(len(queries))
        res = []
        for i, q in enumerate(queries):
            t0 = time.perf_counter()
            res.append(search(q))
            lat[i] = time.perf_counter() - t0
        passes.append(lat)
        if len(passes) >= 5 or time.perf_counter() - t_start > 20.0:
            break
    return np.median(np.vstack(passes), axis=0) * 1e3, res


def _stats(lat: np.ndarray) -> dict[str, float]:
    return {
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
    }


def run(size: str, seeds: list[int | None], rank_queries: int, tantivy: bool) -> list[dict[str, Any]]:
    """Every engine on every query set at this size; returns one row per engine and set."""
    t0 = time.perf_counter()
    docs, sets = corpus_and_queries(size, seeds)
    print(
        f"\n== peer benchmark, {len(docs):,} segments (loaded in {time.perf_counter() - t0:.0f} s); query sets: "
        + ", ".join(f"{k} ({len(v)})" for k, v in sets.items()),
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    toks = {name: [q["tokens"] for q in qs] for name, qs in sets.items()}

    ours_rows, ours = _ours(docs, sets, toks)
    rows += ours_rows
    gc.collect()

    # exactness, against bm25_ref (bit-identical to rank-bm25)
    from bm25_ref import BM25OkapiCSC

    ref = BM25OkapiCSC(docs, k1=1.5, b=0.75, epsilon=0.25)
    for row in rows:
        exact = 0
        for q, (ids, sc) in zip(toks[row["set"]], ours[row["set"]]):
            s = ref.get_scores(q)
            hold = np.flatnonzero(s > 0)
            want = hold[np.lexsort((hold, -s[hold]))][:10]
            exact += bool(np.array_equal(ids, want) and np.abs(sc - s[want]).max(initial=0) <= 1e-9)
        row["exact"] = f"{exact}/{len(toks[row['set']])}"
    del ref
    gc.collect()

    # bm25s + numba
    try:
        import numba  # noqa: F401

        rows += _peer("bm25s_numba_okapi_f32", "bm25s+numba", docs, toks, "float32 scores")
    except ImportError:
        print("   bm25s+numba: not installed (pip install -e '.[bench]')", flush=True)

    # rank-bm25 itself, on a subset
    if rank_queries:
        from rank_bm25 import BM25Okapi

        t0 = time.perf_counter()
        bm = BM25Okapi(docs, k1=1.5, b=0.75, epsilon=0.25)
        b_s = time.perf_counter() - t0
        for name, qs in toks.items():
            sub = qs[:rank_queries]
            lat = np.empty(len(sub))
            agree = 0
            for i, q in enumerate(sub):
                t1 = time.perf_counter()
                s = bm.get_scores(q)
                bench_peers.topk_desc(s)
                lat[i] = time.perf_counter() - t1
                ids, sc = ours[name][i]
                agree += bool(np.abs(sc - s[ids]).max(initial=0) <= 1e-9)
            rows.append(
                {
                    "engine": "rank-bm25",
                    "set": name,
                    "build_s": b_s,
                    **_stats(lat * 1e3),
                    "exact": f"definition; ours' scores equal on {agree}/{len(sub)}",
                }
            )
        del bm
        gc.collect()

    if tantivy:
        rows += _peer("tantivy", "tantivy", docs, toks, "another formula")
    for r in rows:
        r["size"] = size
    return rows


def _ours(
    docs: list[list[str]], sets: dict[str, list[dict[str, Any]]], toks: dict[str, list[list[str]]]
) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """Our engine: build (time, RSS growth, arrays' size), then every query set."""
    rows: list[dict[str, Any]] = []
    gc.collect()
    rss0 = rss_mib()
    t0 = time.perf_counter()
    idx = BM25Index.build(docs)
    build_s = time.perf_counter() - t0
    gc.collect()
    grown = rss_mib() - rss0
    arrays = sum(int(a.nbytes) for a in idx.layout.arrays().values()) / 2**20
    ours: dict[str, list[Any]] = {}
    for name, qs in toks.items():
        lat, res = _time(lambda q: idx.top_k(q, 10), qs)
        ours[name] = res
        kinds = np.array([q["kind"] for q in sets[name]])
        slow = np.argsort(-lat)[:3]
        rows.append(
            {
                "engine": "ours",
                "set": name,
                "build_s": build_s,
                **_stats(lat),
                "p50_common_ms": float(np.percentile(lat[kinds == "common"], 50)),
                "rss_growth_mib": grown,
                "arrays_mib": arrays,
                "slowest": [[" ".join(qs[i]), round(float(lat[i]), 2)] for i in slow],
            }
        )
    return rows, ours


def _peer(
    key: str, label: str, docs: list[list[str]], toks: dict[str, list[list[str]]], note: str
) -> list[dict[str, Any]]:
    """bench_peers.py's engine ``key``: built on docs, timed on every query set."""
    eng = bench_peers.ENGINES[key]()
    eng.imports()
    t0 = time.perf_counter()
    eng.build(docs)
    build_s = time.perf_counter() - t0
    rows = []
    for name, qs in toks.items():
        lat, _ = _time(eng.search, qs)
        rows.append({"engine": label, "set": name, "build_s": build_s, **_stats(lat), "exact": note})
    del eng
    gc.collect()
    return rows


def report(rows: list[dict[str, Any]]) -> None:
    """Print the rows as one table per size, and our targets against bm25s+numba's figures."""
    print(f"   {'engine':12} {'query set':9} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  exact top-10")
    for r in rows:
        figures = f"{r['build_s']:8.2f} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} {r['max_ms']:8.3f}"
        print(f"   {r['engine']:12} {r['set']:9} {figures}  {r['exact']}")
    for r in rows:
        if r["engine"] == "ours":
            print(f"   ours, {r['set']}: slowest {r['slowest']}; common-word p50 {r['p50_common_ms']:.3f} ms")
    ours = [r for r in rows if r["engine"] == "ours"]
    if ours:
        r = ours[0]
        ratio = r["rss_growth_mib"] / r["arrays_mib"]
        print(
            f"   ours: build {r['build_s']:.1f} s (target < 10 s); RSS grew {r['rss_growth_mib']:.0f} MiB for "
            f"{r['arrays_mib']:.0f} MiB of arrays ({ratio:.2f}x, target <= 1.5x)"
        )
    numba = {r["set"]: r for r in rows if r["engine"] == "bm25s+numba"}
    for r in ours:
        verdict = [f"{k} {r[k]:.3f} {'<=' if r[k] <= v else '>'} {v}" for k, v in TARGETS.items()]
        peer = numba.get(r["set"])
        if peer:
            verdict += [
                f"{k} {'better' if r[k] < peer[k] else 'NOT better'} than bm25s+numba's {peer[k]:.3f}"
                for k in ("p50_ms", "p99_ms")
            ]
        print(f"   targets, {r['set']}: " + "; ".join(verdict))
