"""Time from a signed ``/quote`` request to its card arriving at the ``response_url``: p50/p99, seeds and 1M segments.

    python bench/slack.py [--json] [--requests 300] [--sizes seeds,1M] [--workdir DIR] [--no-pin]

The app is stood up as tests/test_slack.py does it, for real: a SQLite Store, Library.open (the BM25
index on disk), LocalSlack (the local Slack Web API and response_url server), Settings, build_app,
EventLog, and bot.serve.serving (http_server on 127.0.0.1, a free port, in a thread).  The client sends
signed ``/quote`` slash commands with one httpx.Client, one at a time: each request's latency runs
from time.monotonic() just before the POST to LocalSlack's recorded arrival time (Call.time, also
time.monotonic()) of the POST to that request's response_url, i.e. signature check, ack, search,
card rendering and the respond() call.  The next request goes out only once the card has arrived.
20 warm-up requests are not counted.  Queries cycle, in a fixed shuffled order, through QUERIES:
realistic /quote texts, with speaker filters, phrases and exclusions.

Corpora:
* ``seeds``: bot/samples ingested with index.ingest (the bot's own library).
* ``1M`` (or any ``<n>``, ``<n>k``, ``<n>M``): n synthetic segments of 24-36 words (mean 30) over
  episodes of 1,000 segments, inserted straight into a fresh SQLite store with SQLAlchemy Core
  (chunks of 50k rows, one transaction), then ``library.version`` bumped so Library.open builds the
  index (its time is ``index_build_s``).  The text is a word-level Markov walk over the seed
  library's segment texts (fixed-seed numpy RNG): each next word continues the seed text with
  probability 0.7, or else is the word that follows a random other occurrence of the current word.
  So phrases of the seeds ("export controls", "mixture of experts") recur at seed frequency,
  while no two segments are copies (plain windows of a ~100k-word text, taken a million times,
  would repeat every passage ~300 times and measure only the de-duplication of hits).
  Speakers: 2-3 per episode from a pool of 40 names holding the seeds' (Dylan Patel, ...), 10% of
  segments without one; timestamps and YouTube ``&t=`` links on every segment.

After the request loop, the same queries go to Library.search alone (limit 50, as the handler
asks), with its parts timed: engine top_k, store.segments_by_id (the hit rows by id), and the rest
of the vetting (tokenizing, phrase checks, duplicate test); and the part of a request outside
search (HTTP, Bolt, card, respond) as end-to-end p50 minus search p50.

The process is pinned to one core (the first allowed) unless --no-pin: the app server, LocalSlack
and the client then share that core, as they share the GIL anyway.  BLAS/OpenMP threads are 1.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import contextlib
import datetime as dt
import gc
import json
import logging
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx
from sqlalchemy import insert, select, text, update

from bot.app import build_app
from bot.events import EventLog
from bot.localslack import LocalSlack, signed_headers, slash_command_body
from bot.serve import serving
from bot.settings import Settings
from index.ingest import ingest
from index.search import Library
from index.store import Store, episodes, library, segments

SAMPLES = ROOT / "bot" / "samples"
SECRET = "bench-signing-secret"
TARGET_P50_MS = 20.0
WARMUP = 20
PAGE_LIMIT = 50  # what handlers.answers asks of search
SEGMENTS_PER_EPISODE = 1000
CHUNK = 50_000
GENERATOR = "markov-0.7-v1"  # bump when the synthetic corpus changes (invalidates --workdir caches)

QUERIES = [
    "export controls",
    "TSMC Taiwan",
    "reinforcement learning",
    "H100 GPUs",
    "speaker:dylan chips",
    '"mixture of experts"',
    "data centers power",
    "scaling laws",
    "DeepSeek training cost",
    "open source models",
    "Nvidia margins",
    "China compute",
    "AGI timelines",
    "pretraining data",
    "inference cost",
    "speaker:lex consciousness",
    '"export controls" China',
    "Huawei Ascend",
    "model distillation",
    "reasoning models o1",
    "speaker:nathan RLHF",
    "gigawatt cluster",
    "memory bandwidth HBM",
    "chips -China",
    "coding agents",
    "Stargate OpenAI",
    '"data center"',
    "lithography EUV ASML",
    "AI tutor education",
    "speaker:\"Dylan Patel\" TSMC",
]

FIRST = ["Alex", "Maya", "Sam", "Priya", "Jordan", "Wei", "Elena", "Omar", "Grace", "Tomas", "Aisha",
         "Lucas", "Hannah", "Kenji", "Sofia", "Daniel", "Leila", "Marco", "Nina", "Ravi", "Chloe",
         "Felix", "Ines", "Jonah", "Kira", "Mateo", "Noor", "Oskar", "Rosa", "Theo", "Yara",
         "Zane", "Amara", "Ben", "Clara"]
LAST = ["Reyes", "Chen", "Okafor", "Novak", "Haddad", "Lindqvist", "Moreau", "Tanaka", "Silva", "Kowalski"]
PODCASTS = ["Latent Space", "Lex Fridman Podcast", "Dwarkesh Podcast", "SemiAnalysis Live", "Chip Talk",
            "The Compute Hour", "Gradient Dissent", "No Priors"]

log = logging.getLogger("bench.slack")


def stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stats(ms: list[float]) -> dict:
    a = np.asarray(ms, dtype=float)
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p99_ms": round(float(np.percentile(a, 99)), 3),
            "mean_ms": round(float(a.mean()), 3), "max_ms": round(float(a.max()), 3)}


def parse_size(s: str) -> int | str:
    s = s.strip()
    if s == "seeds":
        return s
    mult = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}.get(s[-1], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def size_name(size: int | str) -> str:
    if size == "seeds":
        return "seeds"
    n = int(size)
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# --- corpora -------------------------------------------------------------------------------------

def seed_store(folder: Path) -> Store:
    store = Store(f"sqlite:///{folder / 'seeds.db'}")
    if store.segment_count() == 0:
        results = ingest([str(SAMPLES)], store)
        bad = [r for r in results if not r.ok]
        if bad:
            raise SystemExit(f"ingesting the seeds failed: {bad}")
    return store


def seed_texts(store: Store) -> tuple[list[str], list[str]]:
    """(segment texts, speaker names) of the seed library."""
    with store.engine.connect() as conn:
        texts = [r[0] for r in conn.execute(select(segments.c.text).order_by(segments.c.episode_id, segments.c.seq))]
        names = sorted({r[0] for r in conn.execute(select(segments.c.speaker).where(segments.c.speaker.isnot(None)))})
    for ep in store.episodes():
        names.extend(n for n in ep.speakers if n not in names)
    return texts, names


def speaker_pool(seed_names: list[str], size: int = 40) -> list[str]:
    pool = list(dict.fromkeys(seed_names))
    i = 0
    while len(pool) < size:
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
        if name not in pool:
            pool.append(name)
        i += 1
    return pool


def synth_texts(words: np.ndarray, stream: np.ndarray, lens: np.ndarray, rng: np.random.Generator,
                occ_order: np.ndarray, occ_start: np.ndarray, occ_count: np.ndarray,
                stay: float = 0.7) -> list[str]:
    """One Markov walk of ``lens[i]`` words per segment over the seed word stream."""
    n, width = len(lens), int(lens.max())
    last = len(stream) - 1  # positions 0..last-1 have a next word
    pos = rng.integers(0, last, n)
    out = np.empty((n, width), dtype=np.int32)
    for j in range(width):
        out[:, j] = stream[pos]
        nxt = pos + 1
        jump = rng.random(n) >= stay
        w = stream[pos[jump]]
        pick = occ_start[w] + (rng.random(int(jump.sum())) * occ_count[w]).astype(np.int64)
        nxt[jump] = occ_order[pick] + 1
        pos = np.where(nxt >= last, rng.integers(0, last, n), nxt)
    return [" ".join(words[row[:k]]) for row, k in zip(out, lens.tolist())]


def build_big_store(folder: Path, n: int, seeds: Store, seed: int = 20240601) -> Store:
    """A store of ``n`` synthetic segments inserted directly (see the module doc); reused if already made."""
    db = folder / f"synth-{n}.db"
    marker = folder / f"synth-{n}.ok"
    if db.exists() and marker.exists() and marker.read_text() == GENERATOR:
        stderr(f"[{size_name(n)}] reusing {db}")
        return Store(f"sqlite:///{db}")
    for p in folder.glob(f"synth-{n}.db*"):
        p.unlink()
    shutil.rmtree(folder / f"index-{n}", ignore_errors=True)
    marker.unlink(missing_ok=True)

    t0 = time.perf_counter()
    texts, seed_names = seed_texts(seeds)
    tokens = " ".join(texts).split()
    words, stream = np.unique(np.array(tokens, dtype=object).astype(str), return_inverse=True)
    words = words.astype(object)
    stream = stream.astype(np.int64)
    occ_order = np.argsort(stream[:-1], kind="stable")  # positions that have a next word, grouped by word
    occ_count = np.bincount(stream[:-1], minlength=len(words))
    occ_start = np.concatenate(([0], np.cumsum(occ_count)[:-1]))
    pool = speaker_pool(seed_names)
    rng = np.random.default_rng(seed)

    n_ep = -(-n // SEGMENTS_PER_EPISODE)
    ep_rows, ep_speakers, ep_urls = [], [], []
    base_day = dt.date(2023, 1, 1)
    for e in range(n_ep):
        k = int(rng.integers(2, 4))
        names = [pool[int(i)] for i in rng.choice(len(pool), k, replace=False)]
        vid = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 11))
        url = f"https://www.youtube.com/watch?v={vid}"
        ep_speakers.append(names)
        ep_urls.append(url)
        ep_rows.append({
            "id": f"synth-{e:05d}", "title": f"Synthetic episode {e}: {' & '.join(names)}",
            "podcast": PODCASTS[e % len(PODCASTS)], "url": url,
            "published": base_day + dt.timedelta(days=int(rng.integers(0, 1000))),
            "duration_s": SEGMENTS_PER_EPISODE * 12.0, "chapters": "[]", "speakers": "[]", "hosts": "[]",
            "guests": "[]", "stats": "{}",
        })
    stderr(f"[{size_name(n)}] seed text: {len(stream):,} words, {len(words):,} distinct; "
           f"{n:,} segments over {n_ep:,} episodes")

    store = Store(f"sqlite:///{db}")
    done = 0
    with store.engine.begin() as conn:
        conn.execute(text("PRAGMA synchronous=OFF"))
        conn.execute(insert(episodes), ep_rows)
        while done < n:
            m = min(CHUNK, n - done)
            lens = rng.integers(24, 37, m)
            chunk_texts = synth_texts(words, stream, lens, rng, occ_order, occ_start, occ_count)
            no_speaker = rng.random(m) < 0.10
            pick = rng.integers(0, 3, m)
            rows = []
            for i in range(m):
                g = done + i
                e, seq = divmod(g, SEGMENTS_PER_EPISODE)
                names = ep_speakers[e]
                start = seq * 12.0
                rows.append({
                    "episode_id": f"synth-{e:05d}", "seq": seq, "start_s": start, "end_s": start + 12.0,
                    "speaker": None if no_speaker[i] else names[int(pick[i]) % len(names)],
                    "text": chunk_texts[i], "translation": None, "chapter": None,
                    "url": f"{ep_urls[e]}&t={int(start)}s",
                })
            conn.execute(insert(segments), rows)
            done += m
            stderr(f"[{size_name(n)}] inserted {done:,}/{n:,} segments ({time.perf_counter() - t0:.0f} s)")
        conn.execute(update(library).values(version=library.c.version + 1))
    marker.write_text(GENERATOR)
    stderr(f"[{size_name(n)}] corpus made in {time.perf_counter() - t0:.1f} s")
    return store


def open_library(store: Store, index_dir: Path, label: str) -> tuple[Library, float, bool]:
    """(library, seconds, whether the index was built rather than loaded)."""
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5 or stage != "reading segments":
            stderr(f"[{label}] index: {stage} {done:,}/{total:,}")
            last[0] = now

    need_build = True
    current = index_dir / "CURRENT"
    if current.exists():
        name = current.read_text().strip()
        need_build = not name.startswith(f"v{store.version()}-")
    t0 = time.perf_counter()
    lib = Library.open(store, index_dir, progress)
    took = time.perf_counter() - t0
    stderr(f"[{label}] index {'built' if need_build else 'loaded'}: {lib.size:,} segments in {took:.1f} s")
    return lib, took, need_build


# --- the app and the request loop -----------------------------------------------------------------

@contextlib.contextmanager
def running_app(store: Store, lib: Library, root: Path):
    arrived: dict[str, threading.Event] = {}

    def on_call(call) -> None:
        ev = arrived.get(call.path)
        if ev is not None:
            ev.set()

    slack = LocalSlack(on_call=on_call)
    settings = Settings(SLACK_BOT_TOKEN="xoxb-bench-token", SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=slack.base_url, QUOTEBOT_DATA_DIR=str(root))
    app = build_app(settings, lib, EventLog(store.engine))
    try:
        with serving(app, lib) as url:
            yield url, slack, arrived
    finally:
        slack.close()


def kind_of(body: dict) -> str:
    """card, no_match, apology or other: what an answer at a response_url is."""
    blocks = body.get("blocks") or []
    if any(isinstance(b, dict) and b.get("block_id") == "quote_source" for b in blocks):
        return "card"
    msg = json.dumps(body)
    if "No quote matched" in msg:
        return "no_match"
    if "Sorry, something went wrong" in msg:
        return "apology"
    return "other"


def request_loop(url: str, slack: LocalSlack, arrived: dict, queries: list[str], count: int,
                 label: str) -> dict:
    lat, ack, kinds, per_query = [], [], {}, {}
    timeouts = 0
    with httpx.Client(timeout=10) as client:
        for i in range(WARMUP + count):
            q = queries[i % len(queries)]
            reply = slack.response_url()
            path = urlsplit(reply).path
            ev = arrived[path] = threading.Event()
            body = slash_command_body(q, response_url=reply)
            headers = signed_headers(body, SECRET)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.monotonic()
            response = client.post(url + "/slack/events", content=body, headers=headers)
            acked = time.monotonic()
            if response.status_code != 200:
                raise SystemExit(f"/quote {q!r} answered HTTP {response.status_code}")
            if not ev.wait(10):
                timeouts += 1
                arrived.pop(path, None)
                continue
            arrived.pop(path, None)
            [call] = [c for c in slack.calls("response_url") if c.path == path][:1]
            if i < WARMUP:
                continue
            ms = (call.time - started) * 1000
            lat.append(ms)
            ack.append((acked - started) * 1000)
            k = kind_of(call.body)
            kinds[k] = kinds.get(k, 0) + 1
            per_query.setdefault(q, []).append(ms)
            if (i - WARMUP + 1) % 100 == 0:
                stderr(f"[{label}] {i - WARMUP + 1}/{count} requests, p50 so far {np.percentile(lat, 50):.1f} ms")
            if i % 500 == 499:  # keep calls() short
                slack.clear()
    slow = sorted(((float(np.median(v)), q) for q, v in per_query.items()), reverse=True)[:5]
    return {"lat": lat, "ack": ack, "kinds": kinds, "timeouts": timeouts,
            "slowest_queries": [[q, round(ms, 2)] for ms, q in slow]}


# --- search alone, with its parts -------------------------------------------------------------------

class _Timer:
    def __init__(self) -> None:
        self.total = 0.0
        self.calls = 0

    def wrap(self, fn):
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.total += time.perf_counter() - t0
                self.calls += 1
        return timed


def search_alone(lib: Library, queries: list[str], count: int) -> dict:
    snap = lib._snapshot
    engine = snap.engine
    top_k, by_id = _Timer(), _Timer()
    engine.top_k = top_k.wrap(engine.top_k)  # instance attributes: the bench's own timing, removed below
    lib.store.segments_by_id = by_id.wrap(lib.store.segments_by_id)
    rows = {"search": [], "top_k": [], "segments_by_id": [], "vet_rest": [], "rounds": [], "hits": []}
    try:
        for i in range(len(queries) + count):
            q = queries[i % len(queries)]
            top_k.total = by_id.total = 0.0
            top_k.calls = 0
            t0 = time.perf_counter()
            hits = lib.search(q, limit=PAGE_LIMIT)
            took = time.perf_counter() - t0
            if i < len(queries):
                continue  # warm-up pass
            rows["search"].append(took * 1000)
            rows["top_k"].append(top_k.total * 1000)
            rows["segments_by_id"].append(by_id.total * 1000)
            rows["vet_rest"].append((took - top_k.total - by_id.total) * 1000)
            rows["rounds"].append(top_k.calls)
            rows["hits"].append(len(hits))
    finally:
        del engine.top_k
        del lib.store.segments_by_id
    out = {k: stats(v) for k, v in rows.items() if k not in ("rounds", "hits")}
    per_query = {}
    for q, ms, rounds in zip([queries[i % len(queries)] for i in range(count)], rows["search"], rows["rounds"]):
        per_query.setdefault(q, ([], rounds))[0].append(ms)
    slow = sorted(((float(np.median(v)), q, r) for q, (v, r) in per_query.items()), reverse=True)[:5]
    out["top_k_rounds_max"] = int(max(rows["rounds"]))
    out["mean_hits"] = round(float(np.mean(rows["hits"])), 1)
    out["slowest"] = [[q, round(ms, 2), r] for ms, q, r in slow]
    return out


def profile_search(lib: Library, queries: list[str], top: int = 8) -> list[list]:
    """The functions where Library.search spends its time (cProfile, tottime), one pass over the queries."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for q in queries:
        lib.search(q, limit=PAGE_LIMIT)
    prof.disable()
    st = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        short = file.replace(str(ROOT) + "/", "")
        if "site-packages" in short:
            short = "…/" + short.split("site-packages/")[-1]
        rows.append(
            [f"{short}:{line}({fn})", nc, round(tt * 1000 / len(queries), 3), round(ct * 1000 / len(queries), 3)]
        )
    rows.sort(key=lambda r: -r[2])
    return rows[:top]


