"""The long-running process (``quotebot serve``): the app, the index reloads and the digest
scheduler, started together and stopped gracefully on SIGTERM or Ctrl-C. Over HTTP it runs
gunicorn (``bot.httpd``, which says how the index, the reloads and the scheduler live in its
worker processes); in Socket Mode, one process.

Several replicas can run against one PostgreSQL: each keeps its own index, built or loaded at
start, and checks the shared library version every ``QUOTEBOT_RELOAD_S`` seconds; a changed
library is rebuilt into a new index folder and swapped in with one assignment, while requests go
on being answered from the old one. Digest claims and event de-duplication are rows in the shared
database, so they hold across replicas.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import App

from index.engine import BM25Index
from index.search import Library
from index.store import Store

from .alerts import Alerter, AlertLoop, AlertStore
from .app import build_app, web_client
from .background import Every
from .digests import DigestStore
from .events import EventLog
from .feedback import FeedbackStore
from .httpd import file_lock
from .observe import INDEX_RELOADS, ContextExecutor
from .schedule import Digester, Scheduler
from .serve import Web, http_server, serve_http, serve_socket_mode
from .settings import Settings
from .workspaces import Workspaces

log = logging.getLogger("quotebot.runner")


@dataclass
class Parts:
    store: Store
    library: Library
    workspaces: Workspaces
    digester: Digester
    alerter: Alerter
    feedback: FeedbackStore


def assemble(settings: Settings, store: Store, library: Library) -> Parts:
    """The pieces every Slack-facing command shares: workspaces, the digester, alerts and feedback."""
    digests, alerts = DigestStore(store.engine), AlertStore(store.engine)
    workspaces = Workspaces(settings, store.engine, web_client(settings, anonymous=settings.oauth), digests, alerts)
    digester = Digester(digests, library, workspaces.client_for)
    alerter = Alerter(alerts, library, workspaces.client_for, settle_s=settings.alert_settle_s)
    return Parts(store, library, workspaces, digester, alerter, FeedbackStore(store.engine))


def reload(library: Library, lock: Path | None = None, alerter: Alerter | None = None) -> None:
    """Swap in a new index when another process changed the library; then look for alert matches
    (``alerter``).

    With ``lock`` (several server processes on one data folder), the rebuild happens under that
    file lock, so one process builds and the others load what it built."""
    if lock is None:
        changed = library.refresh()
    else:
        if library.store.version() == library.version:
            return
        with file_lock(lock):
            changed = library.refresh()
    if changed:
        INDEX_RELOADS.inc()
        log.info("library changed: index reloaded at version %s, %d segments", library.version, library.size)
        if alerter is not None:
            alerter.run()


class Background:
    """What runs beside the requests in one serving process: the index reloads, the digest
    scheduler (only while ``leader()`` says so) and Bolt's listener pool, stopped in that order
    of need: answers already acknowledged are delivered, then the scheduler stops and releases
    its claims."""

    def __init__(self, settings: Settings, parts: Parts, executor: ContextExecutor,
                 leader: Callable[[], bool] = lambda: True, lock: Path | None = None):
        self.executor = executor
        self.leader = leader
        self.reloader = Every(settings.reload_s, lambda: reload(parts.library, lock, parts.alerter), "index-reload")
        # a search that meets a replaced segment reloads at once, the same way (under the same lock)
        parts.library.reload_now = lambda: reload(parts.library, lock, parts.alerter)
        self.scheduler = Scheduler(parts.digester, tick_s=settings.digest_tick_s, leader=leader)
        self.alerts = AlertLoop(parts.alerter, tick_s=settings.digest_tick_s, leader=leader)

    def start(self) -> None:
        self.reloader.job()  # the current index before the first request (a forked worker may have none)
        self.scheduler.start()
        self.reloader.start()
        self.alerts.start()

    def stop(self) -> None:
        log.info("stopping: finishing the work in flight (pid %d)", os.getpid())
        self.reloader.stop(timeout=1.0)  # a rebuild in progress is abandoned (a daemon thread)
        self.executor.shutdown(wait=True)  # answers already acknowledged still go out
        self.scheduler.stop(timeout=3.0)  # releases any digest claim still held
        self.alerts.stop(timeout=3.0)  # and any alert lease
        release = getattr(self.leader, "release", None)
        if release is not None:
            release()


def serve(settings: Settings, parts: Parts, host: str, port: int) -> int:
    """Serve Slack until SIGTERM or SIGINT: Socket Mode with SLACK_APP_TOKEN, else HTTP (gunicorn,
    or with ``QUOTEBOT_HTTP_SERVER=wsgiref`` the standard library's server, as a baseline)."""
    BM25Index.warm()  # the engine's compiled code, before the first request (and before fork)
    executor = ContextExecutor(max_workers=16, thread_name_prefix="listener")
    app = build_app(settings, parts.library, EventLog(parts.store.engine),
                    client=parts.workspaces.client, digests=parts.digester,
                    oauth_settings=parts.workspaces.oauth_settings(), executor=executor,
                    alerts=parts.alerter, feedback=parts.feedback, installations=parts.workspaces)
    workspaces = "many workspaces (OAuth: /slack/install)" if settings.oauth else "one workspace"
    if settings.slack_app_token is None and settings.http_server == "gunicorn":
        return _serve_gunicorn(settings, parts, app, executor, host, port, workspaces)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    background = Background(settings, parts, executor)
    background.start()
    try:
        if settings.slack_app_token is not None:
            log.info("Quotebot: Socket Mode, %s, %d segments.", workspaces, parts.library.size)
            serve_socket_mode(app, settings.slack_app_token.get_secret_value(), stop)
        else:
            server = http_server(app, parts.library, host, port)
            log.info("Quotebot: HTTP on %s:%d (wsgiref, a baseline only), %s, %d segments.", host,
                     server.server_port, workspaces, parts.library.size)
            serve_http(server, stop)
    finally:
        background.stop()
        log.info("stopped")
    return 0


def _serve_gunicorn(settings: Settings, parts: Parts, app: App, executor: ContextExecutor, host: str, port: int,
                    workspaces: str) -> int:
    from .httpd import Hooks, Leader, Options, Server, quick_exit, remove_metrics

    background = Background(settings, parts, executor, Leader(settings.data_dir / ".scheduler.lock"),
                            lock=settings.data_dir / ".index.lock")

    def ready(where: str) -> None:
        log.info("Quotebot: HTTP on %s (gunicorn, %d workers x %d threads; POST /slack/events, GET /healthz, "
                 "GET /metrics), %s, %d segments; digests every %g s, library checked every %g s.", where,
                 settings.workers, settings.threads, workspaces, parts.library.size, settings.digest_tick_s,
                 settings.reload_s)

    options = Options(host=host, port=port, workers=settings.workers, threads=settings.threads,
                      backlog=settings.backlog, keepalive_s=settings.keepalive_s,
                      request_timeout_s=settings.request_timeout_s, stop_timeout_s=settings.stop_timeout_s)
    hooks = Hooks(start=background.start, stop=background.stop,
                  after_fork=lambda: parts.store.engine.dispose(close=False), ready=ready,
                  spawned=parts.library.unload)
    Server(Web(app, parts.library), options, hooks).run()
    remove_metrics()
    log.info("stopped")
    quick_exit(0)
    return 0
