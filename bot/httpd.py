"""``quotebot serve`` over HTTP: gunicorn, with gthread workers, in front of ``bot.serve.Web``.

Why gunicorn's gthread workers: the app is WSGI and its listeners are threaded, blocking code
(Bolt's ``App``, SQLAlchemy, slack_sdk's ``WebClient``). Bolt's ASGI adapter would run that same
blocking ``App.dispatch`` on the event loop, or need an ``AsyncApp`` and async storage throughout;
gthread keeps the code and adds what ``wsgiref`` lacks (README, "The HTTP server", has the figures).

The process model (``QUOTEBOT_WORKERS`` processes of ``QUOTEBOT_THREADS`` threads each):

- the master opens the store and the index (building it if the library changed) *before* forking,
  so workers start with the index already loaded, then drops its own copy: the index is held
  once per worker, never by the master (``bench/load.py`` prints RSS and PSS per process). A
  worker forked later (one replaced after a crash) loads the saved index from disk at start;
- every worker checks the library version every ``QUOTEBOT_RELOAD_S``; the first to see a change
  rebuilds the index under a file lock (``<data dir>/.index.lock``) and the others, waiting on the
  lock, then load what it built: one build per change, not one per worker;
- one worker at a time runs the digest scheduler: the one holding ``<data dir>/.scheduler.lock``
  (another takes over within a tick if it dies). Claims in the database still make replicas safe;
- a pooled database connection is never shared across a fork (the pool is reset after it).

Limits: ``Web`` answers 413 to a body over 1 MiB without reading it (``pre_request`` also marks the
connection to close, so the server does not drain it either); gunicorn bounds the request line
(4094 bytes), the header count (``MAX_HEADERS``) and each header's size (8190 bytes), answering
400. Requests are read in the worker's event loop and reach a thread only once whole; a
connection whose request has not arrived within ``QUOTEBOT_REQUEST_TIMEOUT_S`` (one that sends
nothing included) is dropped (``Worker``), so neither idle nor slow clients hold a thread. A
connection idle between requests is closed after ``QUOTEBOT_KEEPALIVE_S`` (65 s: longer than the
60 s idle timeout of common load balancers, so the server never closes a connection that a
balancer is about to reuse).

Stopping: SIGTERM or SIGINT (Docker's stop signal, Ctrl-C) stop gracefully: no new connections;
requests in flight finish; idle and slow connections are closed within ``STOP_LINGER_S``; each
worker then delivers the answers already acknowledged (Bolt's listener pool), stops its scheduler
and releases its digest claims. Everything is bounded by ``QUOTEBOT_STOP_TIMEOUT_S`` (8 s), inside
Docker's 10 s.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import logging
import math
import os
import re
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import TConn, ThreadWorker

log = logging.getLogger("quotebot.httpd")

MAX_HEADERS = 64  # Slack sends about 12; proxies and load balancers add a few
MAX_REQUEST_LINE = 4094  # bytes (gunicorn's default): OAuth redirects carry a code and a state
MAX_HEADER_SIZE = 8190  # bytes per header (gunicorn's default)
STOP_LINGER_S = 2.0  # at stop, how long an idle or slow connection may stay before it is closed
RECV_SLICE_S = 0.5  # a blocked read wakes this often to check its deadline
# gunicorn's heartbeat file (a worker touches it to tell the master it lives): in memory, where a
# container has it, not on the container's disk (gunicorn's advice for Docker)
SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 - a fixed system folder, not a guessable temp file


def prepare_metrics(workers: int) -> Path | None:
    """With several workers, a folder for prometheus_client's per-process files, set in
    ``PROMETHEUS_MULTIPROC_DIR``. Call before ``bot.observe`` (prometheus_client) is imported."""
    if workers <= 1:
        return None
    folder = Path(tempfile.mkdtemp(prefix="quotebot-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    master = os.getpid()

    def remove() -> None:
        if os.getpid() == master:  # atexit also runs when a forked worker exits
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder


def remove_metrics() -> None:
    """Remove the multiprocess metrics folder (``quick_exit`` skips atexit)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and folder.startswith(tempfile.gettempdir()) and "quotebot-metrics-" in folder:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def file_lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block; yields False,
    without waiting, when ``wait`` is False and another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Leader:
    """True in the one process that holds ``path``'s lock, which it keeps until it exits."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: Any = None

    def __call__(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the lock
            self._handle = None


# --- the worker ---------------------------------------------------------------------------------


class _Deadline:
    """The socket a request is read from: ``recv`` gives up (returns b"", as if the client had
    closed) once ``deadline`` passes, or the worker's stop deadline does."""

    def __init__(self, sock: socket.socket, worker: Worker, client: Any):
        self.sock = sock
        self.worker = worker
        self.client = client
        self.deadline = float("inf")

    def recv(self, size: int) -> bytes:
        while True:
            now = time.monotonic()
            end = min(self.deadline, self.worker.stop_deadline)
            if now >= end:
                log.warning("dropped a connection from %s: its request did not arrive within %g s",
                            self.client[0] if isinstance(self.client, tuple) else "?",
                            self.worker.request_timeout if end == self.deadline else STOP_LINGER_S)
                return b""
            self.sock.settimeout(min(end - now, RECV_SLICE_S))
            try:
                return self.sock.recv(size)
            except TimeoutError:
                continue
            finally:
                self.sock.settimeout(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class _Conn(TConn):
    """A connection whose every request must arrive whole within the request timeout."""

    def __init__(self, worker: Worker, *args: Any):
        super().__init__(*args)
        self.worker = worker

    def init(self) -> None:  # called by ThreadWorker.handle before each request is read
        super().init()
        unreader = getattr(self.parser, "unreader", None)
        if unreader is None or not hasattr(unreader, "sock"):
            return
        if not isinstance(unreader.sock, _Deadline):
            unreader.sock = _Deadline(unreader.sock, self.worker, self.client)
        unreader.sock.deadline = time.monotonic() + self.worker.request_timeout


class Worker(ThreadWorker):
    """gunicorn's gthread worker, changed so that no client can hold a thread by being slow:

    - a connection's request is read in the worker's event loop, without blocking, into a buffer,
      and handed to a thread only once it has arrived whole (line, headers and a body of up to
      ``MAX_BODY``; a larger body is not waited for, as it gets 413 unread). A connection whose
      request has not arrived whole within the request timeout (counted from the connection, or
      from its first byte) is closed, so one that sends nothing goes then too. (gthread would give
      a new connection a thread and block it on reads: a few slow clients could starve them all.)
    - kept-alive connections go through the same buffering for their next request;
    - reads in a thread still have a deadline (``_Conn``), and at stop everything waiting for a
      request is closed within ``STOP_LINGER_S``;
    - SIGINT stops gracefully, like SIGTERM (Ctrl-C reaches every process of the group).
    """

    stop_deadline = float("inf")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arriving: dict[_Conn, _Arrival] = {}

    @property
    def request_timeout(self) -> float:
        return float(getattr(self.app, "request_timeout", 10.0))

    def init_signals(self) -> None:
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.stop_deadline = time.monotonic() + STOP_LINGER_S
        super().handle_exit(sig, frame)

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED):  # taken, or gone
                return
            raise
        self.nr_conns += 1
        conn = _Conn(self, self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        self._await_request(conn)

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection has data: buffer its next request too, off the threads."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_request(conn)

    def _await_request(self, conn: _Conn) -> None:
        # a new connection has the request timeout to start; a kept-alive one had its idle time already
        self.arriving[conn] = _Arrival(idle_until=time.monotonic() + self.request_timeout)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))

    def _on_bytes(self, conn: _Conn, sock: Any) -> None:
        arrival = self.arriving[conn]
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client left
            self._drop(conn)
            return
        if not arrival.buffer:
            arrival.due = time.monotonic() + self.request_timeout
        arrival.buffer += data
        if not request_complete(arrival.buffer):
            return
        self.poller.unregister(conn.sock)
        del self.arriving[conn]
        conn.sock.setblocking(True)
        conn.init()  # the parser, reading the buffered request first
        unreader = conn.parser.unreader
        unreader.buf.seek(0, 2)
        unreader.buf.write(bytes(arrival.buffer))
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: _Conn) -> None:
        self.arriving.pop(conn, None)
        with contextlib.suppress(OSError, KeyError, ValueError):  # already unregistered
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn, arrival in list(self.arriving.items()):
            limit = min(arrival.due if arrival.buffer else arrival.idle_until, self.stop_deadline)
            if now >= limit:
                if arrival.buffer:
                    log.warning("dropped a connection from %s: its request did not arrive within %g s",
                                conn.client[0] if isinstance(conn.client, tuple) else "?",
                                self.request_timeout if limit == arrival.due else STOP_LINGER_S)
                self._drop(conn)

    def _cap_keepalive(self, deadline: float) -> None:
        super()._cap_keepalive(deadline)
        self.murder_pending()


