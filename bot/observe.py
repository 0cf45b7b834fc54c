"""What operators see: JSON log lines with a request id and no tokens, and Prometheus metrics.

The request id comes from the ``X-Request-Id`` header (a proxy's) or is made here; it lives in a
context variable, which ``ContextExecutor`` carries into Bolt's listener threads, so a handler's
log lines name the request that caused them.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

from prometheus_client import Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUESTS = Counter("quotebot_requests", "HTTP requests served", ["path", "status"])
LATENCY = Histogram("quotebot_request_seconds", "Time to answer an HTTP request", ["path"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
INDEX_SEGMENTS = Gauge("quotebot_index_segments", "Segments in the loaded index")
LIBRARY_VERSION = Gauge("quotebot_library_version", "Library version of the loaded index")
INDEX_RELOADS = Counter("quotebot_index_reloads", "New indexes swapped in after the library changed")
DIGEST_POSTS = Counter("quotebot_digest_sends", "Digest sends by outcome", ["outcome"])
for _outcome in ("posted", "empty", "already", "busy", "failed"):
    DIGEST_POSTS.labels(_outcome)  # shown at 0 before the first send

_SECRET = re.compile(r"\b(xox[abposr]|xapp|xoxe(?:\.xox[bp])?)-[A-Za-z0-9-]+")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def new_request_id(given: str | None) -> str:
    """The proxy's id when it is a sane one, else a fresh one."""
    cleaned = _SAFE_ID.sub("", given or "")[:64]
    return cleaned or uuid.uuid4().hex


def scrub(text: str) -> str:
    """``text`` with anything shaped like a Slack token replaced."""
    return _SECRET.sub(lambda m: f"{m.group(1)}-[redacted]", text)


class _Context(logging.Filter):
    """Adds the request id, and scrubs tokens from the message and the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        message = record.getMessage()
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def setup_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Log to stderr: one JSON object per line (``fmt="json"``) or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context())
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


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool that runs each task in the submitter's context (its request id)."""

    def submit(self, fn, /, *args, **kwargs):
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
