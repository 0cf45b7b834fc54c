"""What operators see: JSON log lines with a request id and no tokens, and Prometheus metrics.

The request id comes from the ``X-Request-Id`` header (a proxy's) or is made here; it lives in a
context variable, which ``ContextExecutor`` carries into Bolt's listener threads, so a handler's
log lines name the request that caused them.

Every log record is one line: a CR or LF in a message (a field some caller sent) is written as
``\\r`` / ``\\n``, and a traceback's lines are indented in text format, so nothing a caller sends
can forge a log line. Bolt's two messages that quote a request body (a bad signature, an
unhandled request) are cut to their first words: no request body is ever logged.

Metrics: with several server processes (gunicorn workers), ``PROMETHEUS_MULTIPROC_DIR`` is set
before this module is imported (``bot.httpd.prepare_metrics``) and ``metrics_text`` adds up every
process's values (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUESTS = Counter("quotebot_requests", "HTTP requests served", ["path", "status"])
LATENCY = Histogram("quotebot_request_seconds", "Time to answer an HTTP request", ["path"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
INDEX_SEGMENTS = Gauge("quotebot_index_segments", "Segments in the loaded index", multiprocess_mode="livemax")
LIBRARY_VERSION = Gauge("quotebot_library_version", "Library version of the loaded index",
                        multiprocess_mode="livemax")
INDEX_RELOADS = Counter("quotebot_index_reloads", "New indexes swapped in after the library changed")
DIGEST_POSTS = Counter("quotebot_digest_sends", "Digest sends by outcome", ["outcome"])
for _outcome in ("posted", "empty", "already", "busy", "failed", "gone"):
    DIGEST_POSTS.labels(_outcome)  # shown at 0 before the first send

# Bolt's messages that quote a request body (slack_bolt.logger.messages, request_verification)
_QUOTES_BODY = re.compile(r"^(Invalid request signature detected|Unhandled request)\b")
MAX_MESSAGE = 8192  # characters; a longer message is cut, so no one record floods the log


def metrics_text() -> bytes:
    """The Prometheus text exposition of every metric, summed over the server's processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


_SECRET = re.compile(r"\b(xox[abposr]|xapp|xoxe(?:\.xox[bp])?)-[A-Za-z0-9-]+")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def new_request_id(given: str | None) -> str:
    """The proxy's id when it is a sane one, else a fresh one."""
    cleaned = _SAFE_ID.sub("", given or "")[:64]
    return cleaned or uuid.uuid4().hex


def scrub(text: str) -> str:
    """``text`` with anything shaped like a Slack token replaced."""
    return _SECRET.sub(lambda m: f"{m.group(1)}-[redacted]", text)


def one_line(text: str) -> str:
    """``text`` with CR and LF written as ``\\r`` and ``\\n``: one log line whatever it holds."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


class _Context(logging.Filter):
    """Adds the request id; scrubs tokens; keeps each message on one line and request bodies out."""

    def __init__(self, indent_tracebacks: bool = False):
        super().__init__()
        self.indent = indent_tracebacks

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        message = record.getMessage()
        quoted = _QUOTES_BODY.match(message)
        clean = one_line(scrub(f"{quoted.group(1)} (request body not logged)" if quoted else message))
        if len(clean) > MAX_MESSAGE:
            clean = clean[:MAX_MESSAGE] + f"... ({len(clean) - MAX_MESSAGE} more characters)"
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text = scrub(record.exc_text)
            # a traceback spans lines: in text format each is indented, so none can pass for a record
            record.exc_text = "\n".join("    " + line for line in text.splitlines()) if self.indent else text
            record.exc_info = None  # formatters then print exc_text, scrubbed, rather than format it again
        return True


def setup_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Log to stderr: one JSON object per line (``fmt="json"``) or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context(indent_tracebacks=fmt != "json"))
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


T = TypeVar("T")


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool that runs each task in the submitter's context (its request id)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
