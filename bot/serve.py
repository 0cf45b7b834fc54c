"""The WSGI app every HTTP server runs, the standard library's server for tests, and Socket Mode.

HTTP: ``POST /slack/events`` (commands, events, interactions), ``GET /slack/install`` and
``GET /slack/oauth_redirect`` (OAuth, when configured), ``GET /healthz`` and ``GET /metrics``
(Prometheus). Each request gets a request id (the proxy's ``X-Request-Id``, or a new one), sent
back in the response and put on every log line it causes, and is logged as one line: method,
path, status, milliseconds and, for a refused request, why. No request body is ever logged.

Before anything reads a body (``Web.__call__``):

- a body over ``MAX_BODY`` (1 MiB; Slack's payloads are a few KiB) gets 413 without being read,
  judged by ``Content-Length``; a chunked body is read to at most ``MAX_BODY`` + 1 bytes;
- ``POST /slack/events`` checks Slack's v0 signature over the raw bytes first: a missing or
  non-integer ``X-Slack-Request-Timestamp`` gets 400, a stale one (over 5 minutes) or a bad
  signature 401 (https://api.slack.com/authentication/verifying-requests-from-slack); only a
  signed body is decoded and parsed, and one that is not UTF-8, not JSON, nested too deep, or a
  ``payload=`` that is not a JSON object gets 400. Nothing here raises to the server: a fault in
  the app is logged as one line and answered 500.

The production server is gunicorn (``bot.httpd``); ``http_server`` (the standard library's
``wsgiref``, one thread per connection) is kept for in-process tests and as the baseline that
``bench/load.py`` measures beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler

from .observe import INDEX_SEGMENTS, LATENCY, LIBRARY_VERSION, REQUESTS, metrics_text, new_request_id, request_id

log = logging.getLogger("quotebot.serve")

SLACK_PATHS = ("/slack/events", "/slack/install", "/slack/oauth_redirect")
PROBE_PATHS = ("/healthz", "/metrics")  # polled by health checks and scrapers: logged at DEBUG
MAX_BODY = 1024 * 1024  # bytes; Slack's largest payloads (a modal's view) are tens of KiB
MAX_CLOCK_SKEW_S = 300  # Slack's rule: refuse a request whose timestamp is over 5 minutes off

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class Indexed(Protocol):
    """What the health check and metrics read of the library."""

    @property
    def size(self) -> int: ...

    @property
    def version(self) -> int | None: ...


class Refused(Exception):
    """A request answered with a 4xx before it reached the app; ``reason`` goes in the log line."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature_ok(secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
    """Check Slack's v0 signature of a raw ``body``; raises ``Refused`` (400 or 401) when it fails.

    ``timestamp`` (None: the header is absent, 401) must be whole seconds (ASCII digits, else
    400) within ``MAX_CLOCK_SKEW_S`` of ``now``;
    ``signature`` is ``v0=`` + hex HMAC-SHA256 of ``b"v0:" + timestamp + b":" + body``.
    """
    if timestamp is None:
        raise Refused("401 Unauthorized", "unsigned: no X-Slack-Request-Timestamp")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Refused("400 Bad Request", "X-Slack-Request-Timestamp is not whole seconds")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise Refused("401 Unauthorized", "stale or future timestamp")
    if not signature:
        raise Refused("401 Unauthorized", "unsigned: no X-Slack-Signature")
    mac = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"v0={mac}", signature):
        raise Refused("401 Unauthorized", "bad signature")


