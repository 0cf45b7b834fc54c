"""Serving the app: HTTP mode (``POST /slack/events``, ``GET /healthz``) or Socket Mode."""

from __future__ import annotations

import json
import logging
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("quotebot.serve")


class Web:
    """The WSGI app: Slack's requests go to Bolt (which verifies their signatures); /healthz answers liveness."""

    def __init__(self, app: App, library):
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.library = library

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            body = json.dumps({"status": "ok", "segments": self.library.size,
                               "library_version": self.library.version}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/slack/events":
            return self.slack(environ, start_response)
        body = b'{"error": "not found"}'
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # requests are handled concurrently


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s - %s", self.address_string(), format % args)


def http_server(app: App, library, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """A threaded HTTP server for the app (port 0 picks a free port); call serve_forever()."""
    return make_server(host, port, Web(app, library), server_class=_ThreadingServer, handler_class=_QuietHandler)


def socket_mode(app: App, app_token: str) -> None:
    """Socket Mode: no public URL needed; blocks until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
