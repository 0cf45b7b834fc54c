"""Load test: replicas of ``quotebot serve`` under concurrent signed ``/quote`` requests, with an
ingest mid-run, on SQLite and on PostgreSQL, at several client counts, with the production server
(gunicorn) and the old standard-library one (wsgiref) measured side by side in the same run.

    python bench/load.py [--json] [--clients 16,50] [--seconds 20] [--servers gunicorn,wsgiref]
                         [--databases sqlite,postgresql] [--replicas 2] [--workers 1]
                         [--database-url URL] [--keep]

The matrix: for each database (the samples ingested once), for each client count, one run per
server (``QUOTEBOT_HTTP_SERVER``), each run as described below with its own mid-run episode and
new word. At the end a table puts every run's throughput, ack and card p50/p99, errors, reload
times and memory side by side. Memory: RSS and PSS (proportional: shared pages split among the
processes sharing them) of every process of each replica (gunicorn: the master, then its workers),
from /proc/PID/smaps_rollup, read at the end of the load.

What runs, all on 127.0.0.1:
* PostgreSQL: ``--database-url`` as given; else QUOTEBOT_TEST_DATABASE_URL, else the URL that
  ``bash .ci/postgres.sh`` prints.  A URL taken from those two (the tests' database) is not used
  as it is: the bench creates and uses a sibling database ``quotebot_load`` on the same server
  (falling back to the tests' database only if it cannot create one), because it empties the
  schema (``DROP SCHEMA public CASCADE; CREATE SCHEMA public``) and a pytest run on the same
  database at the same time would break both.
* The seeds: ``python -m bot ingest --samples`` in a subprocess (QUOTEBOT_DATABASE_URL=the URL,
  QUOTEBOT_DATA_DIR=<tmp>/ingest, no inherited SLACK_*/QUOTEBOT_* variables).
* LocalSlack (bot.localslack) in this process: the Web API and the response_urls the app answers.
* SQLite: a database file in the work folder, shared by the replicas and the ingests.
* ``--replicas`` replicas (2): ``python -m bot serve --host 127.0.0.1 --port P`` (free ports), each with its own
  QUOTEBOT_DATA_DIR (its own index) and the shared database, QUOTEBOT_RELOAD_S=1 (how often a
  replica checks the library version and reloads its index) and QUOTEBOT_DIGEST_TICK_S=30.  The
  bench waits for ``GET /healthz`` -> 200 on both.

The load: ``--clients`` threads, each with its own httpx.Client, for ``--seconds``.  Each client
is a closed loop, like a user: it POSTs a signed ``/quote`` slash command to ``/slack/events``,
then waits for the answer at that request's response_url (at most 10 s) before sending the next.
Clients alternate between the two replicas (client-side round-robin plays the load balancer;
clients start on different replicas).  Queries cycle, from a per-client offset, through QUERIES
(realistic /quote texts over the seeds, with speaker filters, phrases, exclusions); once the
mid-run ingest has committed, every NEW_WORD_EVERY-th request asks for its unique word instead.

Per request: the HTTP status and the ack latency (time.monotonic() just before the POST to the
POST's return), and the end-to-end latency (to LocalSlack's recorded arrival, Call.time, of the
POST to that request's response_url; matched by its path).  The answer's kind: card, no_match,
apology or other.

Mid-run (at half time): a small WebVTT transcript (with a ``.meta.json`` sidecar giving its
title) holding the unique word NEW_WORD is ingested by the same subprocess command.  While it
runs and after, the bench polls the library version in PostgreSQL and both replicas' /healthz
(every 50 ms plus the time a round of polls takes: 0.1-0.25 s under load, which bounds the
resolution).  A replica's reload delay (``reload_s``, one entry per replica) runs from the first
moment the new version is seen committed in the database to the first /healthz showing it.
(The ingest command goes on to build its own index after its commit, so its exit comes later;
``ingest`` in the report gives both moments.)  A replica that has not reloaded 60 s after the
commit gets ``null`` there and the error "no reload within 60 s".  After the load, each replica
that reloaded is asked for the new word once more and must answer with a card.

Errors (the expected count is 0):
* ``http <status>``: the POST answered other than 200;  ``transport: <Exception>``: it failed;
* ``no answer within 10 s``: nothing reached the response_url within 10 s of the run's end;
* ``apology``: the answer was "Sorry, something went wrong ...";  ``other answer``: neither a
  card, nor "No quote matched", nor an apology;
* ``new word missed after reload``: a request for the new word sent to a replica after its
  /healthz showed the new version, answered "No quote matched";
* ``no reload within 60 s`` (per replica); ``new word check: <kind>`` (the check after the load);
* ``replica exited``: a replica process ended before the bench stopped it.

Throughput is the requests answered (200 and an answer at the response_url) per second of the
load window.  Percentiles are over the requests of the whole window, including those during the
ingest and the reloads; ``slowest`` lists the five slowest with their time into the run.  The
exit status is 1 when there were errors.

Peers (the project's rule: figures beside rank-bm25 and bm25s measured in the same run): after
the replicas are stopped, the cost of one in-process search over the same library (the seeds and
the new transcript, read with Store.iter_segments and tokenized like our index: text plus
translation, index.tokens.tokenize) for the same queries (their words and phrases' words; the
peers have no filters): rank_bm25.BM25Okapi(k1=1.5, b=0.75, epsilon=0.25) get_scores + top 10,
bm25s (numpy backend, if installed: the optional ``bench`` extra) retrieve k=10, and our own
Library.search (limit 20, as the handler asks, filters included) on an index built here.  That
sets one search's cost beside a whole request under load.  BLAS/OpenMP threads are 1.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import gc
import json
import logging
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.localslack import LocalSlack, signed_headers, slash_command_body

sys.path.insert(0, str(ROOT / "bench"))
from slack import kind_of as slack_kind_of

SECRET = "load-test-signing-secret"
BOT_TOKEN = "xoxb-load-test"
LOAD_DATABASE = "quotebot_load"
ANSWER_WAIT_S = 10.0  # per request, and for stragglers after the run
RELOAD_WAIT_S = 60.0
START_WAIT_S = 90.0  # a replica builds its index before it serves
POLL_S = 0.05
MID_INGEST_CAP_S = 120.0  # the mid-run ingest of one small file takes a few seconds
NEW_WORD = "zanzibarquokka"
NEW_WORD_EVERY = 8
NEW_TITLE = "The Load Test Special"
PAGE_LIMIT = 20  # what handlers.answers asks of search

QUERIES = [
    "export controls",
    "tsmc taiwan",
    "deepseek",
    "nvidia h100",
    "reinforcement learning",
    "karpathy agents",
    'chips speaker:"Dylan Patel"',
    "speaker:dylan TSMC",
    "speaker:nathan RLHF",
    "speaker:lex consciousness",
    '"mixture of experts"',
    '"export controls" China',
    '"data center"',
    "scaling laws",
    "DeepSeek training cost",
    "open source models",
    "Nvidia margins",
    "China compute",
    "AGI timelines",
    "pre-training data",
    "inference cost",
    "Huawei Ascend",
    "model distillation",
    "reasoning models o1",
    "gigawatt cluster",
    "memory bandwidth HBM",
    "chips -China",
    "Stargate OpenAI",
    "ghosts animals",
    "coding agents podcast:\"latent space\"",
]

VTT_TEMPLATE = """WEBVTT

