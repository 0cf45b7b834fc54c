#!/usr/bin/env python3
# Copied from ../shared/bench/peers/ (the independent BM25 peer benchmark) so that bench/search.py runs
# from the repository; kept as it is there, but for the seeds folder (the bundled bot/samples, the same files).
"""Side-by-side benchmark of in-process BM25 engines against rank_bm25.BM25Okapi.

  python bench_peers.py all [--sizes 10k,100k,1m] [--engines a,b,...]
  python bench_peers.py run ENGINE SIZE      # one engine+size, own process
  python bench_peers.py compare SIZE         # agreement vs rank-bm25 (exact)
  python bench_peers.py verify               # reference == rank-bm25 on 10k
  python bench_peers.py report               # markdown tables from results/

Each `run` is a fresh process: load the pre-tokenized corpus, build the index
(timed once with perf_counter), warm up on 20 queries, then time each of the 200
queries one at a time (a bot answers one /quote at a time); passes are repeated
(up to 5, within ~20 s) and each query's latency is the median over passes.
Memory: ru_maxrss (peak RSS of that process, corpus token lists included) and
the RSS growth caused by the build (index delta, measured after gc).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (B, EPSILON, K1, RESULTS_DIR, SIZES, load_corpus,  # noqa: E402
                    load_queries, peak_rss_mib, rss_mib)

TOPK = 10


def topk_desc(scores: np.ndarray, k: int = TOPK):
    part = np.argpartition(-scores, k - 1)[:k]
    order = np.argsort(-scores[part], kind="stable")
    ids = part[order]
    return ids, scores[ids]


# ------------------------------------------------------------------ engines
class RankBM25:
    name = "rank_bm25"

    def imports(self):
        import rank_bm25  # noqa: F401

    def build(self, corpus):
        from rank_bm25 import BM25Okapi

        self.m = BM25Okapi(corpus, k1=K1, b=B, epsilon=EPSILON)

    def search(self, q):
        return topk_desc(self.m.get_scores(q))

    def struct_bytes(self):
        m = self.m  # per-doc dicts + lists + idf dict (token strings shared with corpus)
        return (sum(sys.getsizeof(d) for d in m.doc_freqs) + sys.getsizeof(m.doc_freqs)
                + sys.getsizeof(m.doc_len) + sys.getsizeof(m.idf))


class BM25S:
    """bm25s with a given tf `method` / `idf_method`; optional exact-Okapi patch.

    patch_okapi: build with method='atire' (tf*(k1+1)/(tf+k1*norm), the same tf
    term as rank-bm25) and idf_method='lucene' (idf>0 for every term, so no
    column is zeroed), then rescale each CSC column of the public
    `retriever.scores` matrix by idf_okapi(df)/idf_lucene(df), with
    idf_okapi = log(N-df+.5)-log(df+.5) and negatives set to
    epsilon*mean(idf_okapi) -- i.e. rank-bm25's idf.  df = column nnz."""

    def __init__(self, name, method, idf_method=None, dtype="float32", patch_okapi=False, backend="numpy"):
        self.name, self.method, self.idf_method = name, method, idf_method
        self.dtype, self.patch_okapi, self.backend = dtype, patch_okapi, backend

    def imports(self):
        import bm25s

        if self.backend == "numba":  # JIT-compile once, as a bot would at start-up
            t0 = time.perf_counter()
            r = bm25s.BM25(k1=K1, b=B, method=self.method, idf_method=self.idf_method,
                           dtype=self.dtype, backend="numba")
            r.index([["warm", "up"], ["jit", "compile"], ["numba", "warm"]], show_progress=False)
            r.retrieve([["warm"]], k=2, show_progress=False, n_threads=0)
            self.jit_s = time.perf_counter() - t0

    def build(self, corpus):
        import bm25s

        r = bm25s.BM25(k1=K1, b=B, method=self.method, idf_method=self.idf_method, dtype=self.dtype,
                       backend=self.backend)
        r.index(corpus, show_progress=False)
        if self.patch_okapi:
            sc = r.scores
            n = sc["num_docs"]
            df = np.diff(sc["indptr"])
            idf_ok = np.array([math.log(n - f + 0.5) - math.log(f + 0.5) for f in df.tolist()])
            eps = EPSILON * idf_ok.mean()
            idf_ok[idf_ok < 0] = eps
            # the lucene idf exactly as bm25s stored it (in self.dtype)
            idf_luc = np.array([math.log(1 + (n - f + 0.5) / (f + 0.5)) for f in df.tolist()],
                               dtype=self.dtype).astype(np.float64)
            factor = np.repeat(idf_ok / idf_luc, df)
            sc["data"] = (sc["data"].astype(np.float64) * factor).astype(self.dtype)
        self.r = r

    def struct_bytes(self):
        s = self.r.scores
        return (s["data"].nbytes + s["indices"].nbytes + s["indptr"].nbytes
                + sys.getsizeof(self.r.vocab_dict) + sys.getsizeof(self.r.unique_token_ids_set))

    def search(self, q):
        res = self.r.retrieve([q], k=TOPK, show_progress=False, n_threads=0)
        return res.documents[0], res.scores[0]