# --- one corpus --------------------------------------------------------------------------------------


def run_corpus(size, work: Path, seeds: Store, requests: int, queries: list[str], pinned: str) -> dict:
    label = size_name(size)
    gc.collect()
    if size == "seeds":
        store = seeds
        index_dir = work / "index-seeds"
    else:
        store = build_big_store(work, int(size), seeds)
        index_dir = work / f"index-{int(size)}"
    lib, took, built = open_library(store, index_dir, label)
    n = store.segment_count()
    stderr(f"[{label}] serving; {requests} requests after {WARMUP} warm-up")
    with running_app(store, lib, work) as (url, slack, arrived):
        loop = request_loop(url, slack, arrived, queries, requests, label)
    e2e = stats(loop["lat"])
    stderr(f"[{label}] Library.search alone")
    alone = search_alone(lib, queries, requests)
    result = {
        "corpus": label,
        "segments": n,
        "requests": len(loop["lat"]),
        **e2e,
        "index_build_s": round(took, 2) if built else None,
        "index_load_s": None if built else round(took, 3),
        "ack_p50_ms": round(float(np.percentile(loop["ack"], 50)), 3),
        "answers": loop["kinds"],
        "timeouts": loop["timeouts"],
        "search_alone": alone,
        "outside_search_p50_ms": round(e2e["p50_ms"] - alone["search"]["p50_ms"], 3),
        "slowest_queries_e2e": loop["slowest_queries"],
        "peak_rss_mb": round(peak_rss_mb()),
        "cpu": pinned,
    }
    if size != "seeds":
        result["target_p50_ms"] = TARGET_P50_MS
        result["meets_target"] = bool(e2e["p50_ms"] <= TARGET_P50_MS)
        if not result["meets_target"]:
            result["search_profile"] = [
                dict(zip(("function", "calls", "own_ms_per_query", "cum_ms_per_query"), r))
                for r in profile_search(lib, queries)
            ]
    else:
        result["meets_target"] = None
    if store is not seeds:
        store.close()
    del lib
    return result