00:00:01.000 --> 00:00:09.000
<v Ada Lovelace>Welcome to the load test special. Today we talk about the {word}, a small marsupial that nobody has ever mentioned on a podcast before.

00:00:09.500 --> 00:00:18.000
<v Grace Hopper>I first heard of the {word} from a sailor who swore it could count the waves and predict the tide better than any almanac.

00:00:18.500 --> 00:00:27.000
<v Ada Lovelace>That sounds like a story told after a long night in the harbour, but I would still like to see one with my own eyes.
"""  # noqa: E501 - a transcript's cue lines are as long as they are
VTT = VTT_TEMPLATE.format(word=NEW_WORD)
SIDECAR = {"title": NEW_TITLE, "podcast": "Quotebot Load Test", "published": "2025-06-01"}
RUN_TAGS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
            "kilo", "lima"]


def configure_run(n: int) -> None:
    """Each run of a matrix ingests its own episode with its own new word (one library, many runs)."""
    global NEW_WORD, NEW_TITLE, VTT, SIDECAR
    tag = RUN_TAGS[n % len(RUN_TAGS)]
    NEW_WORD = f"zanzibarquokka{tag}"
    NEW_TITLE = f"The Load Test Special ({tag})"
    VTT = VTT_TEMPLATE.format(word=NEW_WORD)
    SIDECAR = {"title": NEW_TITLE, "podcast": "Quotebot Load Test", "published": "2025-06-01"}

log = logging.getLogger("bench.load")


def stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 2) if values else None


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the database ---------------------------------------------------------------------------------

def database_url(given: str | None) -> str:
    if given:
        return given
    url = os.environ.get("QUOTEBOT_TEST_DATABASE_URL")
    if not url:
        stderr("[db] no --database-url or QUOTEBOT_TEST_DATABASE_URL: running .ci/postgres.sh")
        run = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh")], check=False, capture_output=True,
                             text=True, timeout=600)
        if run.returncode != 0 or not run.stdout.strip():
            raise SystemExit(f".ci/postgres.sh failed ({run.returncode}):\n{run.stderr[-2000:]}")
        url = run.stdout.strip().splitlines()[-1]
    return own_database(url)


def own_database(url: str) -> str:
    """A sibling database for the load test on the tests' server, so a pytest run is not disturbed."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.database == LOAD_DATABASE:
        return url
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": LOAD_DATABASE}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{LOAD_DATABASE}"'))
    except Exception as exc:  # noqa: BLE001 - fall back to the given database
        stderr(f"[db] cannot create database {LOAD_DATABASE} ({exc.__class__.__name__}); using the given one")
        return url
    finally:
        engine.dispose()
    return parsed.set(database=LOAD_DATABASE).render_as_string(hide_password=False)


