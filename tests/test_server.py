"""The production HTTP server (`quotebot serve`: gunicorn gthread workers in front of bot.serve.Web),
over real sockets: limits before reading, idle and slow connections, malformed requests, a clean
stop, and the logs it writes.

One server (SQLite, the samples) serves the whole module; tests that stop a server start their own.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from bot.localslack import LocalSlack, event_body, signed_headers, slash_command_body

from .conftest import ROOT
from .test_production import SECRET, TOKEN, Replica, env_for
from .test_production import quote as quote_request

MiB = 1024 * 1024
KEEPALIVE_S = 2
REQUEST_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def library_url(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{root / 'library.db'}"
    run = subprocess.run([sys.executable, "-m", "bot", "ingest", "--samples"], env=env_for(root / "ingest", url),
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return url


def start(tmp_path: Path, db_url: str, slack: LocalSlack, **extra: str) -> Replica:
    settings = {"QUOTEBOT_LOG_FORMAT": "json", "QUOTEBOT_KEEPALIVE_S": str(KEEPALIVE_S),
                "QUOTEBOT_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S), "QUOTEBOT_THREADS": "4", **extra}
    return Replica(tmp_path, db_url, slack, **settings)


@pytest.fixture(scope="module")
def server(library_url, tmp_path_factory):
    """(replica, slack); the replica's stderr is read by the test that stops it last."""
    slack = LocalSlack()
    replica = start(tmp_path_factory.mktemp("replica"), library_url, slack)
    yield replica, slack
    replica.stop()
    slack.close()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def raw(port: int, data: bytes, *, read: bool = True, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a new connection and read the answer until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b"Connection: close" not in b"".join(chunks):
                break
        return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# --- limits before reading ------------------------------------------------------------------------

def test_a_body_over_1_mib_gets_413_without_being_read(server):
    replica, _ = server
    head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (5 * MiB))
    # Only the headers are sent: the 413 comes at once, long before the request timeout, so the
    # server answered without waiting for (reading) the body.
    started = time.monotonic()
    answer = raw(replica.port, head)
    assert status_of(answer) == 413 and b"Connection: close" in answer
    assert time.monotonic() - started < REQUEST_TIMEOUT_S

    # 5 MiB really sent, three times: the workers' memory does not grow by it
    workers = children(replica.process.pid)
    before = {pid: rss_kib(pid) for pid in workers}
    body = b"x" * (5 * MiB)
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", replica.port), timeout=10) as sock:
            sender = threading.Thread(target=lambda s=sock: _send_quietly(s, head + body))
            sender.start()
            answer = sock.recv(65536)
            sender.join(15)
        assert answer == b"" or status_of(answer) == 413  # 413, or the connection closed under the upload
    grown = {pid: rss_kib(pid) - before[pid] for pid in workers}
    assert max(grown.values()) < 2048, grown  # KiB: 15 MiB went by, not into memory
    assert replica.health()["status"] == "ok"

    exact = httpx.post(replica.url + "/slack/events", content=b"x" * (MiB + 1),
                       headers={"Content-Type": "application/json"})
    assert exact.status_code == 413


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server closed the connection under the upload, as it should
        sock.sendall(data)