def table(r: dict) -> str:
    a = r["search_alone"]
    lines = [
        (
            f"== {r['corpus']}: {r['segments']:,} segments; index "
            + (
                f"built in {r['index_build_s']:.1f} s"
                if r["index_build_s"] is not None
                else f"loaded in {r['index_load_s']:.2f} s"
            )
        ),
        (
            f"   /quote -> card at response_url, {r['requests']} requests:  p50 {r['p50_ms']:7.2f} ms"
            f"   p99 {r['p99_ms']:7.2f} ms   mean {r['mean_ms']:7.2f} ms   max {r['max_ms']:7.2f} ms"
            f"   (ack p50 {r['ack_p50_ms']:.2f} ms)"
        ),
        f"   answers: {r['answers']}  timeouts: {r['timeouts']}",
        (
            f"   Library.search alone (limit {PAGE_LIMIT}):  p50 {a['search']['p50_ms']:7.2f} ms"
            f"   p99 {a['search']['p99_ms']:7.2f} ms   mean {a['search']['mean_ms']:7.2f} ms"
            f"   (mean hits {a['mean_hits']}, up to {a['top_k_rounds_max']} top_k rounds)"
        ),
        (
            f"     of which p50: top_k {a['top_k']['p50_ms']:.2f} ms,"
            f" segments_by_id {a['segments_by_id']['p50_ms']:.2f} ms,"
            f" rest of vetting {a['vet_rest']['p50_ms']:.2f} ms;"
            f"  outside search (HTTP, Bolt, card, respond) ~{r['outside_search_p50_ms']:.2f} ms"
        ),
        (
            "   slowest queries (search alone, median ms, top_k rounds): "
            + "; ".join(f"{q!r} {ms:.1f} ({k})" for q, ms, k in a["slowest"])
        ),
    ]
    if r.get("target_p50_ms") is not None:
        lines.append(f"   target p50 <= {r['target_p50_ms']:.0f} ms: {'met' if r['meets_target'] else 'NOT met'}")
    if r.get("search_profile"):
        lines.append(
            "   where Library.search spends its time (cProfile, one pass over every query, so the"
            " no-hit query's extra rounds count in; own ms per query):"
        )
    for row in r.get("search_profile", []):
        lines.append(
            f"     {row['own_ms_per_query']:7.2f} ms/query own ({row['cum_ms_per_query']:7.2f} cum)  "
            f"{row['calls']:>8} calls  {row['function']}"
        )
    lines.append(f"   peak RSS {r['peak_rss_mb']} MB; {r['cpu']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per corpus, per line")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per corpus (after 20 warm-up)")
    parser.add_argument("--sizes", default="seeds,1M", help="comma-separated: seeds, 1M, 100k, ...")
    parser.add_argument("--workdir", help="keep the stores and indexes here and reuse them (default: a temp dir)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one core")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    pinned = "not pinned: app server, LocalSlack and client share all cores (and the GIL)"
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}: app server, LocalSlack and client share that one core"

    rng = np.random.default_rng(5)
    queries = [QUERIES[i] for i in rng.permutation(len(QUERIES))]

    tmp = None
    if args.workdir:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="bench-slack-")
        work = Path(tmp)
    try:
        stderr("[seeds] ingesting bot/samples")
        seeds = seed_store(work)
        for size in sizes:
            r = run_corpus(size, work, seeds, args.requests, queries, pinned)
            if args.json:
                print(json.dumps(r), flush=True)
            else:
                print(table(r), flush=True)
        if not args.json:
            print(
                f"\nLatency: time.monotonic() just before the POST to LocalSlack's arrival time of the response_url"
                f" POST; one request at a time, {WARMUP} warm-up requests not counted; {len(QUERIES)} queries cycled."
            )
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