def empty_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def store_version(engine) -> int | None:
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT version FROM library")).scalar_one())
    except Exception:  # noqa: BLE001 - a poll; the caller tries again
        return None


def start_ingest(url: str, data_dir: Path, *args: str) -> subprocess.Popen:
    """``python -m bot ingest ARGS`` against ``url``, without the caller's Slack or Quotebot settings."""
    env = clean_env(QUOTEBOT_DATABASE_URL=url, QUOTEBOT_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", *args], env=env, cwd=str(data_dir.parent),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, what: str, timeout: float = 300) -> str:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise SystemExit(f"{what} took over {timeout:.0f} s; stderr:\n{err[-2000:]}") from None
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed ({proc.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    return out


# --- replicas ---------------------------------------------------------------------------------------

class Replica:
    def __init__(self, n: int, url: str, slack: LocalSlack, work: Path, server: str = "gunicorn",
                 workers: int = 1):
        self.n = n
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data = work / f"replica-{n}"
        data.mkdir()
        self.log_path = work / f"replica-{n}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open while the process runs
        env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                        QUOTEBOT_DATABASE_URL=url, QUOTEBOT_DATA_DIR=str(data), QUOTEBOT_RELOAD_S="1",
                        QUOTEBOT_DIGEST_TICK_S="30", QUOTEBOT_HTTP_SERVER=server, QUOTEBOT_WORKERS=str(workers))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, cwd=str(data), stdout=self._log, stderr=subprocess.STDOUT)
        self.stopped = False

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def health(self, client: httpx.Client) -> dict | None:
        try:
            r = client.get(self.base + "/healthz", timeout=2)
            return r.json() if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def memory(self) -> list[dict]:
        """RSS and PSS (shared pages counted once, split among their users) of the server's
        processes, master first, in MiB (Linux's /proc/PID/smaps_rollup)."""
        out = []
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            fields = {k: int(v) for k, v in re.findall(r"^(Rss|Pss):\s+(\d+) kB", text, re.MULTILINE)}
            out.append({"pid": pid, "rss_mib": round(fields.get("Rss", 0) / 1024, 1),
                        "pss_mib": round(fields.get("Pss", 0) / 1024, 1)})
        return out

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                stderr(f"[replica {self.n}] did not stop within 10 s of SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_healthy(replicas: list[Replica]) -> list[dict]:
    deadline = time.monotonic() + START_WAIT_S
    found: dict[int, dict] = {}
    with httpx.Client() as client:
        while len(found) < len(replicas):
            for r in replicas:
                if r.n in found:
                    continue
                if not r.alive():
                    raise SystemExit(f"replica {r.n} exited ({r.proc.returncode}) while starting:\n{r.tail()}")
                h = r.health(client)
                if h is not None:
                    found[r.n] = h
            if time.monotonic() > deadline:
                missing = [r for r in replicas if r.n not in found]
                raise SystemExit("replica(s) not healthy within "
                                 f"{START_WAIT_S:.0f} s:\n" + "\n".join(f"[{r.n}]\n{r.tail()}" for r in missing))
            time.sleep(0.1)
    return [found[r.n] for r in replicas]


# --- requests ---------------------------------------------------------------------------------------

@dataclass
class Rec:
    client: int
    replica: int
    query: str
    path: str
    started: float
    status: int | None = None
    acked: float | None = None
    exc: str | None = None
    arrived: float | None = None
    body: dict | None = None
    event: threading.Event = field(default_factory=threading.Event)


def kind_of(body: dict | None) -> str:
    return "none" if body is None else slack_kind_of(body)


class Load:
    """The clients, the requests they sent, and LocalSlack's arrivals matched to them."""

    def __init__(self, slack: LocalSlack, replicas: list[Replica]):
        self.slack = slack
        self.replicas = replicas
        self.pending: dict[str, Rec] = {}
        self.records: list[Rec] = []
        self.lock = threading.Lock()
        self.new_word_live = threading.Event()
        self.extra_answers = 0  # a second POST to one response_url
        slack.on_call = self.on_call

    def on_call(self, call) -> None:
        if call.method != "response_url":
            return
        with self.lock:
            rec = self.pending.get(call.path)
        if rec is None:
            return
        if rec.arrived is not None:
            self.extra_answers += 1
            return
        rec.arrived, rec.body = call.time, call.body
        rec.event.set()

    def send(self, client: httpx.Client, cid: int, replica: Replica, query: str, wait: float) -> Rec:
        reply = self.slack.response_url(f"c{cid}")
        rec = Rec(cid, replica.n, query, urlsplit(reply).path, 0.0)
        with self.lock:
            self.pending[rec.path] = rec
            self.records.append(rec)
        body = slash_command_body(query, response_url=reply, user_id=f"U{cid:03d}")
        headers = signed_headers(body, SECRET)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        rec.started = time.monotonic()
        try:
            response = client.post(replica.base + "/slack/events", content=body, headers=headers)
            rec.acked = time.monotonic()
            rec.status = response.status_code
        except httpx.HTTPError as exc:
            rec.acked = time.monotonic()
            rec.exc = exc.__class__.__name__
            return rec
        if rec.status == 200 and wait > 0:
            rec.event.wait(wait)
        return rec

    def client_loop(self, cid: int, deadline: float) -> None:
        i = 0
        new_i = 0
        with httpx.Client(timeout=ANSWER_WAIT_S) as client:
            while time.monotonic() < deadline:
                replica = self.replicas[(cid + i) % len(self.replicas)]
                if self.new_word_live.is_set() and new_i % NEW_WORD_EVERY == NEW_WORD_EVERY - 1:
                    query = NEW_WORD
                else:
                    query = QUERIES[(cid * 7 + i) % len(QUERIES)]
                if self.new_word_live.is_set():
                    new_i += 1
                self.send(client, cid, replica, query, ANSWER_WAIT_S)
                i += 1


# --- the mid-run ingest and the reloads -------------------------------------------------------------

@dataclass
class MidRun:
    started_at: float | None = None
    committed_at: float | None = None
    exited_at: float | None = None
    version_before: int | None = None
    version_after: int | None = None
    reloaded_at: dict[int, float] = field(default_factory=dict)
    error: str | None = None
    ingest_out: str = ""


def mid_run(url: str, work: Path, load: Load, at: float, version_before: int, out: MidRun,
            stop: threading.Event) -> None:
    """At ``at``: ingest the new transcript, then watch the database and both /healthz (bounded)."""
    out.version_before = version_before
    while time.monotonic() < at:
        if stop.wait(min(0.1, max(0.0, at - time.monotonic()))):
            return
    folder = work / "mid"
    folder.mkdir()
    vtt = folder / f"load-test-special-{NEW_WORD}.vtt"
    vtt.write_text(VTT, encoding="utf-8")
    (folder / f"load-test-special-{NEW_WORD}.meta.json").write_text(json.dumps(SIDECAR), encoding="utf-8")
    engine = create_engine(url, pool_size=1, max_overflow=0)
    out.started_at = time.monotonic()
    stderr(f"[ingest] mid-run: ingesting {NEW_TITLE!r} (the word {NEW_WORD!r})")
    proc = start_ingest(url, work / "ingest", str(vtt))
    seen: dict[int, tuple[int, float]] = {}  # replica -> (the newest version it showed, when first)
    try:
        with httpx.Client() as client:
            while True:
                now = time.monotonic()
                if out.committed_at is None:
                    v = store_version(engine)
                    if v is not None and v > version_before:
                        out.committed_at = now
                        load.new_word_live.set()
                if out.exited_at is None and proc.poll() is not None:
                    out.exited_at = now
                    so, se = proc.communicate()
                    out.ingest_out = so.strip()
                    if proc.returncode != 0:
                        out.error = f"mid-run ingest failed ({proc.returncode}): {se.strip()[-1000:]}"
                        return
                    out.version_after = store_version(engine)
                    if out.version_after is None or out.version_after <= version_before:
                        out.error = f"the mid-run ingest did not change the library (version {out.version_after})"
                        return
                    if out.committed_at is None:  # committed between the two reads above
                        out.committed_at = now
                        load.new_word_live.set()
                if out.exited_at is None and now - out.started_at > MID_INGEST_CAP_S:
                    out.error = f"mid-run ingest took over {MID_INGEST_CAP_S:.0f} s"
                    return
                if out.committed_at is not None:
                    # the target: the final version once the command has exited, else the first bump
                    for r in load.replicas:
                        if r.n in out.reloaded_at:
                            continue
                        h = r.health(client)
                        v = (h or {}).get("library_version") or 0
                        if v > seen.get(r.n, (version_before, 0.0))[0]:
                            seen[r.n] = (v, time.monotonic())  # the first /healthz at this version
                        # judged against the command's final version (it could bump more than once)
                        if out.version_after is not None and r.n in seen and seen[r.n][0] >= out.version_after:
                            out.reloaded_at[r.n] = seen[r.n][1]
                            stderr(f"[reload] replica {r.n} serves version {seen[r.n][0]} "
                                   f"{out.reloaded_at[r.n] - out.committed_at:.2f} s after the commit")
                    if out.exited_at is not None and len(out.reloaded_at) == len(load.replicas):
                        return
                    if now - out.committed_at > RELOAD_WAIT_S and out.exited_at is not None:
                        return
                time.sleep(POLL_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        engine.dispose()


# --- peers ------------------------------------------------------------------------------------------

def peers(url: str, work: Path, queries: list[str], passes: int = 5) -> dict:
    from index.query import parse_query
    from index.search import Library, document_terms
    from index.store import Store
    from index.tokens import tokenize

    store = Store(url)
    try:
        docs = [document_terms(s) for s in store.iter_segments()]
        qtoks = [tokenize(parse_query(q).search_text) for q in queries]
        out: dict = {"segments": len(docs), "queries": len(queries), "passes": passes}

        lib = Library.open(store, work / "peer-index")
        lat = []
        for p in range(passes + 1):
            for q in queries:
                t0 = time.perf_counter()
                lib.search(q, limit=PAGE_LIMIT)
                if p:
                    lat.append((time.perf_counter() - t0) * 1000)
        out["ours"] = {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "note": "Library.search, limit 20, filters"}
        del lib

        from rank_bm25 import BM25Okapi

        gc.collect()
        bm = BM25Okapi(docs, k1=1.5, b=0.75, epsilon=0.25)
        lat = []
        for p in range(passes + 1):
            for q in qtoks:
                t0 = time.perf_counter()
                scores = bm.get_scores(q)
                top = np.argpartition(-scores, 10)[:10]
                top[np.lexsort((top, -scores[top]))]
                if p:
                    lat.append((time.perf_counter() - t0) * 1000)
        out["rank_bm25"] = {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "note": "get_scores + top 10"}
        del bm

        try:
            import bm25s
        except ImportError:
            out["bm25s"] = None
        else:
            logging.getLogger("bm25s").setLevel(logging.ERROR)
            gc.collect()
            retriever = bm25s.BM25(k1=1.5, b=0.75, backend="numpy")
            retriever.index(docs, show_progress=False)
            vocab = retriever.vocab_dict
            known = [[t for t in q if t in vocab] for q in qtoks]
            known = [q for q in known if q]
            lat = []
            for p in range(passes + 1):
                for q in known:
                    t0 = time.perf_counter()
                    retriever.retrieve([q], k=10, show_progress=False, n_threads=0, backend_selection="numpy")
                    if p:
                        lat.append((time.perf_counter() - t0) * 1000)
            out["bm25s"] = {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
                            "note": f"numpy backend, retrieve k=10, {len(known)} queries with known words"}
            del retriever
        return out
    finally:
        store.close()


# --- the run ----------------------------------------------------------------------------------------

def prepare(database: str, args: argparse.Namespace, work: Path) -> str:
    """The database URL for ``database`` ("postgresql" or "sqlite"), emptied, with the samples ingested."""
    if database == "sqlite":
        url = f"sqlite:///{work / 'library.db'}"
    else:
        url = database_url(args.database_url)
        stderr(f"[db] {make_url(url).render_as_string(hide_password=True)}: emptying the schema")
        empty_schema(url)
    t0 = time.monotonic()
    (work / "ingest").mkdir()
    finish(start_ingest(url, work / "ingest", "--samples"), "ingesting the samples")
    stderr(f"[ingest] samples ingested into {database} in {time.monotonic() - t0:.1f} s")
    return url


def run(args: argparse.Namespace, work: Path, url: str, server: str, clients: int, n: int) -> dict:
    """One load run: two replicas of ``server`` on ``url``, ``clients`` closed-loop clients."""
    configure_run(n)
    work = work / f"run-{n}"
    work.mkdir()
    (work / "ingest").mkdir()
    errors: dict[str, int] = {}

    def error(kind: str, n: int = 1) -> None:
        if n:
            errors[kind] = errors.get(kind, 0) + n

    slack = LocalSlack()
    replicas: list[Replica] = []
    stop = threading.Event()
    mid = MidRun()
    try:
        for r in range(1, args.replicas + 1):
            replicas.append(Replica(r, url, slack, work, server, args.workers))
        t1 = time.monotonic()
        health = wait_healthy(replicas)
        versions = {h.get("library_version") for h in health}
        stderr(f"[replicas] healthy in {time.monotonic() - t1:.1f} s: "
               + ", ".join(f"{r.base} ({h['segments']} segments, version {h.get('library_version')})"
                           for r, h in zip(replicas, health)))
        if len(versions) != 1 or None in versions:
            raise SystemExit(f"replicas disagree on the library version at start: {health}")
        version_before = int(versions.pop())

        load = Load(slack, replicas)
        start = time.monotonic()
        deadline = start + args.seconds
        mid_thread = threading.Thread(target=mid_run, name="mid-run", daemon=True,
                                      args=(url, work, load, start + args.seconds / 2, version_before, mid, stop))
        threads = [threading.Thread(target=load.client_loop, args=(c, deadline), name=f"client-{c}", daemon=True)
                   for c in range(clients)]
        stderr(f"[load] {server}: {clients} clients for {args.seconds:g} s against {len(replicas)} replicas")
        mid_thread.start()
        for c in threads:
            c.start()
        for c in threads:
            c.join(args.seconds + 2 * ANSWER_WAIT_S + 30)
        ended = time.monotonic()
        elapsed = max(ended, deadline) - start
        # stragglers: answers still owed at the end of the window
        straggle_deadline = time.monotonic() + ANSWER_WAIT_S
        for rec in list(load.records):
            if rec.status == 200 and rec.arrived is None:
                rec.event.wait(max(0.0, straggle_deadline - time.monotonic()))
        mid_thread.join(MID_INGEST_CAP_S + RELOAD_WAIT_S + 10)
        stop.set()

        # the new word, once more from each replica that reloaded
        check: dict[int, str] = {}
        with httpx.Client(timeout=ANSWER_WAIT_S) as client:
            for r in replicas:
                if r.n not in mid.reloaded_at:
                    continue
                rec = load.send(client, -1, r, NEW_WORD, ANSWER_WAIT_S)
                check[r.n] = kind_of(rec.body) if rec.status == 200 else f"http {rec.status or rec.exc}"

        memory = {str(r.n): r.memory() for r in replicas}
        died = [r for r in replicas if not r.alive()]
        for r in died:
            error("replica exited")
            stderr(f"[replica {r.n}] exited early ({r.proc.returncode}); its log's tail:\n{r.tail()}")
    finally:
        stop.set()
        for r in replicas:
            r.stop()
        slack.close()

    # --- tally ---
    recs = [r for r in load.records if r.client >= 0]
    kinds: dict[str, int] = {}
    new_word = {"before_reload": {}, "after_reload": {}}
    ack_ms, e2e_ms = [], []
    answered = 0
    per_replica = {r.n: {"requests": 0, "answered": 0, "e2e": []} for r in replicas}
    for rec in recs:
        pr = per_replica[rec.replica]
        pr["requests"] += 1
        if rec.exc is not None:
            error(f"transport: {rec.exc}")
            continue
        if rec.status != 200:
            error(f"http {rec.status}")
            continue
        ack_ms.append((rec.acked - rec.started) * 1000)
        if rec.arrived is None:
            error(f"no answer within {ANSWER_WAIT_S:.0f} s")
            continue
        answered += 1
        pr["answered"] += 1
        ms = (rec.arrived - rec.started) * 1000
        e2e_ms.append(ms)
        pr["e2e"].append(ms)
        k = kind_of(rec.body)
        kinds[k] = kinds.get(k, 0) + 1
        if k == "apology":
            error("apology")
        elif k == "other":
            error("other answer")
        if rec.query == NEW_WORD:
            reloaded = mid.reloaded_at.get(rec.replica)
            side = "after_reload" if reloaded is not None and rec.started >= reloaded else "before_reload"
            new_word[side][k] = new_word[side].get(k, 0) + 1
            if side == "after_reload" and k == "no_match":
                error("new word missed after reload")
    if mid.error:
        error("mid-run ingest failed")
    reload_s = []
    for r in replicas:
        at = mid.reloaded_at.get(r.n)
        if at is None or mid.committed_at is None:
            reload_s.append(None)
            if mid.committed_at is not None and not mid.error:
                error(f"no reload within {RELOAD_WAIT_S:.0f} s")
        else:
            reload_s.append(round(at - mid.committed_at, 3))
    for k in check.values():
        if k != "card":
            error(f"new word check: {k}")
    no_match_queries: dict[str, int] = {}
    for rec in recs:
        if rec.query != NEW_WORD and kind_of(rec.body) == "no_match":
            no_match_queries[rec.query] = no_match_queries.get(rec.query, 0) + 1

    peer = None
    if not args.no_peers and n == args.last_run_of_database:
        stderr("[peers] one search in-process: ours, rank-bm25, bm25s")
        try:
            peer = peers(url, work, QUERIES)
        except Exception as exc:  # noqa: BLE001 - the load figures stand without them
            stderr(f"[peers] failed: {exc.__class__.__name__}: {exc}")

    def rel(t: float | None) -> float | None:
        return round(t - start, 3) if t is not None else None

    done = sorted((r for r in recs if r.arrived is not None), key=lambda r: r.started - r.arrived)[:5]
    slowest = [{"at_s": rel(r.started), "replica": r.replica, "query": r.query,
                "ack_ms": round((r.acked - r.started) * 1000, 1), "e2e_ms": round((r.arrived - r.started) * 1000, 1)}
               for r in done]
    result = {
        "server": server, "database": make_url(url).get_backend_name(), "workers": args.workers,
        "memory": memory,
        "replicas": len(replicas), "clients": clients, "seconds": args.seconds,
        "requests": len(recs), "answered": answered,
        "throughput_rps": round(answered / elapsed, 2) if elapsed > 0 else None,
        "ack_p50_ms": pct(ack_ms, 50), "ack_p99_ms": pct(ack_ms, 99),
        "e2e_p50_ms": pct(e2e_ms, 50), "e2e_p99_ms": pct(e2e_ms, 99),
        "e2e_max_ms": round(max(e2e_ms), 2) if e2e_ms else None,
        "errors": sum(errors.values()), "error_kinds": errors,
        "answers": kinds,
        "reload_s": reload_s,
        "library_versions": [version_before, mid.version_after],
        "ingest": {"started_s": rel(mid.started_at), "committed_s": rel(mid.committed_at),
                   "exited_s": rel(mid.exited_at), "error": mid.error},
        "new_word": {**new_word, "check": {str(n): k for n, k in check.items()}},
        "per_replica": {str(n): {"requests": v["requests"], "answered": v["answered"],
                                 "e2e_p50_ms": pct(v["e2e"], 50), "e2e_p99_ms": pct(v["e2e"], 99)}
                        for n, v in per_replica.items()},
        "slowest": slowest,
        "no_match_queries": no_match_queries,
        "extra_answers": load.extra_answers,
        "elapsed_s": round(elapsed, 2),
        "peers": peer,
        "cpus": os.cpu_count(),
    }
    return result


def summary(r: dict) -> str:
    def ms(v):
        return "-" if v is None else f"{v:.1f} ms"

    lines = [
        (f"== load: {r['server']}, {r['replicas']} replicas on {r['database']}, {r['clients']} clients, "
         f"{r['seconds']:g} s ({r['cpus']} CPUs; clients, LocalSlack and replicas share them)"),
        f"   {r['requests']} /quote requests, {r['answered']} answered: {r['throughput_rps']} req/s",
        f"   ack  p50 {ms(r['ack_p50_ms'])}   p99 {ms(r['ack_p99_ms'])}",
        (f"   card p50 {ms(r['e2e_p50_ms'])}   p99 {ms(r['e2e_p99_ms'])}   max {ms(r['e2e_max_ms'])}"
         "   (send -> answer at the response_url)"),
        "   per replica: " + "; ".join(f"#{n} {v['answered']}/{v['requests']} answered, p50 {ms(v['e2e_p50_ms'])}"
                                       f" p99 {ms(v['e2e_p99_ms'])}" for n, v in r["per_replica"].items()),
        f"   answers: {r['answers']}",
        f"   mid-run ingest: started {r['ingest']['started_s']} s, committed {r['ingest']['committed_s']} s, "
        f"command exited {r['ingest']['exited_s']} s; library version {r['library_versions'][0]} -> "
        f"{r['library_versions'][1]}" + (f"; {r['ingest']['error']}" if r["ingest"]["error"] else ""),
        "   reload after the commit: " + ", ".join(
            f"#{i + 1} " + ("none" if s is None else f"{s:.2f} s") for i, s in enumerate(r["reload_s"])),
        (f"   new word: before reload {r['new_word']['before_reload']}, after reload "
         f"{r['new_word']['after_reload']}, check after the load {r['new_word']['check']}"),
        f"   errors: {r['errors']} (expected 0) {r['error_kinds'] or ''}",
        "   memory (MiB, RSS/PSS, master first): " + "; ".join(
            f"#{n} " + " ".join(f"{m['rss_mib']:.0f}/{m['pss_mib']:.0f}" for m in procs)
            for n, procs in r["memory"].items()),
    ]
    if r["slowest"]:
        lines.append("   slowest (s into the run, replica, ack/card ms): " + "; ".join(
            f"{x['at_s']:.1f} s #{x['replica']} {x['query']!r} {x['ack_ms']:.0f}/{x['e2e_ms']:.0f}"
            for x in r["slowest"]))
    if r["no_match_queries"]:
        lines.append(f"   queries answered 'No quote matched' (not errors): {r['no_match_queries']}")
    if r["extra_answers"]:
        lines.append(f"   {r['extra_answers']} response_urls got more than one POST")
    p = r.get("peers")
    if p:
        parts = [f"ours (Library.search) p50 {ms(p['ours']['p50_ms'])} p99 {ms(p['ours']['p99_ms'])}",
                 f"rank-bm25 p50 {ms(p['rank_bm25']['p50_ms'])} p99 {ms(p['rank_bm25']['p99_ms'])}"]
        parts.append("bm25s not installed (pip install -e '.[bench]')" if p["bm25s"] is None else
                     f"bm25s p50 {ms(p['bm25s']['p50_ms'])} p99 {ms(p['bm25s']['p99_ms'])}")
        lines.append(f"   peers, one search in-process over the same {p['segments']:,} segments and queries: "
                     + "; ".join(parts))
    return "\n".join(lines)


def table(results: list[dict]) -> str:
    """One line per run, side by side: the figures the issue asks for."""
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    head = (f"{'database':<11}{'clients':>8}  {'server':<9}{'req/s':>7}{'ack p50':>9}{'ack p99':>9}"
            f"{'card p50':>10}{'card p99':>10}{'errors':>8}  reload (s)   "
            "memory per replica (MiB RSS/PSS, master first)")
    lines = [head, "-" * len(head)]
    for r in results:
        reload_s = ",".join("-" if x is None else f"{x:.1f}" for x in r["reload_s"])
        memory = "  ".join(" ".join(f"{m['rss_mib']:.0f}/{m['pss_mib']:.0f}" for m in procs)
                           for procs in r["memory"].values())
        lines.append(f"{r['database']:<11}{r['clients']:>8}  {r['server']:<9}{f(r['throughput_rps']):>7}"
                     f"{f(r['ack_p50_ms']):>9}{f(r['ack_p99_ms']):>9}{f(r['e2e_p50_ms']):>10}{f(r['e2e_p99_ms']):>10}"
                     f"{r['errors']:>8}  {reload_s:<12} {memory}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the results as JSON lines on stdout")
    parser.add_argument("--clients", default="16,50", help="concurrent clients, a comma-separated list (16,50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load window (default 20)")
    parser.add_argument("--servers", default="gunicorn,wsgiref",
                        help="HTTP servers measured side by side in each setting (gunicorn,wsgiref)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql (both by default)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas per run (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="QUOTEBOT_WORKERS of each gunicorn replica (1)")
    parser.add_argument("--database-url", help="PostgreSQL URL, used as given (its public schema is emptied)")
    parser.add_argument("--no-peers", action="store_true", help="skip the in-process peer searches")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (replica logs, indexes)")
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    servers = [x.strip() for x in args.servers.split(",") if x.strip()]
    databases = [x.strip() for x in args.databases.split(",") if x.strip()]
    if not client_counts or min(client_counts) < 1 or args.seconds <= 0 or args.replicas < 1:
        parser.error("--clients, --seconds and --replicas must be positive")
    if set(servers) - {"gunicorn", "wsgiref"} or set(databases) - {"sqlite", "postgresql"}:
        parser.error("--servers: gunicorn, wsgiref; --databases: sqlite, postgresql")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    results = []
    n = 0
    try:
        for database in databases:
            folder = work / database
            folder.mkdir()
            url = prepare(database, args, folder)
            runs = [(c, srv) for c in client_counts for srv in servers]
            args.last_run_of_database = n + len(runs) - 1
            for clients, server in runs:
                result = run(args, folder, url, server, clients, n)
                n += 1
                stderr(summary(result))
                results.append(result)
                if args.json:
                    print(json.dumps(result), flush=True)
    finally:
        if args.keep:
            stderr(f"[work] kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    stderr("\n== side by side (ms; card = send -> answer at the response_url)\n" + table(results))
    sys.exit(1 if any(r["errors"] for r in results) else 0)


if __name__ == "__main__":
    main()