class Tantivy:
    """count=False lets tantivy use block-max WAND pruning for the top-10;
    count=True (the binding's default) must visit every matching doc."""

    def __init__(self, name="tantivy", count=False):
        self.name, self.count = name, count

    def imports(self):
        import tantivy  # noqa: F401

    def build(self, corpus):
        import tantivy

        sb = tantivy.SchemaBuilder()
        # tokens are already lowercase [a-z0-9]+ joined by spaces, so tantivy's
        # default tokenizer reproduces exactly the same token list
        sb.add_text_field("body", stored=False, tokenizer_name="default", index_option="freq")
        sb.add_integer_field("id", stored=False, indexed=False, fast=True)
        schema = sb.build()
        index = tantivy.Index(schema)  # in RAM
        w = index.writer(heap_size=256_000_000, num_threads=0)
        Doc = tantivy.Document
        for i, d in enumerate(corpus):
            w.add_document(Doc(id=i, body=" ".join(d)))
        w.commit()
        w.wait_merging_threads()
        index.reload()
        self.searcher = index.searcher()
        self.schema, self.t = schema, tantivy
        self.segments = self.searcher.num_segments

    def search(self, q):
        t, schema = self.t, self.schema
        query = t.Query.boolean_query(
            [(t.Occur.Should, t.Query.term_query(schema, "body", tok, index_option="freq")) for tok in q])
        hits = self.searcher.search(query, TOPK, count=self.count).hits
        ids = self.searcher.fast_field_values("id", [a for _, a in hits])
        return np.array(ids, dtype=np.int64), np.array([s for s, _ in hits])


class Reference:
    name = "reference"

    def imports(self):
        import bm25_ref  # noqa: F401

    def build(self, corpus):
        from bm25_ref import BM25OkapiCSC

        self.m = BM25OkapiCSC(corpus, k1=K1, b=B, epsilon=EPSILON)

    def search(self, q):
        return self.m.top_k(q, TOPK)

    def struct_bytes(self):
        return self.m.nbytes() + sys.getsizeof(self.m.vocab)


class Quotebot:
    """The project's own engine (index/engine.py), imported from QUOTEBOT_SRC (default: the current folder, the project root)."""
    name = "quotebot"

    def imports(self):
        sys.path.insert(0, os.environ.get("QUOTEBOT_SRC", os.getcwd()))
        from index.engine import BM25Index  # noqa: F401

    def build(self, corpus):
        from index.engine import BM25Index

        self.m = BM25Index.build(corpus)

    def search(self, q):
        return self.m.top_k(q, TOPK)

    def struct_bytes(self):
        return self.m.nbytes


