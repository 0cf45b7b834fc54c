"""The library changes while the bot serves: answers stay right, and nobody is locked out.

Real HTTP with signed requests, the local Slack Web API, SQLite and a real PostgreSQL, and
``quotebot ingest`` as another process where the database is shared between processes.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine

from bot.app import build_app
from bot.events import EventLog
from bot.localslack import LocalSlack, event_body
from bot.serve import http_server
from bot.settings import Settings
from index import formats
from index.ingest import build_record, ingest
from index.search import Library
from index.store import Store

from .conftest import seed
from .test_slack import SECRET, command, send

QUERY = "reinforcement learning is terrible"


def serving(store: Store, root: Path):
    """The app over HTTP on ``store``, with its own index and no reloader (as in the 15 s between
    two of ``quotebot serve``'s checks); returns (url, slack, library, stop)."""
    library = Library.open(store, root / "index")
    slack = LocalSlack()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                        QUOTEBOT_DATA_DIR=str(root))
    server = http_server(build_app(settings, library, EventLog(store.engine)), library, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        slack.close()

    return f"http://127.0.0.1:{server.server_port}", slack, library, stop


def card_text(message: dict) -> str | None:
    """The quote a card shows, as plain text (markup and escaping undone); None for a message."""
    block = next((b for b in message.get("blocks", []) if b.get("block_id") == "quote_text"), None)
    if block is None:
        return None
    return html.unescape(block["text"]["text"].removeprefix("> ").replace("*", ""))


def test_answers_stay_right_while_a_changed_source_is_reingested(store, tmp_path):
    """Lines inserted at the top of the newest episode, and the matching line itself edited: every
    answer, every 0.25 s, is a card with the text the library held at that moment."""
    source = tmp_path / "karpathy.txt"
    original = seed("001").read_text(encoding="utf-8")
    source.write_text(original, encoding="utf-8")
    assert all(r.ok for r in ingest([str(seed("002")), str(source)], store))
    url, slack, library, stop = serving(store, tmp_path)
    try:
        [before] = [h.text for h in library.search(QUERY, limit=1)]
        lines = original.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("[00:"))
        changed = lines[:at] + ["[00:00] Before we start, a word about gardening and sourdough starters.",
                                "[00:00] Tomatoes need sun, water and patience, or so my neighbour says."] + lines[at:]
        changed = [line.replace("average person", "typical person") for line in changed]
        answers: list[tuple[float, str | None, str]] = []  # (when asked, card text, whole message text)
        done = threading.Event()

        def ask() -> None:
            while not done.is_set():
                asked = time.monotonic()
                message = command(url, slack, QUERY)
                answers.append((asked, card_text(message), message.get("text", "")))
                time.sleep(0.25)

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(1.0)
        source.write_text("\n".join(changed) + "\n", encoding="utf-8")
        other = Store(store.url)  # another process's connection, as `quotebot ingest` would have
        try:
            [result] = ingest([str(source)], other)
        finally:
            other.close()
        assert result.status == "replaced"
        landed = time.monotonic()
        deadline = landed + 60
        while sum(asked > landed for asked, _, _ in answers) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)  # a few questions asked after the re-ingest, however loaded the machine
        done.set()
        asker.join()
    finally:
        stop()
    [after] = [h.text for h in Library.open(store, tmp_path / "fresh-index").search(QUERY, limit=1)]
    assert after != before and "typical person" in after
    assert len(answers) >= 8
    wrong = [(text, whole[:120]) for _, text, whole in answers if text not in (before, after)]
    assert not wrong, f"{len(wrong)} of {len(answers)} answers were not the quote: {wrong[:3]}"
    late = [text for asked, text, _ in answers if asked > landed]
    assert late and all(text == after for text in late), "questions asked after the re-ingest got the old text"


def test_segment_ids_are_never_reused_and_unchanged_segments_keep_theirs(store, tmp_path):
    source = tmp_path / "latent.txt"
    shutil.copy(seed("002"), source)
    shutil.copy(seed("002").with_suffix(".meta.json"), tmp_path / "latent.meta.json")
    assert all(r.ok for r in ingest([str(source)], store))
    old = {s.id: s for s in store.iter_segments()}
    text = source.read_text(encoding="utf-8")
    source.write_text("[00:00:00.000 --> 00:00:02.000]   A brand new opening line about gardening.\n" + text,
                      encoding="utf-8")
    assert ingest([str(source)], store)[0].status == "replaced"
    new = {s.id: s for s in store.iter_segments()}
    kept = set(old) & set(new)
    assert len(kept) > 0.8 * len(old)  # the opening changed; the rest kept its ids
    assert all(old[i].text == new[i].text and old[i].start_s == new[i].start_s for i in kept)
    assert min(set(new) - kept) > max(old), "a new segment got an id that an old one had"
    assert [s.seq for s in store.segments_of(new[min(new)].episode_id)] == list(range(len(new)))


LONG_INGEST_S = 10.0