@dataclass
class _Arrival:
    """A request being received: the bytes so far; when the connection may idle until (no byte
    yet) and when the whole request is due (from its first byte)."""

    idle_until: float
    due: float = float("inf")
    buffer: bytearray = field(default_factory=bytearray)


_HEADER_END = b"\r\n\r\n"
_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r]*chunked", re.IGNORECASE)
_EXPECT = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue", re.IGNORECASE)
MAX_HEAD = MAX_REQUEST_LINE + 2 + MAX_HEADERS * (MAX_HEADER_SIZE + 2) + 2  # bytes


def request_complete(buffer: bytearray) -> bool:
    """Whether ``buffer`` holds a whole HTTP/1 request to hand to the parser: its head, and its
    body unless that is over ``MAX_BODY`` (refused unread) or awaits ``100 Continue``. A head over
    the limits counts as complete too: the parser then refuses it (400 or 431)."""
    from .serve import MAX_BODY

    end = buffer.find(_HEADER_END)
    if end < 0:
        return len(buffer) > MAX_HEAD
    head = bytes(buffer[:end])
    body = len(buffer) - end - len(_HEADER_END)
    if _EXPECT.search(head):
        return True
    if _CHUNKED.search(head):
        return buffer.endswith(b"0\r\n\r\n") or body > MAX_BODY
    length = _LENGTH.search(head)
    if length is None:
        return True
    return int(length.group(1)) > MAX_BODY or body >= int(length.group(1))