ENGINES = {
    "quotebot": Quotebot,
    "rank_bm25": RankBM25,
    "bm25s_robertson": lambda: BM25S("bm25s_robertson", "robertson"),
    "bm25s_atire_robidf": lambda: BM25S("bm25s_atire_robidf", "atire", "robertson"),
    "bm25s_okapi_f32": lambda: BM25S("bm25s_okapi_f32", "atire", "lucene", "float32", True),
    "bm25s_okapi_f64": lambda: BM25S("bm25s_okapi_f64", "atire", "lucene", "float64", True),
    "bm25s_numba_okapi_f32": lambda: BM25S("bm25s_numba_okapi_f32", "atire", "lucene", "float32", True,
                                           backend="numba"),
    "tantivy": Tantivy,
    "tantivy_count": lambda: Tantivy("tantivy_count", count=True),
    "reference": Reference,
}
DEFAULT_ENGINES = ["rank_bm25", "bm25s_robertson", "bm25s_atire_robidf", "bm25s_okapi_f32",
                   "bm25s_okapi_f64", "bm25s_numba_okapi_f32", "tantivy", "tantivy_count", "reference"]
# numba lives in its own venv (same pinned versions + numba) so that importing
# bm25s in the other runs does not also load numba/llvmlite
ENGINE_PY = {"bm25s_numba_okapi_f32": os.environ.get("PEERS_NUMBA_PY", os.path.expanduser("~/.cache/peers-venv-numba/bin/python"))}


# ------------------------------------------------------------------ one run
def cmd_run(engine: str, size: str):
    import importlib.metadata as md

    eng = ENGINES[engine]()
    eng.imports()  # library import cost is not index memory
    rss_base = rss_mib()
    t0 = time.perf_counter()
    corpus = load_corpus(size)
    load_s = time.perf_counter() - t0
    queries = load_queries()
    gc.collect()
    rss_corpus = rss_mib()
    t0 = time.perf_counter()
    eng.build(corpus)
    build_s = time.perf_counter() - t0
    gc.collect()
    rss_built = rss_mib()
    peak_after_build = peak_rss_mib()

    qtok = [q["tokens"] for q in queries]
    t0 = time.perf_counter()
    eng.search(qtok[0])  # first query after the build (cold caches / lazy init)
    first_ms = (time.perf_counter() - t0) * 1e3
    for q in qtok[1:20]:  # warm-up
        eng.search(q)
    passes = []
    t_start = time.perf_counter()
    while True:
        lat = np.empty(len(qtok))
        res = []
        for i, q in enumerate(qtok):
            t0 = time.perf_counter()
            ids, sc = eng.search(q)
            lat[i] = time.perf_counter() - t0
            res.append((ids, sc))
        passes.append(lat)
        if len(passes) >= 5 or time.perf_counter() - t_start > 20.0:
            break
    lat = np.median(np.vstack(passes), axis=0) * 1e3  # ms
    kinds = np.array([q["kind"] for q in queries])
    out = {
        "engine": engine, "size": size, "n_docs": len(corpus),
        "versions": {p: md.version(p) for p in ("rank-bm25", "bm25s", "tantivy", "numpy", "scipy")},
        "load_s": load_s, "build_s": build_s, "passes": len(passes), "first_query_ms": first_ms,
        "lat_ms": lat.tolist(),
        "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
        "mean_ms": float(lat.mean()), "max_ms": float(lat.max()),
        "p50_real_ms": float(np.percentile(lat[kinds == "real"], 50)),
        "p50_common_ms": float(np.percentile(lat[kinds == "common"], 50)),
        "rss_base_mib": rss_base, "rss_corpus_mib": rss_corpus, "rss_built_mib": rss_built,
        "index_delta_mib": rss_built - rss_corpus,
        "peak_after_build_mib": peak_after_build, "peak_rss_mib": peak_rss_mib(),
        "top_ids": [np.asarray(i).astype(int).tolist() for i, _ in res],
        "top_scores": [np.asarray(s, dtype=np.float64).tolist() for _, s in res],
    }
    if hasattr(eng, "struct_bytes"):
        out["struct_mib"] = eng.struct_bytes() / 2**20
    if hasattr(eng, "jit_s"):
        out["jit_warmup_s"] = eng.jit_s
    if hasattr(eng, "segments"):
        out["tantivy_segments"] = eng.segments
    os.makedirs(os.path.join(RESULTS_DIR, "raw"), exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "raw", f"{engine}_{size}.json"), "w") as f:
        json.dump(out, f)
    print(f"{engine:20s} {size:5s} build {build_s:8.2f}s  p50 {out['p50_ms']:9.3f} ms  "
          f"p99 {out['p99_ms']:9.3f} ms  peak {out['peak_rss_mib']:8.0f} MiB  "
          f"index {out['index_delta_mib']:8.0f} MiB  passes {len(passes)}", flush=True)