def parse_slack_body(body: bytes, content_type: str) -> str:
    """The body as text, once it is known to parse the way Bolt will parse it; else ``Refused`` (400).

    JSON (``application/json``, or a body starting with ``{``) must be an object; a form body's
    ``payload`` field, when present, must be a JSON object. Depth is bounded by the JSON
    decoder's recursion limit, caught here.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("400 Bad Request", "body is not UTF-8") from None
    if not text:
        return text
    try:
        if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
            value = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" not in text or "payload" not in form:
                return text
            value = json.loads(form["payload"])
    except RecursionError:
        raise Refused("400 Bad Request", "JSON nested too deep") from None
    except ValueError:
        raise Refused("400 Bad Request", "malformed JSON") from None
    if not isinstance(value, dict):
        raise Refused("400 Bad Request", "JSON body is not an object")
    problem = shape_problem(value)
    if problem:
        raise Refused("400 Bad Request", problem)
    return text


# The fields Bolt reads before any listener runs (slack_bolt.request.internals, its matchers),
# with the types Slack sends: a payload that breaks them is refused here rather than failing there.
_TEXT_FIELDS = ("type", "callback_id", "command", "text", "response_url", "trigger_id", "api_app_id", "team_id",
                "user_id", "channel_id", "event_id", "token")
_OBJECT_FIELDS = ("event", "view", "message", "container", "state")
_ID_FIELDS = ("team", "user", "channel", "enterprise")  # an object with an id, or the id itself


def shape_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a Slack payload's top-level fields, or None."""
    for name in _TEXT_FIELDS:
        if name in body and not isinstance(body[name], str):
            return f"field {name!r} is not a string"
    for name in _OBJECT_FIELDS:
        if name in body and body[name] is not None and not isinstance(body[name], dict):
            return f"field {name!r} is not an object"
    for name in _ID_FIELDS:
        if name in body and not isinstance(body[name], dict | str | None):
            return f"field {name!r} is not an object or an id"
    event = body.get("event")
    if isinstance(event, dict) and "type" in event and not isinstance(event["type"], str):
        return "field 'event.type' is not a string"
    for name in ("actions", "authorizations"):
        items = body.get(name)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return f"field {name!r} is not a list of objects"
        for item in items:
            if name == "actions" and not isinstance(item.get("action_id", ""), str):
                return "field 'actions[].action_id' is not a string"
    if body.get("type") == "block_actions" and not body.get("actions"):
        return "block_actions without actions"
    return None


class Web:
    """The WSGI app: limits, Slack's signature, then Bolt; health and metrics.

    ``app``: the Bolt app (its signing secret is used unless ``signing_secret`` is given);
    ``library``: what ``/healthz`` and ``/metrics`` report.
    """

    def __init__(self, app: App, library: Indexed, signing_secret: str | None = None,
                 clock: Callable[[], float] = time.time):
        self.app = app
        self.oauth = SlackRequestHandler(app, path="/slack/events")
        secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", None)
        if not secret:
            raise ValueError("Web needs the Slack signing secret")
        self.secret = secret.encode()
        self.library = library
        self.clock = clock

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        rid = new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        token = request_id.set(rid)
        started = time.perf_counter()
        seen = {"status": "500", "reason": ""}

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, [*headers, ("X-Request-Id", rid)], exc_info)

        try:
            try:
                return self._route(path, method, environ, respond)
            except Refused as refused:
                seen["reason"] = refused.reason
                return _json(respond, refused.status, {"error": refused.reason})
            except Exception:
                log.exception("%s %s failed", method, _label(path))
                seen["reason"] = "internal error"
                return _json(respond, "500 Internal Server Error", {"error": "internal error"})
        finally:
            elapsed = time.perf_counter() - started
            label = _label(path)
            REQUESTS.labels(label, seen["status"]).inc()
            LATENCY.labels(label).observe(elapsed)
            reason = f" ({seen['reason']})" if seen["reason"] else ""
            log.log(logging.DEBUG if label in PROBE_PATHS else logging.INFO, "%s %s %s %.1f ms%s",
                    method[:16], label, seen["status"], elapsed * 1000, reason)
            request_id.reset(token)

    def _route(self, path: str, method: str, environ: Environ, respond: StartResponse) -> Iterable[bytes]:
        body = read_body(environ)  # 413 before anything is read
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _json(respond, "200 OK", {"status": "ok", "segments": self.library.size,
                                              "library_version": self.library.version})
        if path == "/metrics" and method == "GET":
            INDEX_SEGMENTS.set(self.library.size)
            LIBRARY_VERSION.set(self.library.version or 0)
            text = metrics_text()
            respond("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(text)))])
            return [text]
        if path == "/slack/events" and method == "POST":
            return self._slack(environ, body(), respond)
        if path in ("/slack/install", "/slack/oauth_redirect") and method == "GET":
            return self.oauth(environ, respond)
        if path in SLACK_PATHS:
            return _json(respond, "405 Method Not Allowed", {"error": "method not allowed"})
        return _json(respond, "404 Not Found", {"error": "not found"})

    def _slack(self, environ: Environ, raw: bytes, respond: StartResponse) -> Iterable[bytes]:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        signature_ok(self.secret, None if timestamp is None else timestamp.strip(),
                     None if signature is None else signature.strip(), raw, self.clock())
        text = parse_slack_body(raw, environ.get("CONTENT_TYPE", ""))
        headers = {k: v for k, v in ((_header_name(k), v) for k, v in environ.items()) if k}
        try:
            request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=headers)
        except Exception as exc:  # noqa: BLE001 - a body Bolt cannot read: the sender's fault
            raise Refused("400 Bad Request", f"unreadable request ({type(exc).__name__})") from None
        response: BoltResponse = self.app.dispatch(request)
        body = (response.body or "").encode()
        out = [(name, value) for name, values in response.headers.items() for value in values
               if name.lower() != "content-length"]
        respond(f"{response.status} {_REASONS.get(response.status, 'Status')}",
                [*out, ("Content-Length", str(len(body)))])
        return [body]