def synthetic_vtt(path: Path, cues: int, salt: int) -> None:
    """A long WebVTT file of distinct sentences (so nothing merges with anything)."""
    words = [f"w{salt}x{i}" for i in range(4000)]
    lines = ["WEBVTT", ""]
    for n in range(cues):
        start = n * 3
        stamp = f"{start // 3600:02d}:{start % 3600 // 60:02d}:{start % 60:02d}.000"
        end = start + 3
        stop = f"{end // 3600:02d}:{end % 3600 // 60:02d}:{end % 60:02d}.000"
        sentence = " ".join(words[(n * 7 + k * 13) % len(words)] for k in range(12))
        lines += [f"{stamp} --> {stop}", f"<v Speaker {n % 3}>{sentence.capitalize()}.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def test_mentions_are_answered_while_a_long_ingest_runs(tmp_path):
    """`quotebot ingest` in another process for at least 10 s on the same SQLite file, a mention
    every 0.5 s meanwhile: every mention gets its reply."""
    db = tmp_path / "lib.db"
    store = Store(f"sqlite:///{db}")
    assert all(r.ok for r in ingest([str(seed("002"))], store))
    url, slack, _, stop = serving(store, tmp_path / "server")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_DATABASE_URL=store.url, QUOTEBOT_DATA_DIR=str(tmp_path / "ingester"))
    sent: list[str] = []
    started = time.monotonic()
    try:
        round_ = 0
        while time.monotonic() - started < LONG_INGEST_S or not sent:
            round_ += 1
            folder = tmp_path / f"batch{round_}"
            folder.mkdir()
            for i in range(2):
                synthetic_vtt(folder / f"long{i}.vtt", 12_000, salt=round_ * 10 + i)
            ingester = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(folder)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            while ingester.poll() is None:
                ts = f"1700009{len(sent):03d}.000100"
                event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": ts, "event_ts": ts,
                         "text": "<@U0QUOTEBOT> dylan patel semiconductors"}
                response = send(url, event_body(event), json_body=True)
                assert response.status_code in (200, 503), response.status_code
                if response.status_code == 503:  # Slack would retry: so do we
                    time.sleep(0.1)
                    continue
                sent.append(ts)
                time.sleep(0.5)
            assert ingester.wait() == 0, ingester.stderr.read() if ingester.stderr else ""
        took = time.monotonic() - started
        replied = slack.wait_for("chat.postMessage", len(sent), timeout=60)
    finally:
        stop()
        store.close()
    assert took >= LONG_INGEST_S
    assert sorted(c.body["thread_ts"] for c in replied) == sorted(sent), "a mention got no reply"
    assert not any("Sorry" in c.body.get("text", "") for c in replied)
    assert len(sent) >= LONG_INGEST_S / 0.5 * 0.5  # mentions kept coming during the whole ingest


def test_two_ingests_at_once_both_land(db_url, tmp_path):
    """Two `quotebot ingest` processes on one database at once: every source lands once, whole."""
    Store(db_url).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_DATABASE_URL=db_url)
    procs = []
    for n, names in enumerate([("000", "003"), ("001", "002", "004")]):
        folder = tmp_path / f"in{n}"
        folder.mkdir()
        for name in names:
            for path in seed(name).parent.glob(f"{name}_*"):
                shutil.copy(path, folder / path.name)
        procs.append(subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(folder)],
                                      env={**env, "QUOTEBOT_DATA_DIR": str(tmp_path / f"data{n}")},
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err
    store = Store(db_url)
    try:
        episodes = {e.id: e for e in store.episodes()}
        assert len(episodes) == 3  # 000, 003 and 004 are one episode; 001 and 002 one each
        assert sum(len(e.sources) for e in episodes.values()) == 5
        assert sum(e.segments for e in episodes.values()) == store.segment_count()
        assert store.version() >= 5
    finally:
        store.close()


def test_building_episodes_holds_no_write_lock(tmp_path):
    """While an ingest merges and segments (``build``), another process can still write: the bot's
    event log takes its row at once, even with a 0.5 s lock timeout."""
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    impatient = create_engine(store.url, connect_args={"timeout": 0.5})
    events = EventLog(impatient)
    recorded: list[bool] = []

    def build(episode_id, parts):
        recorded.append(events.first_time(f"Ev{len(recorded)}"))  # raises "database is locked" if held
        return build_record(episode_id, parts)

    try:
        for name in ("002", "001"):
            transcripts = formats.parse(seed(name).read_text(encoding="utf-8"))[1]
            assert store.replace_source(key=name, name=name, content_hash=name, format="x", warnings=[],
                                        parts=[(f"ep{name}", t) for t in transcripts], build=build)
        assert recorded == [True, True]
        assert {e.id for e in store.episodes()} == {"ep002", "ep001"}
    finally:
        impatient.dispose()
        store.close()


def test_kill_9_during_an_ingest_loses_nothing_stored(db_url, tmp_path):
    """`quotebot ingest` killed with SIGKILL while it writes: what was stored stays whole, and the
    next ingest completes the library as a clean run would."""
    folder = tmp_path / "in"
    folder.mkdir()
    for path in seed("000").parent.glob("00[0-4]_*"):
        shutil.copy(path, folder / path.name)
    for i in range(3):  # more sources, so the kill lands in the middle
        synthetic_vtt(folder / f"long{i}.vtt", 6000, salt=900 + i)
    store = Store(db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_DATABASE_URL=db_url, QUOTEBOT_DATA_DIR=str(tmp_path / "data"))
    try:
        victim = subprocess.Popen([sys.executable, "-m", "bot", "ingest", str(folder)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while store.version() < 2 and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert victim.poll() is None, "the ingest ended before it could be killed"
        victim.kill()  # SIGKILL
        victim.wait()
        stored = {e.id: e for e in store.episodes()}
        assert stored, "nothing had landed before the kill"
        assert sum(e.segments for e in stored.values()) == store.segment_count()
        assert all(e.segments > 0 and e.sources for e in stored.values())
        again = subprocess.run([sys.executable, "-m", "bot", "ingest", str(folder)], check=False, env=env, capture_output=True,
                               text=True, timeout=600)
        assert again.returncode == 0, again.stdout + again.stderr
        after = {e.id: (e.segments, sorted(e.sources)) for e in store.episodes()}
        for episode_id in stored:  # what was stored is still there (merged further, maybe)
            assert episode_id in after and after[episode_id][0] > 0
        assert len(after) == 6  # the three seed episodes and the three long ones
        assert sum(n for n, _ in after.values()) == store.segment_count()
    finally:
        store.close()
