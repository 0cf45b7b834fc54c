"""Search latency at 10k / 100k / 1M segments: our exact BM25 engine against rank-bm25 and bm25s.

    python bench/search.py [--json] [--sizes 10000,100000,1000000] [--queries 2000] [--repeat 3]
                           [--suite own,peers] [--peer-size 1m] [--query-seeds default,1,2]
                           [--rank-bm25-queries 5] [--tantivy]

Two suites.  "own" (below): the project's query mix on a corpus grown from the seeds.  "peers":
the shared peer benchmark (bench/peers/, copied from ../shared/bench/peers/; see
bench/peer_suite.py): its 1M-segment corpus and its default query set plus one per
--query-seeds, ours beside bm25s+numba and rank-bm25 measured in the same run, every top-10
checked against exact BM25Okapi scores.  Install the peers with pip install -e '.[bench]'.

Corpus: deterministic, from the bundled seeds.  The seed files are stripped of timestamps and
markup and tokenized with index.tokens.tokenize.  Segments of 20-40 tokens are read from the seed
text in "episodes" of 400 consecutive segments, each episode starting at a random point of the
text.  English function words are kept as they are; every other word takes an episode-dependent
variant (``word_b``) that changes every G episodes, G log-uniform per word -- so common words are
shared by the whole corpus while topical words are spread over many rarer variants, as in a
real collection of podcasts (Zipf-like, with a long tail of rare words).  Without this, a
million segments read from 264k seed tokens would repeat every word a hundred times.

Queries (fixed seed, sampled from the same corpus): see QUERY_MIX below -- spans of 1-4 tokens
(common and rare words as they come), pure common-word queries, and spans with an
out-of-vocabulary token.

Ours: build from token lists, save, load (memory-mapped), then every query is timed
(time.perf_counter_ns, token list -> top-10 doc ids and scores) in --repeat passes after one
warm-up pass; a query's latency is its median over the passes; p50/p99/mean are over queries.
Exactness: for a sample of queries our top-10 is compared with a brute force over every
document's exact score (rank-bm25's get_scores at 10k, our score_all above).

Peers, same corpus, same token lists, one query at a time, one pass:
* rank-bm25 BM25Okapi (k1=1.5, b=0.75, epsilon=0.25): get_scores + top-10; on a subset of
  the queries (every n-th, same mix), and not at 1M (it scores every document in Python).
* bm25s (numpy backend; default "lucene" variant, k1=1.5, b=0.75): BM25.index(token lists),
  retrieve(k=10) per query; on a subset at 1M.  Its numba backend is measured in the peer
  suite (bm25s+numba, rescaled to BM25Okapi's idf).

Runs pinned to one core, with BLAS/OpenMP threads set to 1.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse
import gc
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index.engine import BM25Index
from index.tokens import tokenize

SAMPLES = ROOT / "bot" / "samples"
SEGMENTS_PER_EPISODE = 400
QUERY_MIX = {"span": 0.70, "common": 0.20, "oov": 0.10}
TARGETS = {"p50_ms": 0.25, "p99_ms": 1.5, "bytes_per_segment": 250, "build_s": 10.0, "load_s": 1.0}

# Words every podcast shares; everything else gets episode-dependent variants.
FUNCTION_WORDS = {
    "a",
    "about",
    "actually",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "around",
    "as",
    "at",
    "back",
    "be",
    "because",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "can't",
    "could",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "even",
    "every",
    "for",
    "from",
    "get",
    "gets",
    "getting",
    "go",
    "goes",
    "going",
    "gonna",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "he's",
    "her",
    "here",
    "here's",
    "him",
    "his",
    "how",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "just",
    "kind",
    "know",
    "let's",
    "like",
    "lot",
    "made",
    "make",
    "makes",
    "many",
    "maybe",
    "me",
    "mean",
    "more",
    "most",
    "much",
    "my",
    "no",
    "not",
    "now",
    "of",
    "oh",
    "okay",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "people",
    "pretty",
    "probably",
    "really",
    "right",
    "said",
    "say",
    "says",
    "see",
    "so",
    "some",
    "something",
    "sort",
    "still",
    "such",
    "sure",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "them",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they're",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "though",
    "through",
    "to",
    "too",
    "um",
    "uh",
    "up",
    "us",
    "very",
    "want",
    "was",
    "wasn't",
    "way",
    "we",
    "we're",
    "we've",
    "well",
    "were",
    "what",
    "what's",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "wouldn't",
    "yeah",
    "yes",
    "you",
    "you'd",
    "you're",
    "you've",
    "your",
}
FUNCTION_TERMS = {t for w in FUNCTION_WORDS for t in tokenize(w)}  # as the tokenizer writes them (stemmed)
_MARKUP = [
    re.compile(p, re.MULTILINE) for p in (r"\[[0-9:.,\s>\-]+\]", r"-->", r"https?://\S+", r"<[^>]+>", r"^\s*\d+\s*$")
]


def seed_tokens() -> list[str]:
    tokens: list[str] = []
    for path in sorted(SAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for rx in _MARKUP:
            text = rx.sub(" ", text)
        tokens.extend(tokenize(text))
    return tokens


def _suffix(v: int) -> str:
    s = ""
    v += 1
    while v:
        v, r = divmod(v - 1, 26)
        s = chr(97 + r) + s
    return "_" + s


def make_corpus(n: int, seed: int = 7) -> list[list[str]]:
    """n segments of 20-40 tokens (see the module doc)."""
    words, stream = np.unique(np.array(seed_tokens(), dtype=object).astype(str), return_inverse=True)
    stream = stream.astype(np.int64)
    rng = np.random.default_rng(seed)
    n_ep = max(1, -(-n // SEGMENTS_PER_EPISODE))
    every = np.exp(rng.uniform(np.log(2), np.log(max(4, n_ep)), len(words)))
    every[np.array([str(w) in FUNCTION_TERMS for w in words])] = np.inf
    lens = rng.integers(20, 41, n)
    ep = np.arange(n) // SEGMENTS_PER_EPISODE
    ep_start = rng.integers(0, len(stream), n_ep)
    offset = np.cumsum(lens) - lens  # segments of an episode read consecutive text
    doc_start = (ep_start[ep] + offset - offset[ep * SEGMENTS_PER_EPISODE]) % len(stream)
    tok_doc = np.repeat(np.arange(n), lens)
    pos = (np.repeat(doc_start, lens) + np.arange(int(lens.sum())) - np.repeat(offset, lens)) % len(stream)
    w = stream[pos]
    g = every[w]
    variant = np.where(np.isinf(g), -1, (ep[tok_doc] / np.where(np.isinf(g), 1, g)).astype(np.int64))
    key = w * (n_ep + 1) + (variant + 1)
    uniq, tok_id = np.unique(key, return_inverse=True)
    names = [
        str(words[a]) if b < 0 else f"{words[a]}{_suffix(int(b))}"
        for a, b in zip((uniq // (n_ep + 1)).tolist(), (uniq % (n_ep + 1) - 1).tolist())
    ]
    flat = [names[i] for i in tok_id.tolist()]
    bounds = np.concatenate(([0], np.cumsum(lens))).tolist()
    return [flat[bounds[i] : bounds[i + 1]] for i in range(n)]


def make_queries(docs: list[list[str]], count: int, seed: int = 11) -> tuple[list[list[str]], list[str]]:
    """(queries, kind of each): spans of 1-4 tokens, pure common-word queries, spans with an OOV token."""
    rng = np.random.default_rng(seed)
    df: dict[str, int] = {}
    for doc in docs[: min(len(docs), 20000)]:
        for t in set(doc):
            df[t] = df.get(t, 0) + 1
    common = sorted(df, key=lambda t: (-df[t], t))[:30]
    kinds = rng.choice(list(QUERY_MIX), size=count, p=list(QUERY_MIX.values()))
    queries = []
    for kind in kinds:
        if kind == "common":
            queries.append([common[i] for i in rng.integers(0, len(common), int(rng.integers(1, 4)))])
            continue
        doc = docs[int(rng.integers(len(docs)))]
        length = int(rng.integers(1, 5 if kind == "span" else 4))
        start = int(rng.integers(0, max(1, len(doc) - length + 1)))
        q = list(doc[start : start + length])
        if kind == "oov":
            q.insert(int(rng.integers(0, len(q) + 1)), f"zzq{int(rng.integers(10**6))}")
        queries.append(q)
    return queries, [str(k) for k in kinds]


def brute_top10(scores: np.ndarray) -> np.ndarray:
    order = np.lexsort((np.arange(len(scores)), -scores))[:10]
    return order[scores[order] > 0]


def percentiles(lat_ms: list[float]) -> dict:
    a = np.asarray(lat_ms)
    return {"p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)), "mean_ms": float(a.mean())}


def bench_ours(docs, queries, kinds, repeat: int, check: int) -> dict:
    gc.collect()
    t0 = time.perf_counter()
    built = BM25Index.build(docs)
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        built.save(Path(tmp) / "index")
        t0 = time.perf_counter()
        idx = BM25Index.load(Path(tmp) / "index", mmap=True)
        load_s = time.perf_counter() - t0
        for q in queries:  # warm-up: page the memory-mapped arrays in
            idx.top_k(q, 10)
        runs = np.empty((repeat, len(queries)))
        for r in range(repeat):
            for i, q in enumerate(queries):
                t0 = time.perf_counter_ns()
                idx.top_k(q, 10)
                runs[r, i] = (time.perf_counter_ns() - t0) / 1e6
        lat = np.median(runs, axis=0)
        # exactness against brute force
        step = max(1, len(queries) // check)
        sample = queries[::step][:check]
        oracle = None
        if len(docs) <= 10_000:
            from rank_bm25 import BM25Okapi

            oracle = BM25Okapi(docs, k1=1.5, b=0.75, epsilon=0.25)
        matched = 0
        for q in sample:
            ref = oracle.get_scores(q) if oracle is not None else built.score_all(q)
            want = brute_top10(ref)
            ids, scores = idx.top_k(q, 10)
            matched += bool(np.array_equal(ids, want) and np.allclose(scores, ref[want], rtol=0, atol=1e-6))
        nbytes = idx.nbytes
        del idx
    slow = np.argsort(-lat)[:5]
    kind = np.array(kinds)
    by_kind = {
        k: [round(float(np.percentile(lat[kind == k], 50)), 3), round(float(np.percentile(lat[kind == k], 99)), 3)]
        for k in QUERY_MIX
        if np.any(kind == k)
    }
    return {
        "engine": "ours",
        "build_s": build_s,
        "load_s": load_s,
        "bytes_per_segment": nbytes / len(docs),
        **percentiles(lat.tolist()),
        "queries": len(queries),
        "exact": f"{matched}/{len(sample)}" + (" vs rank-bm25" if oracle is not None else " vs brute force"),
        "by_kind_p50_p99_ms": by_kind,
        "slowest": [[" ".join(queries[i]), round(float(lat[i]), 3)] for i in slow],
    }


def bench_rank_bm25(docs, queries) -> dict:
    from rank_bm25 import BM25Okapi

    gc.collect()
    t0 = time.perf_counter()
    bm = BM25Okapi(docs, k1=1.5, b=0.75, epsilon=0.25)
    build_s = time.perf_counter() - t0
    # its per-document dicts, the idf dict and the length list (the token strings are the corpus')
    held = sum(map(sys.getsizeof, bm.doc_freqs)) + sys.getsizeof(bm.doc_freqs) + sys.getsizeof(bm.idf)
    held += sys.getsizeof(bm.doc_len) + sum(
        map(sys.getsizeof, {id(v): v for d in bm.doc_freqs for v in d.values()}.values())
    )
    lat = []
    for q in queries:
        t0 = time.perf_counter_ns()
        scores = bm.get_scores(q)
        top = np.argpartition(-scores, 10)[:10] if len(scores) > 10 else np.arange(len(scores))
        top[np.lexsort((top, -scores[top]))]
        lat.append((time.perf_counter_ns() - t0) / 1e6)
    del bm
    gc.collect()
    return {
        "engine": "rank-bm25",
        "build_s": build_s,
        "load_s": None,
        "bytes_per_segment": held / len(docs),
        **percentiles(lat),
        "queries": len(queries),
        "exact": "definition",
        "note": "memory = sys.getsizeof of its dicts and lists",
    }


def bench_bm25s(docs, queries) -> dict:
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.ERROR)
    gc.collect()
    t0 = time.perf_counter()
    retriever = bm25s.BM25(k1=1.5, b=0.75, backend="numpy")
    retriever.index(docs, show_progress=False)
    build_s = time.perf_counter() - t0
    arrays = sum(a.nbytes for a in (retriever.scores["data"], retriever.scores["indices"], retriever.scores["indptr"]))
    vocab = sys.getsizeof(retriever.vocab_dict) + sum(sys.getsizeof(t) for t in retriever.vocab_dict)
    for q in queries[:5]:
        retriever.retrieve([q], k=10, show_progress=False, n_threads=0, backend_selection="numpy")
    lat = []
    for q in queries:
        t0 = time.perf_counter_ns()
        retriever.retrieve([q], k=10, show_progress=False, n_threads=0, backend_selection="numpy")
        lat.append((time.perf_counter_ns() - t0) / 1e6)
    del retriever
    gc.collect()
    return {
        "engine": "bm25s-numpy",
        "build_s": build_s,
        "load_s": None,
        "bytes_per_segment": (arrays + vocab) / len(docs),
        **percentiles(lat),
        "queries": len(queries),
        "exact": "n/a (lucene variant)",
        "note": "numpy backend; memory = score matrix + vocab dict",
    }


def subset(queries: list, count: int) -> list:
    step = max(1, len(queries) // count)
    return queries[::step][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per engine and size, per line")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the queries (ours)")
    parser.add_argument("--check", type=int, default=100, help="queries checked against brute force, per size")
    parser.add_argument("--no-peers", action="store_true", help="own suite: ours only")
    parser.add_argument(
        "--suite", default="own,peers", help="own (the project's query mix), peers (the shared peer benchmark)"
    )
    parser.add_argument("--peer-size", default="1m", choices=["10k", "100k", "1m"])
    parser.add_argument(
        "--query-seeds", default="default,1,2", help="peer query sets: make_corpus.py's default and --query-seed N"
    )
    parser.add_argument(
        "--rank-bm25-queries", type=int, default=5, help="peer queries per set rank-bm25 itself answers"
    )
    parser.add_argument("--tantivy", action="store_true", help="peer suite: tantivy too")
    args = parser.parse_args()
    suites = set(args.suite.split(","))
    sizes = [int(s) for s in args.sizes.split(",") if s] if "own" in suites else []

    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        docs = make_corpus(n)
        queries, kinds = make_queries(docs, args.queries)
        gen_s = time.perf_counter() - t0
        info = {
            "size": n,
            "tokens": int(sum(map(len, docs))),
            "vocab": len({t for d in docs for t in d}) if n <= 100_000 else None,
            "gen_s": round(gen_s, 1),
            "mix": {k: kinds.count(k) for k in QUERY_MIX},
        }
        if not args.json:
            print(
                f"\n== {n:,} segments ({info['tokens']:,} tokens; corpus and queries made in {gen_s:.1f} s); "
                f"queries: {len(queries)} = " + ", ".join(f"{v} {k}" for k, v in info["mix"].items()),
                flush=True,
            )
        results = [bench_ours(docs, queries, kinds, args.repeat, args.check)]
        if not args.no_peers:
            if n <= 100_000:
                results.append(bench_rank_bm25(docs, subset(queries, 300 if n <= 10_000 else 50)))
            results.append(bench_bm25s(docs, subset(queries, len(queries) if n <= 100_000 else 300)))
        for r in results:
            r["size"] = n
            rows.append(r)
            if args.json:
                print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}), flush=True)
            else:
                print(_fmt(r), flush=True)
        if not args.json:
            print(
                "   ours by query kind (p50/p99 ms): "
                + ", ".join(f"{k} {a}/{b}" for k, (a, b) in results[0]["by_kind_p50_p99_ms"].items())
            )
            print("   slowest of ours: " + "; ".join(f"{q!r} {ms:.2f} ms" for q, ms in results[0]["slowest"]))
        del docs
        gc.collect()

    if "peers" in suites:
        import peer_suite

        seeds = [None if x == "default" else int(x) for x in args.query_seeds.split(",") if x]
        peer_rows = peer_suite.run(args.peer_size, seeds, args.rank_bm25_queries, args.tantivy)
        if args.json:
            for r in peer_rows:
                print(
                    json.dumps(
                        {"suite": "peers", **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}}
                    ),
                    flush=True,
                )
        else:
            peer_suite.report(peer_rows)
    if not args.json and sizes:
        print(
            "\nQuery mix: spans of 1-4 tokens from the corpus (as they come: common and rare words), "
            "pure common-word queries (1-3 of the 30 most frequent words), spans of 1-3 tokens with an "
            "out-of-vocabulary token inserted."
        )
        print(
            "Peers: rank-bm25 on a subset (300 queries at 10k, 50 at 100k; not run at 1M); "
            "bm25s numpy backend (its numba backend is in the peer suite), lucene variant, all queries up to "
            "100k and 300 at 1M."
        )
        ours = [r for r in rows if r["engine"] == "ours"]
        if ours:
            top = ours[-1]
            print(f"Targets at {top['size']:,} segments:")
            for key, limit in TARGETS.items():
                v = top[key]
                print(f"   {key:18} {v:10.3f}  <= {limit:<6}  {'met' if v <= limit else 'NOT met'}")


def _fmt(r: dict) -> str:
    def num(v, f):
        return "-" if v is None else format(v, f)

    return (
        f"   {r['engine']:12} build {num(r['build_s'], '7.2f')} s  load {num(r['load_s'], '6.3f')} s  "
        f"{num(r['bytes_per_segment'], '6.0f')} B/seg  p50 {r['p50_ms']:8.3f} ms  p99 {r['p99_ms']:8.3f} ms  "
        f"mean {r['mean_ms']:8.3f} ms  ({r['queries']} queries)  exact: {r['exact']}"
    )


if __name__ == "__main__":
    main()