_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _label(path: str) -> str:
    return path if path in SLACK_PATHS or path in PROBE_PATHS else "other"


def _header_name(key: str) -> str | None:
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.lower().replace("_", "-")
    if key.startswith("HTTP_"):
        return key[5:].lower().replace("_", "-")
    return None


def read_body(environ: Environ) -> Callable[[], bytes]:
    """Refuse (413) a body declared over ``MAX_BODY`` before reading a byte of it; else a
    function that reads it (a chunked one to at most ``MAX_BODY`` + 1 bytes, then 413)."""
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if declared:
        if not declared.isdigit():
            raise Refused("400 Bad Request", "bad Content-Length")
        if int(declared) > MAX_BODY:
            raise Refused("413 Content Too Large", f"body of {int(declared)} bytes, over {MAX_BODY}")

    def read() -> bytes:
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        if declared:
            data: bytes = stream.read(int(declared))
            if len(data) < int(declared):
                raise Refused("400 Bad Request", "body shorter than its Content-Length")
            return data
        if not chunked:
            return b""
        data = stream.read(MAX_BODY + 1)
        if len(data) > MAX_BODY:
            raise Refused("413 Content Too Large", f"chunked body over {MAX_BODY} bytes")
        return bytes(data)

    return read


def _json(respond: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    respond(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = False  # at stop, server_close() waits for the requests in flight
    block_on_close = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # Web logs each request, with its id


def http_server(app: App, library: Indexed, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """The standard library's threaded HTTP server running ``Web`` (port 0 picks a free port); call
    ``serve_forever()``. For in-process tests and as a benchmark baseline: ``quotebot serve`` runs
    gunicorn (``bot.httpd``)."""
    return make_server(host, port, Web(app, library), server_class=_ThreadingServer, handler_class=_QuietHandler)


@contextmanager
def serving(app: App, library: Indexed, host: str = "127.0.0.1") -> Iterator[str]:
    """``http_server`` on a free port of ``host``, serving from a daemon thread: yields its base URL
    (``http://host:port``); on leaving, it stops taking requests and closes. For in-process tests
    and benchmarks."""
    server = http_server(app, library, host, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def serve_http(server: WSGIServer, stop: threading.Event) -> None:
    """Serve until ``stop`` is set, then stop taking requests and let those in flight finish."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http")
    thread.start()
    stop.wait()
    server.shutdown()  # no new requests
    thread.join()
    server.server_close()  # joins the request threads still running


def serve_socket_mode(app: App, app_token: str, stop: threading.Event) -> None:
    """Socket Mode (no public URL needed) until ``stop`` is set."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    handler.connect()
    stop.wait()
    handler.close()
