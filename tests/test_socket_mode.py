"""Socket Mode end to end without Slack.

The real Bolt app (``build_app``) runs behind slack_bolt's built-in ``SocketModeHandler`` (what
``quotebot serve`` uses in Socket Mode), connected to a small stdlib WebSocket server on 127.0.0.1
that plays Slack's side: it says ``hello``, pushes envelopes, records the client's acks and answers
pings. The bot's Web API calls and ``response_url`` posts go to ``LocalSlack``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.app import build_app
from bot.events import EventLog
from bot.localslack import APP_ID, TEAM_ID, LocalSlack, event_body, slash_command_body
from bot.serve import serve_socket_mode
from bot.settings import Settings
from index.ingest import ingest
from index.search import Library
from index.store import Store

from .conftest import SAMPLES

pytestmark = pytest.mark.timeout(60)

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


class FakeSocketModeServer:
    """Slack's Socket Mode side: a minimal RFC 6455 server (one client at a time) on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=local&app_id={APP_ID}"
        self._lock = threading.Lock()
        self._conn: socket.socket | None = None
        self._closed = False
        self.acks: list[dict] = []  # the client's {"envelope_id": ...} replies, in order
        self.pings = 0
        self.hellos = 0
        self._threads = [threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True)]
        self._threads[0].start()

    # -- what tests use ------------------------------------------------------------------
    def send(self, message: dict) -> None:
        with self._lock:
            conn = self._conn
        assert conn is not None, "no client connected"
        self._send_frame(conn, TEXT, json.dumps(message).encode())

    def ack_for(self, envelope_id: str) -> dict | None:
        with self._lock:
            return next((a for a in self.acks if a.get("envelope_id") == envelope_id), None)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            conn, self._conn = self._conn, None
        for sock in (conn, self._listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- the server ----------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), name="fake-socket-mode-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                request += chunk
            lines = request.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
            assert lines[0].startswith("GET /link/"), lines[0]
            headers = {
                k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
            }
            accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode(), usedforsecurity=False).digest()).decode()
            conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            with self._lock:
                self._conn = conn
            self._send_frame(conn, TEXT, json.dumps({
                "type": "hello", "num_connections": 1,
                "debug_info": {"host": "local", "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID}}).encode())
            with self._lock:
                self.hellos += 1
            while True:
                opcode, payload = self._read_frame(conn)
                if opcode == TEXT:
                    message = json.loads(payload)
                    with self._lock:
                        self.acks.append(message)
                elif opcode == PING:
                    self._send_frame(conn, PONG, payload)
                    with self._lock:
                        self.pings += 1
                elif opcode == CLOSE:
                    self._send_frame(conn, CLOSE, payload[:2])
                    return
        except (OSError, ConnectionError):
            return
        finally:
            with self._lock:
                if self._conn is conn:
                    self._conn = None
            conn.close()

    @staticmethod
    def _recv_exactly(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def _read_frame(self, conn: socket.socket) -> tuple[int, bytes]:
        b1, b2 = self._recv_exactly(conn, 2)
        assert b1 & 0x80, "fragmented frames are not expected from the client"
        length = b2 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._recv_exactly(conn, 2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._recv_exactly(conn, 8))
        mask = self._recv_exactly(conn, 4) if b2 & 0x80 else b"\0\0\0\0"
        data = self._recv_exactly(conn, length)
        return b1 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _send_frame(self, conn: socket.socket, opcode: int, payload: bytes) -> None:
        n = len(payload)  # servers send unmasked frames
        if n <= 125:
            header = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self._lock:  # one writer at a time
            conn.sendall(header + payload)


@pytest.fixture
def socket_bot(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    assert all(r.ok for r in ingest([str(SAMPLES)], store))
    library = Library.open(store, tmp_path / "index")
    slack = LocalSlack()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET="unused-in-socket-mode",
                        SLACK_API_URL=slack.base_url, QUOTEBOT_DATA_DIR=str(tmp_path))
    decisions: list[tuple[str, bool]] = []  # (event_id, first_time's answer), to know when a retry was judged

    class Recording(EventLog):
        def first_time(self, event_id: str) -> bool:
            answer = super().first_time(event_id)
            decisions.append((event_id, answer))
            return answer

    app = build_app(settings, library, Recording(store.engine))
    server = FakeSocketModeServer()
    slack.socket_url = server.url  # what apps.connections.open answers
    stop = threading.Event()
    # bot.serve's Socket Mode path as `quotebot serve` runs it: connect (apps.connections.open with
    # the app-level token, then the WebSocket), serve until stopped, close
    serving = threading.Thread(target=serve_socket_mode, args=(app, "xapp-1-A0LOCAL-1-test", stop), daemon=True)
    serving.start()
    try:
        wait_until(lambda: server.hellos, 5, "the client to connect")
        yield server, slack, decisions
    finally:
        stop.set()
        serving.join(10)
        assert not serving.is_alive(), "Socket Mode did not stop"
        server.close()
        slack.close()
        store.engine.dispose()
    [opened] = slack.calls("apps.connections.open")
    assert opened.authed and opened.status == 200


def envelope(
    kind: str, payload: dict, *, retry_attempt: int = 0, retry_reason: str = "", envelope_id: str | None = None
) -> dict:
    return {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": kind,
        "accepts_response_payload": kind != "events_api",
        "payload": payload,
        "retry_attempt": retry_attempt,
        "retry_reason": retry_reason,
    }


def test_socket_mode_end_to_end(socket_bot):
    server, slack, decisions = socket_bot

    # /quote: acked over the socket, the card arrives at the response_url
    reply = slack.response_url()
    command = envelope("slash_commands", dict(parse_qsl(slash_command_body("export controls", response_url=reply))))
    started = time.monotonic()
    server.send(command)
    wait_until(lambda: server.ack_for(command["envelope_id"]), 3, "the slash command's ack")
    assert time.monotonic() - started < 3
    card = wait_until(lambda: [c for c in slack.calls("response_url") if c.path == urlsplit(reply).path],
                      10, "the /quote card at the response_url")[-1].body
    quote = card["blocks"][0]["text"]
    assert quote["type"] == "mrkdwn" and quote["text"].startswith("> ")

    # @mention: acked, answered once in the mention's thread
    event = {"type": "app_mention", "user": "U123", "channel": "C1", "ts": "1700000900.000100",
             "text": "<@U0QUOTEBOT> export controls", "event_ts": "1700000900.000100"}
    callback = json.loads(event_body(event, event_id="EvSOCKET1", team_id=TEAM_ID))
    mention = envelope("events_api", callback)
    server.send(mention)
    wait_until(lambda: server.ack_for(mention["envelope_id"]), 3, "the event's ack")
    [post] = slack.wait_for("chat.postMessage", 1, timeout=10)
    assert post.body["channel"] == "C1" and post.body["thread_ts"] == "1700000900.000100"
    assert post.authed

    # Slack's retry of the same event: acked, judged a repeat, and nothing more is posted
    retry = envelope("events_api", callback, retry_attempt=1, retry_reason="timeout")
    server.send(retry)
    wait_until(lambda: server.ack_for(retry["envelope_id"]), 3, "the retry's ack")
    wait_until(lambda: decisions.count(("EvSOCKET1", False)) == 1, 5, "the retry to be judged")
    assert decisions.count(("EvSOCKET1", True)) == 1
    assert len(slack.calls("chat.postMessage")) == 1