def test_header_count_and_size_are_bounded(server):
    replica, _ = server
    many = b"".join(b"X-Filler-%d: x\r\n" % i for i in range(200))
    answer = raw(replica.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status_of(answer) == 431  # Request Header Fields Too Large
    huge = b"X-Huge: " + b"a" * 20000 + b"\r\n"
    answer = raw(replica.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n")
    assert status_of(answer) == 431
    line = b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert status_of(raw(replica.port, line)) in (400, 414)  # gunicorn: 400 "request line too large"
    assert replica.health()["status"] == "ok"


# --- idle and slow connections --------------------------------------------------------------------

def test_300_idle_connections_neither_exhaust_the_server_nor_stay_open(server):
    replica, slack = server
    idle = [socket.create_connection(("127.0.0.1", replica.port), timeout=30) for _ in range(300)]
    try:
        opened = time.monotonic()
        status, card = quote_request(replica.url, slack, "export controls")  # 4 threads, 300 idle sockets
        assert status == 200 and card and card.get("blocks")
        assert time.monotonic() - opened < REQUEST_TIMEOUT_S + 5
        closed = 0
        for sock in idle:  # each is closed by the server: no request arrived within the request timeout
            sock.settimeout(max(0.1, opened + REQUEST_TIMEOUT_S + 20 - time.monotonic()))
            try:
                closed += sock.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert closed == 300
        assert time.monotonic() - opened < REQUEST_TIMEOUT_S + 20
    finally:
        for sock in idle:
            sock.close()

    # a kept-alive connection, idle after its request, is closed after the keep-alive timeout
    with socket.create_connection(("127.0.0.1", replica.port), timeout=KEEPALIVE_S + 15) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            answer += sock.recv(4096)
        assert status_of(answer) == 200 and b"keep-alive" in answer.lower()
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server
        assert KEEPALIVE_S - 0.5 < time.monotonic() - started < KEEPALIVE_S + 10


def test_a_slow_client_is_dropped_and_does_not_hold_up_others(server):
    replica, slack = server
    slow = socket.create_connection(("127.0.0.1", replica.port), timeout=30)
    try:
        slow.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        dripping, gone = True, False
        while time.monotonic() - started < REQUEST_TIMEOUT_S + 10:
            try:
                slow.sendall(b"X")  # one byte every 0.3 s: never a whole header
            except OSError:
                gone = True
                break
            slow.settimeout(0.3)
            try:
                if slow.recv(1) == b"":
                    gone = True
                    break
            except TimeoutError:
                pass
            except OSError:
                gone = True
                break
            if dripping and time.monotonic() - started > 1:
                dripping = False
                status, card = quote_request(replica.url, slack, "tsmc taiwan")
                assert status == 200 and card
        assert gone, "the slow client was never dropped"
        assert time.monotonic() - started < REQUEST_TIMEOUT_S + 3
    finally:
        slow.close()


# --- malformed requests: verified before parsing, 4xx and one log line, never a 500 -----------------

def _signed(body: bytes, timestamp: str) -> dict[str, str]:
    import hashlib
    import hmac

    mac = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={mac}"}


def _form(payload: str) -> bytes:
    return ("payload=" + quote(payload, safe="")).encode()


NOW = "{now}"  # filled in when the test runs
FORM = "application/x-www-form-urlencoded"
# (name, body, content type, timestamp, expected status when signed)
MALFORMED = [
    ("timestamp abc", slash_command_body("x", response_url="http://127.0.0.1:9/r").encode(), FORM, "abc", 400),
    ("empty timestamp", b"text=x", FORM, "", 400),
    ("float timestamp", b"text=x", FORM, NOW + ".5", 400),
    ("non-UTF-8 body", b"text=\xff\xfe\xfd&command=/quote", FORM, NOW, 400),
    ("non-UTF-8 JSON", b'{"type": "event_callback", "x": "\xc3\x28"}', "application/json", NOW, 400),
    ("truncated JSON", b'{"type": "event_callback", "event": {"type": "app_mention", "te', "application/json", NOW,
     400),
    ("100k-deep JSON array", b"[" * 100_000 + b"]" * 100_000, "application/json", NOW, 400),
    ("100k-deep JSON object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "application/json", NOW, 400),
    ("JSON not an object", b'"event_callback"', "application/json", NOW, 400),
    ("payload empty", b"payload=", FORM, NOW, 400),
    ("payload not JSON", b"payload=not-json", FORM, NOW, 400),
    ("payload truncated", _form('{"type": "block_actions", "actions": [{"action_id"'), FORM, NOW, 400),
    ("payload a list", _form("[1, 2]"), FORM, NOW, 400),
    ("payload null", _form("null"), FORM, NOW, 400),
    ("payload a string", _form('"block_actions"'), FORM, NOW, 400),
    ("payload deep", _form("[" * 100_000), FORM, NOW, 400),
    ("payload type not a string", _form('{"type": 5}'), FORM, NOW, 400),
    ("payload actions not a list", _form('{"type": "block_actions", "actions": 5}'), FORM, NOW, 400),
    ("payload actions of numbers", _form('{"type": "block_actions", "actions": [5]}'), FORM, NOW, 400),
    ("payload without actions", _form('{"type": "block_actions"}'), FORM, NOW, 400),
    ("payload team a number", _form('{"type": "block_actions", "team": 5, "actions": [{"action_id": "x"}]}'),
     FORM, NOW, 400),
    ("payload authorizations not objects", _form('{"type": "block_actions", "authorizations": [5], '
                                                 '"actions": [{"action_id": "x"}]}'), FORM, NOW, 400),
]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize(("name", "body", "content_type", "timestamp", "expected"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_a_malformed_request_gets_a_4xx_and_one_log_line(server, name, body, content_type, timestamp, expected,
                                                        signed):
    replica, _ = server
    timestamp = timestamp.format(now=int(time.time()))
    headers = {"Content-Type": content_type, "X-Request-Id": f"malformed-{abs(hash((name, signed)))}"}
    if signed:
        headers.update(_signed(body, timestamp))
    else:
        headers.update({"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64})
    response = httpx.post(replica.url + "/slack/events", content=body, headers=headers, timeout=30)
    bad_timestamp = not (timestamp.isdigit())
    want = expected if signed or bad_timestamp else 401  # an unsigned body is never parsed
    assert response.status_code == want, response.text
    assert response.json()["error"]
    MALFORMED_SEEN.append(headers["X-Request-Id"])


MALFORMED_SEEN: list[str] = []


def test_an_unsigned_request_without_headers_gets_401(server):
    replica, _ = server
    response = httpx.post(replica.url + "/slack/events", content=b"command=/quote&text=x",
                          headers={"Content-Type": FORM})
    assert response.status_code == 401


def test_a_signed_request_of_an_unknown_kind_is_answered_and_its_body_not_logged(server):
    replica, _ = server
    body = event_body({"type": "pin_added", "user": "U1", "item": {"secret": "UNHANDLED-BODY-MARKER"}})
    response = httpx.post(replica.url + "/slack/events", content=body,
                          headers={**signed_headers(body, SECRET), "Content-Type": "application/json"})
    assert response.status_code in (200, 404)  # Bolt: no listener for it


def test_zz_the_log_has_one_json_line_per_request_and_no_body(server, tmp_path):
    """Runs last in the module: stops the shared server and reads everything it logged."""
    replica, _ = server
    # a forged request whose body carries a would-be log line
    forged = b'{"type": "event_callback", "text": "FORGED-BODY-MARKER\\n{\\"level\\": \\"ERROR\\"}"}\n' \
             b'2026-01-01 00:00:00 ERROR forged line'
    response = httpx.post(replica.url + "/slack/events", content=forged,
                          headers={"Content-Type": "application/json",
                                   "X-Slack-Request-Timestamp": str(int(time.time())),
                                   "X-Slack-Signature": "v0=" + "1" * 64, "X-Request-Id": "forged-1"})
    assert response.status_code == 401
    code, err = replica.stop()
    assert code == 0
    assert "FORGED-BODY-MARKER" not in err and "forged line" not in err
    assert "UNHANDLED-BODY-MARKER" not in err
    assert "Traceback" not in err
    records = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is one JSON record
    by_id: dict[str, list[dict]] = {}
    for record in records:
        by_id.setdefault(record.get("request_id") or "", []).append(record)
    [line] = by_id["forged-1"]
    assert re.match(r"POST /slack/events 401 [\d.]+ ms \(bad signature\)$", line["message"]), line
    for rid in MALFORMED_SEEN:
        lines = by_id.get(rid, [])
        assert len(lines) == 1, (rid, lines)
        assert re.match(r"POST /slack/events 40[01] [\d.]+ ms \(.+\)$", lines[0]["message"]), lines[0]
    assert not any(r["level"] == "ERROR" for r in records), [r for r in records if r["level"] == "ERROR"]
    assert TOKEN not in err and SECRET not in err


# --- a graceful stop ------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_with_idle_and_slow_clients_exits_0_within_10_s_and_delivers_answers(library_url, tmp_path,
                                                                                     workers):
    with LocalSlack() as slack:
        replica = start(tmp_path / "stopping", library_url, slack, QUOTEBOT_WORKERS=workers,
                        QUOTEBOT_KEEPALIVE_S="30", QUOTEBOT_REQUEST_TIMEOUT_S="60")
        try:
            idle = [socket.create_connection(("127.0.0.1", replica.port)) for _ in range(20)]
            slow = [socket.create_connection(("127.0.0.1", replica.port)) for _ in range(5)]
            for sock in slow:
                sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
            kept = httpx.Client()  # a keep-alive connection with a request behind it
            assert kept.get(replica.url + "/healthz").status_code == 200
            slack.delay["response_url"] = 2.0  # the answer takes 2 s to deliver
            replies = [slack.response_url(f"stop-{i}") for i in range(3)]
            for reply in replies:
                body = slash_command_body("export controls", response_url=reply)
                headers = {**signed_headers(body, SECRET), "Content-Type": FORM}
                assert httpx.post(replica.url + "/slack/events", content=body, headers=headers).status_code == 200
            started = time.monotonic()
            replica.process.send_signal(signal.SIGTERM)
            try:
                replica.process.wait(10)
            except subprocess.TimeoutExpired:
                pytest.fail("quotebot serve did not exit within 10 s of SIGTERM")
            elapsed = time.monotonic() - started
            code, err = replica.stop()
            for sock in idle + slow:
                sock.close()
            kept.close()
        finally:
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.communicate()
        assert code == 0 and elapsed < 10, (code, elapsed, err[-2000:])
        delivered = {urlsplit(c.path).path for c in slack.calls("response_url")}
        assert {urlsplit(r).path for r in replies} <= delivered, "acknowledged answers were delivered"
        assert json.loads(err.splitlines()[-1])["message"] == "stopped"


# --- the log: one line per record ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_line_break_in_a_logged_field_cannot_forge_a_line(fmt, capfd):
    import logging

    from bot.observe import setup_logging

    setup_logging(fmt, "INFO")
    try:
        log = logging.getLogger("quotebot.test")
        log.warning("query %s", "tsmc\n2026-01-01 00:00:00 ERROR quotebot.serve [x] forged\r\nagain")
        try:
            raise ValueError("bad\nERROR forged from an exception")
        except ValueError:
            log.exception("failed for %s", "a\nb")
        log.info("Invalid request signature detected (signature: v0=1, timestamp: 1, body: SECRET-BODY)")
    finally:
        logging.getLogger().handlers[:] = []
    err = capfd.readouterr().err
    assert "SECRET-BODY" not in err
    lines = err.splitlines()
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        assert len(records) == 3 and "forged" in records[0]["message"] and "\\n" in records[0]["message"]
        assert "ERROR forged from an exception" in records[1]["exc_info"]
    else:
        starts = [line for line in lines if not line.startswith("    ")]
        assert len(starts) == 3, lines  # a traceback's lines are indented: none passes for a record
        assert "tsmc\\n2026-01-01" in starts[0]