# --- logging and the master ---------------------------------------------------------------------


class _Logs(glogging.Logger):
    """gunicorn's messages go to the standard logging setup (JSON or text, scrubbed, one line
    each); its access log stays off, as ``Web`` logs each request with its id."""

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        self.loglevel = logging.getLogger().getEffectiveLevel()
        self.error_log.handlers[:] = []
        self.error_log.propagate = True
        self.error_log.setLevel(logging.NOTSET)
        self.access_log.handlers[:] = []
        self.access_log.propagate = False
        self._access_log_enabled = False

    def access(self, *args: Any, **kwargs: Any) -> None:
        return None

    def reopen_files(self) -> None:
        return None

    def close_on_exec(self) -> None:
        return None


class _Arbiter(Arbiter):
    def handle_int(self) -> None:
        """SIGINT (Docker's stop signal here, Ctrl-C) stops gracefully, as SIGTERM does."""
        raise StopIteration

    def spawn_workers(self) -> None:
        super().spawn_workers()  # a worker never comes back here: it exits inside
        self.app.hooks.spawned()


@dataclass
class Options:
    """The server's settings (``bot.settings.Settings`` fills them from the environment)."""

    host: str = "0.0.0.0"
    port: int = 3000
    workers: int = 1
    threads: int = 8
    backlog: int = 1024
    keepalive_s: float = 65.0
    request_timeout_s: float = 10.0
    stop_timeout_s: float = 8.0
    max_connections: int = 1000


