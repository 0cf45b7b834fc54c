"""What a feed or URL may reach, how long a fetch may take, and how sizes are said.

Real servers on 127.0.0.1 (loopback is refused unless allowed, which is what these tests check),
a real dripping server, real files and symlinks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from bot.settings import Settings
from index.errors import TranscriptError
from index.ingest import ingest
from index.sources import Fetcher, blocked_address

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Ann>Root access is what the attacker wanted from the password file.
"""

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
  <title>Hostile Feed</title>
  {items}
</channel>
</rss>
"""


def feed(*urls: str) -> str:
    items = "".join(f'<item><title>Item {i}</title><podcast:transcript url="{u}" type="text/vtt" /></item>'
                    for i, u in enumerate(urls))
    return FEED.format(items=items)


def nothing_stored(store) -> bool:
    return store.episodes() == [] and store.segment_count() == 0


def test_a_local_feed_reads_only_inside_its_folder(tmp_path, store):
    outside = tmp_path / "secret.vtt"
    outside.write_text(VTT)
    folder = tmp_path / "feed"
    (folder / "episodes").mkdir(parents=True)
    (folder / "episodes" / "ok.vtt").write_text(VTT.replace("Root access", "Sourdough starters"))
    (folder / "link.vtt").symlink_to(outside)
    hostile = ["/etc/passwd", "../secret.vtt", "episodes/../../secret.vtt", str(outside), "link.vtt",
               "file:///etc/passwd", f"file://{outside}", "."]
    (folder / "feed.xml").write_text(feed("episodes/ok.vtt", *hostile))
    results = ingest([str(folder / "feed.xml")], store)
    assert [r.status for r in results] == ["added"] + ["failed"] * len(hostile)
    for href, result in zip(hostile, results[1:]):
        assert "outside its folder" in result.error and repr(href) in result.error, result.error
        assert str(folder / "feed.xml") in result.error  # names the feed
    [episode] = store.episodes()
    wanted = "Sourdough starters is what the attacker wanted from the password file."
    assert [s.text for s in store.segments_of(episode.id)] == [wanted]


def test_feeds_and_urls_cannot_reach_loopback_or_private_addresses(http_server, store):
    secret = http_server.add("/secret.vtt", VTT, content_type="text/vtt")
    port = http_server.server.server_address[1]
    http_server.routes["/hop"] = (302, {"Location": secret}, b"")
    named = f"http://localhost:{port}"
    direct_feed = http_server.add("/feed.xml", feed(secret), content_type="application/rss+xml")
    hop_feed = http_server.add("/hop-feed.xml", feed(f"{named}/hop"), content_type="application/rss+xml")
    private = ["http://10.0.0.1/a.vtt", "http://192.168.1.1/a.vtt", "http://169.254.169.254/latest/meta-data",
               "http://[::1]/a.vtt", "http://0.0.0.0/a.vtt", "http://224.0.0.1/a.vtt", "http://[::ffff:127.0.0.1]/a.vtt",
               "http://100.64.0.1/a.vtt"]
    # direct, by name (localhost resolves to loopback), by redirect, and through feeds
    results = ingest([secret, f"{named}/secret.vtt", f"{named}/hop", direct_feed, *private], store, timeout_s=5)
    assert all(r.status == "failed" for r in results), [(r.name, r.status) for r in results]
    for r in results:
        assert "refused" in r.error and "QUOTEBOT_FETCH_ALLOW_HOSTS" in r.error, r.error
    assert "localhost resolves to 127.0.0.1, a loopback address" in results[1].error
    # allowing a name allows that name only: its redirect to 127.0.0.1 and a feed's items there are refused
    results = ingest([f"{named}/hop", hop_feed.replace("127.0.0.1", "localhost")], store, allow_hosts=["localhost"])
    assert [r.status for r in results] == ["failed", "failed"]
    assert all("127.0.0.1 is a loopback address" in r.error for r in results), [r.error for r in results]
    assert all(r.error.startswith(secret) for r in results)  # the redirect's target is named, and refused
    assert nothing_stored(store)
    # and the setting lets a named host through
    [ok] = ingest([secret], store, allow_hosts=["127.0.0.1"])
    assert ok.status == "added"


def test_the_connected_address_is_checked_not_only_the_name(http_server):
    """A name that resolved to a public address when checked, but connects to loopback (DNS
    rebinding), is refused on the address actually connected to."""
    url = http_server.add("/a.vtt", VTT, content_type="text/vtt").replace("127.0.0.1", "localhost")
    fetcher = Fetcher(resolve=lambda host: ["93.184.216.34"])
    try:
        with pytest.raises(TranscriptError, match=r"localhost resolves to (127\.0\.0\.1|::1), a loopback address"):
            fetcher.get(url)
    finally:
        fetcher.close()


def test_address_kinds():
    assert blocked_address("93.184.216.34") is None and blocked_address("2606:4700::1111") is None
    assert blocked_address("127.0.0.5") == "loopback" and blocked_address("::1") == "loopback"
    assert blocked_address("10.1.2.3") == "private" and blocked_address("fd00::1") == "private"
    assert blocked_address("169.254.169.254") == "link-local" and blocked_address("fe80::1%eth0") == "link-local"
    assert blocked_address("239.1.1.1") == "multicast" and blocked_address("::ffff:192.168.0.1") == "private"


class Drip:
    """An HTTP server that sends its headers, then a byte every ``every`` seconds (after ``stall_at``
    bytes it stops sending but keeps the connection open)."""

    def __init__(self, every: float = 1.0, stall_at: int | None = None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.every, self.stall_at = every, stall_at
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/drip.vtt"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/vtt\r\nContent-Length: 100000\r\n\r\n")
            sent = 0
            while not self.stop.is_set():
                if self.stall_at is None or sent < self.stall_at:
                    try:
                        conn.sendall(b"W")
                    except OSError:
                        return
                    sent += 1
                self.stop.wait(self.every)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.mark.parametrize("shape", ["a byte a second", "two bytes then silence"])
def test_a_fetch_ends_at_its_deadline(store, shape):
    drip = Drip(every=1.0) if shape == "a byte a second" else Drip(every=2.4, stall_at=2)
    try:
        started = time.monotonic()
        [r] = ingest([drip.url], store, timeout_s=3, allow_hosts=["127.0.0.1"])
        took = time.monotonic() - started
    finally:
        drip.close()
    assert r.status == "failed" and "timed out" in r.error and "3 s" in r.error and drip.url in r.error
    assert took < 4.5, f"the fetch took {took:.1f} s with a 3 s deadline"
    assert nothing_stored(store)


def test_quotebot_ingest_honours_the_fetch_timeout(tmp_path):
    drip = Drip(every=1.0)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_DATA_DIR=str(tmp_path), QUOTEBOT_FETCH_TIMEOUT_S="3", QUOTEBOT_FETCH_ALLOW_HOSTS="127.0.0.1")
    try:
        done = subprocess.run([sys.executable, "-m", "bot", "ingest", drip.url], check=False, env=env, capture_output=True,
                              text=True, timeout=120)
    finally:
        drip.close()
    assert done.returncode == 1 and "timed out: not fetched within 3 s" in done.stdout + done.stderr


def test_sizes_are_said_in_the_unit_of_the_setting(tmp_path, store, monkeypatch):
    """QUOTEBOT_MAX_FILE_MB counts megabytes (10^6 bytes), as every message says."""
    monkeypatch.setenv("QUOTEBOT_MAX_FILE_MB", "50")
    limit = Settings().max_bytes
    assert limit == 50_000_000
    big = tmp_path / "big.vtt"
    with big.open("wb") as f:
        f.truncate(62_900_000)  # sparse: the size is checked before anything is read
    just_over = tmp_path / "just-over.vtt"
    with just_over.open("wb") as f:
        f.truncate(50_000_001)
    results = ingest([str(big), str(just_over)], store, max_bytes=limit)
    assert "file is 62.9 MB, over the 50 MB limit (QUOTEBOT_MAX_FILE_MB)" in results[0].error
    assert "file is 50.0 MB, over the 50 MB limit" in results[1].error