# ------------------------------------------------------------------ agreement
def cmd_compare(size: str):
    """Judge every engine's top-10 with exact BM25Okapi scores.

    The exact scorer is bm25_ref (bit-identical to rank-bm25: checked by
    `verify` on full score vectors at 10k, and here on rank-bm25's own top-10
    scores at every size).  A top-10 is 'tie-equivalent' when every returned
    doc has an exact score >= rank-bm25's 10th score (minus 1e-9 relative) --
    i.e. it is a valid top-10 under BM25Okapi, ties broken differently."""
    from bm25_ref import BM25OkapiCSC

    corpus = load_corpus(size)
    queries = load_queries()
    ref = BM25OkapiCSC(corpus, k1=K1, b=B, epsilon=EPSILON)
    del corpus
    raw = {}
    for e in ENGINES:
        p = os.path.join(RESULTS_DIR, "raw", f"{e}_{size}.json")
        if os.path.exists(p):
            with open(p) as f:
                raw[e] = json.load(f)
    if "rank_bm25" not in raw:
        raise SystemExit("rank_bm25 result missing")
    base = raw["rank_bm25"]
    n = len(queries)
    acc = {e: {"strict": 0, "tie": 0, "tie6": 0, "overlap": [], "maxabs": 0.0, "maxabs_scaled": 0.0, "maxrel": 0.0}
           for e in raw}
    ref_vs_rank = 0.0
    for i, q in enumerate(queries):
        s = ref.get_scores(q["tokens"])  # exact BM25Okapi scores of all docs
        R = base["top_ids"][i]
        # reference vs rank-bm25's own reported top-10 scores
        ref_vs_rank = max(ref_vs_rank, float(np.max(np.abs(s[np.array(R)] - np.array(base["top_scores"][i])))))
        t10 = s[R[-1]]
        tol = 1e-9 * max(1.0, abs(t10))
        for e, r in raw.items():
            a = acc[e]
            E = [int(x) for x in r["top_ids"][i]]
            es = np.array(r["top_scores"][i], dtype=np.float64)
            a["strict"] += set(E) == set(R)
            exact_E = s[np.array(E, dtype=np.int64)] if E else np.empty(0)
            ok = len(set(E)) == len(E) and bool(np.all(exact_E >= t10 - tol)) and (len(E) == TOPK or t10 == 0)
            a["tie"] += ok
            tol6 = 1e-6 * max(1.0, abs(t10))
            a["tie6"] += len(set(E)) == len(E) and bool(np.all(exact_E >= t10 - tol6)) and (len(E) == TOPK or t10 == 0)
            a["overlap"].append(len(set(E) & set(R)) / TOPK)
            if len(E):
                a["maxabs"] = max(a["maxabs"], float(np.max(np.abs(es - exact_E))))
                a["maxabs_scaled"] = max(a["maxabs_scaled"], float(np.max(np.abs(es * (K1 + 1) - exact_E))))
                nz = exact_E > 0
                if nz.any():
                    a["maxrel"] = max(a["maxrel"], float(np.max(np.abs(es[nz] - exact_E[nz]) / exact_E[nz])))
    inv = {v: k for k, v in ref.vocab.items()}
    dfs = np.diff(ref.indptr)
    floored = {inv[int(t)]: round(float(dfs[t]) / ref.n_docs, 3) for t in np.flatnonzero(dfs > ref.n_docs / 2)}
    n_q_floored = sum(any(t in floored for t in q["tokens"]) for q in queries)
    out = {"size": size, "ref_vs_rank_bm25_top10_maxabs": ref_vs_rank,
           "epsilon_floored_terms_df": floored, "queries_with_floored_term": n_q_floored,
           "average_idf": ref.average_idf, "engines": {}}
    for e, a in acc.items():
        out["engines"][e] = {
            "identical_top10_pct": 100.0 * a["strict"] / n,
            "tie_equivalent_top10_pct": 100.0 * a["tie"] / n,
            "tie_equivalent_top10_pct_tol1e-6": 100.0 * a["tie6"] / n,
            "mean_overlap_at10": float(np.mean(a["overlap"])),
            "max_abs_score_diff": a["maxabs"],
            "max_abs_score_diff_x(k1+1)": a["maxabs_scaled"],
            "max_rel_score_diff": a["maxrel"],
        }
    with open(os.path.join(RESULTS_DIR, f"compare_{size}.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"compare {size}: reference vs rank-bm25 top-10 scores max|diff| = {ref_vs_rank:.3g}; "
          f"epsilon-floored terms {floored} ({n_q_floored} queries use one)")
    for e, m in out["engines"].items():
        print(f"  {e:20s} identical {m['identical_top10_pct']:5.1f}%  tie-equiv {m['tie_equivalent_top10_pct']:5.1f}% ({m['tie_equivalent_top10_pct_tol1e-6']:5.1f}% @1e-6)  "
              f"overlap {m['mean_overlap_at10']:.3f}  max|d| {m['max_abs_score_diff']:.3g}  "
              f"max|d|x2.5 {m['max_abs_score_diff_x(k1+1)']:.3g}  maxrel {m['max_rel_score_diff']:.3g}")


def cmd_verify():
    """Reference vs rank_bm25.get_scores on the 10k corpus, full score vectors."""
    from bm25_ref import BM25OkapiCSC
    from rank_bm25 import BM25Okapi

    corpus = load_corpus("10k")
    queries = load_queries()
    ref = BM25OkapiCSC(corpus, k1=K1, b=B, epsilon=EPSILON)
    rb = BM25Okapi(corpus, k1=K1, b=B, epsilon=EPSILON)
    maxabs, bitexact, topk_ok = 0.0, 0, 0
    for q in queries:
        a = rb.get_scores(q["tokens"])
        b = ref.get_scores(q["tokens"])
        maxabs = max(maxabs, float(np.max(np.abs(a - b))))
        bitexact += bool(np.array_equal(a, b))
        ids, sc = ref.top_k(q["tokens"], TOPK)
        topk_ok += bool(np.array_equal(sc, np.sort(a)[::-1][:TOPK]))
    out = {"corpus": "10k", "queries": len(queries), "max_abs_diff": maxabs,
           "bit_identical_vectors": bitexact, "top10_scores_identical": topk_ok,
           "idf_avg_rank_bm25": rb.average_idf, "idf_avg_reference": ref.average_idf}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "verify_10k.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))
    assert maxabs <= 1e-9, "reference differs from rank-bm25"


# ------------------------------------------------------------------ driver
def cmd_all(sizes, engines, timeout):
    py = sys.executable
    me = os.path.abspath(__file__)
    subprocess.run([py, me, "verify"], check=True)
    for size in sizes:
        for e in engines:
            t0 = time.time()
            epy = ENGINE_PY.get(e, py)
            if not os.path.exists(epy):
                print(f"{e} {size}: SKIPPED (no interpreter {epy})", flush=True)
                continue
            try:
                subprocess.run([epy, me, "run", e, size], check=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"{e} {size}: SKIPPED (over {timeout}s)", flush=True)
                with open(os.path.join(RESULTS_DIR, "raw", f"{e}_{size}.skipped"), "w") as f:
                    f.write(f"over {timeout}s\n")
            except subprocess.CalledProcessError as ex:
                print(f"{e} {size}: FAILED rc={ex.returncode}", flush=True)
            print(f"   ({time.time()-t0:.0f}s wall incl. corpus load)", flush=True)
        subprocess.run([py, me, "compare", size], check=True)
    cmd_report()


def cmd_report():
    nan = float("nan")
    speed = [
        "| size | engine | build s | build vs rank | p50 ms | rank/engine p50 | p99 ms | rank/engine p99 "
        "| p50 real / common ms | 1st query ms | peak RSS MiB | RSS before build MiB | index ΔRSS MiB "
        "| index struct MiB | ΔRSS B/seg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    agree = [
        "| size | engine | identical top-10 set | tie-equivalent top-10 | mean overlap@10 | max abs score diff "
        "| max rel score diff |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for size in SIZES:
        base_p = os.path.join(RESULTS_DIR, "raw", f"rank_bm25_{size}.json")
        if not os.path.exists(base_p):
            continue
        base = json.load(open(base_p))
        cmp_p = os.path.join(RESULTS_DIR, f"compare_{size}.json")
        cmp = json.load(open(cmp_p))["engines"] if os.path.exists(cmp_p) else {}
        for e in ENGINES:
            p = os.path.join(RESULTS_DIR, "raw", f"{e}_{size}.json")
            if not os.path.exists(p):
                if os.path.exists(p.replace(".json", ".skipped")):
                    speed.append(f"| {size} | {e} | skipped (> time limit) |" + " |" * 13)
                continue
            r = json.load(open(p))
            struct = r.get("struct_mib")
            build = f"{r['build_s']:.2f}"
            if "jit_warmup_s" in r:
                build += f" (+{r['jit_warmup_s']:.1f} JIT)"
            speed.append(
                f"| {size} | {e} | {build} | {r['build_s']/base['build_s']:.2f}x | {r['p50_ms']:.3f} | "
                f"{base['p50_ms']/r['p50_ms']:.0f}x | {r['p99_ms']:.3f} | {base['p99_ms']/r['p99_ms']:.0f}x | "
                f"{r['p50_real_ms']:.3f} / {r['p50_common_ms']:.3f} | {r.get('first_query_ms', nan):.2f} | "
                f"{r['peak_rss_mib']:.0f} | {r['rss_corpus_mib']:.0f} | {r['index_delta_mib']:.0f} | "
                f"{'%.0f' % struct if struct is not None else 'n/a'} | "
                f"{r['index_delta_mib']*2**20/r['n_docs']:.0f} |")
            c = cmp.get(e)
            if c:
                d = c["max_abs_score_diff"]
                if e == "bm25s_robertson":
                    dstr = f"{d:.3g} (after x(k1+1): {c['max_abs_score_diff_x(k1+1)']:.3g})"
                else:
                    dstr = f"{d:.3g}"
                agree.append(
                    f"| {size} | {e} | {c['identical_top10_pct']:.1f}% | {c['tie_equivalent_top10_pct']:.1f}% | "
                    f"{c['mean_overlap_at10']:.3f} | {dstr} | {c['max_rel_score_diff']:.3g} |")
    text = "### Speed and memory\n\n" + "\n".join(speed) + "\n\n### Agreement with rank_bm25\n\n" + "\n".join(agree)
    with open(os.path.join(RESULTS_DIR, "table.md"), "w") as f:
        f.write(text + "\n")
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("all")
    a.add_argument("--sizes", default="10k,100k,1m")
    a.add_argument("--engines", default=",".join(DEFAULT_ENGINES))
    a.add_argument("--timeout", type=int, default=900, help="per engine+size process, seconds")
    r = sub.add_parser("run")
    r.add_argument("engine", choices=list(ENGINES))
    r.add_argument("size", choices=list(SIZES))
    c = sub.add_parser("compare")
    c.add_argument("size", choices=list(SIZES))
    sub.add_parser("verify")
    sub.add_parser("report")
    args = ap.parse_args()
    if args.cmd == "all":
        cmd_all(args.sizes.split(","), args.engines.split(","), args.timeout)
    elif args.cmd == "run":
        cmd_run(args.engine, args.size)
    elif args.cmd == "compare":
        cmd_compare(args.size)
    elif args.cmd == "verify":
        cmd_verify()
    else:
        cmd_report()


if __name__ == "__main__":
    main()