@dataclass
class Hooks:
    """What runs around the workers: ``start`` in each worker once it is forked, ``stop`` in it at
    exit (bounded by the stop timeout), ``after_fork`` right after the fork (reset what a fork must
    not share), ``ready`` in the master once it listens, ``spawned`` in the master each time it
    has forked workers (it then drops what only they need)."""

    start: Callable[[], None]
    stop: Callable[[], None]
    after_fork: Callable[[], None]
    ready: Callable[[str], None] = field(default=lambda where: None)
    spawned: Callable[[], None] = field(default=lambda: None)  # in the master, after forking workers


class Server(BaseApplication):
    """gunicorn run in this process: ``Server(web, options, hooks).run()`` returns when stopped."""

    def __init__(self, web: Callable[..., Any], options: Options, hooks: Hooks):
        self.web = web
        self.options = options
        self.hooks = hooks
        self.request_timeout = options.request_timeout_s
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        values: dict[str, Any] = {
            "bind": [f"[{o.host}]:{o.port}" if ":" in o.host else f"{o.host}:{o.port}"],
            "workers": o.workers,
            "worker_class": f"{__name__}.Worker",
            "threads": o.threads,
            "worker_connections": o.max_connections,
            "backlog": o.backlog,
            "keepalive": max(1, math.ceil(o.keepalive_s)),  # gunicorn takes whole seconds
            "graceful_timeout": max(1, math.floor(o.stop_timeout_s)),
            "timeout": 30,  # a worker whose main loop stops answering the master is restarted
            "limit_request_line": MAX_REQUEST_LINE,
            "limit_request_fields": MAX_HEADERS,
            "limit_request_field_size": MAX_HEADER_SIZE,
            "preload_app": True,
            "logger_class": f"{__name__}._Logs",
            "accesslog": None,
            "control_socket_disable": True,  # no extra thread in the master, no socket file
            "proc_name": "quotebot",
            "post_fork": lambda arbiter, worker: self.hooks.after_fork(),
            "post_worker_init": lambda worker: self.hooks.start(),
            "worker_exit": self._worker_exit,
            "pre_request": _close_after_oversized,
            "when_ready": lambda arbiter: self.hooks.ready(
                f"{o.host}:{arbiter.LISTENERS[0].sock.getsockname()[1]}" if arbiter.LISTENERS else "?"),
            "child_exit": _forget_metrics,
        }
        if SHARED_MEMORY.is_dir():
            values["worker_tmp_dir"] = str(SHARED_MEMORY)
        for key, value in values.items():
            self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:
        return self.web

    def _worker_exit(self, arbiter: Any, worker: Any) -> None:
        if worker.pid != os.getpid():  # the master also calls this hook for a worker it lost
            return
        try:
            self.hooks.stop()
        finally:
            quick_exit(0)

    def run(self) -> None:
        master = os.getpid()
        try:
            _Arbiter(self).run()
        except SystemExit as exc:
            if exc.code not in (0, None) or os.getpid() != master:  # a worker's exit goes on up
                raise


def quick_exit(code: int) -> None:
    """Exit now, once the logs are flushed: tearing down the interpreter's heap (the index's
    objects) would take seconds of the stop's budget for nothing."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _close_after_oversized(worker: Any, req: Any) -> None:
    """A body ``Web`` refuses unread must not be drained for keep-alive: close the connection."""
    from .serve import MAX_BODY

    for name, value in req.headers:
        oversized = name == "CONTENT-LENGTH" and (not value.strip().isdigit() or int(value) > MAX_BODY)
        if oversized or name == "TRANSFER-ENCODING":
            req.must_close = True


def _forget_metrics(arbiter: Any, worker: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
