"""Serving the app: HTTP mode or Socket Mode, with a graceful stop.

HTTP: ``POST /slack/events`` (Bolt verifies each request's signature), ``GET /slack/install`` and
``GET /slack/oauth_redirect`` (OAuth, when configured), ``GET /healthz`` and ``GET /metrics``
(Prometheus). Each request gets a request id (the proxy's ``X-Request-Id``, or a new one), sent
back in the response and put on every log line it causes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from .observe import INDEX_SEGMENTS, LATENCY, LIBRARY_VERSION, REQUESTS, new_request_id, request_id

log = logging.getLogger("quotebot.serve")

SLACK_PATHS = ("/slack/events", "/slack/install", "/slack/oauth_redirect")
PROBE_PATHS = ("/healthz", "/metrics")  # polled by health checks and scrapers: logged at DEBUG


class Web:
    """The WSGI app."""

    def __init__(self, app: App, library):
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.library = library

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        rid = new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        token = request_id.set(rid)
        started = time.perf_counter()
        status_seen = ["500"]

        def respond(status, headers, exc_info=None):
            status_seen[0] = status.split(" ", 1)[0]
            return start_response(status, [*headers, ("X-Request-Id", rid)], exc_info)

        try:
            return self._route(path, method, environ, respond)
        finally:
            elapsed = time.perf_counter() - started
            label = path if path in SLACK_PATHS or path in PROBE_PATHS else "other"
            REQUESTS.labels(label, status_seen[0]).inc()
            LATENCY.labels(label).observe(elapsed)
            log.log(logging.DEBUG if label in PROBE_PATHS else logging.INFO, "%s %s %s %.1f ms", method, label, status_seen[0],
                    elapsed * 1000)
            request_id.reset(token)

    def _route(self, path, method, environ, respond):
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _json(respond, "200 OK", {"status": "ok", "segments": self.library.size,
                                              "library_version": self.library.version})
        if path == "/metrics" and method == "GET":
            INDEX_SEGMENTS.set(self.library.size)
            LIBRARY_VERSION.set(self.library.version or 0)
            body = generate_latest()
            respond("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
            return [body]
        if path in SLACK_PATHS:
            return self.slack(environ, respond)
        return _json(respond, "404 Not Found", {"error": "not found"})


def _json(respond, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    respond(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = False  # at stop, server_close() waits for the requests in flight
    block_on_close = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass  # Web logs each request, with its id


def http_server(app: App, library, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """A threaded HTTP server for the app (port 0 picks a free port); call serve_forever()."""
    return make_server(host, port, Web(app, library), server_class=_ThreadingServer, handler_class=_QuietHandler)


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
