"""The long-running process (``quotebot serve``): the app, the index reloads and the digest
scheduler, started together and stopped gracefully on SIGTERM or Ctrl-C.

Several replicas can run against one PostgreSQL: each keeps its own index, built or loaded at
start, and checks the shared library version every ``QUOTEBOT_RELOAD_S`` seconds; a changed
library is rebuilt into a new index folder and swapped in with one assignment, while requests go
on being answered from the old one. Digest claims and event de-duplication are rows in the shared
database, so they hold across replicas.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass

from index.search import Library
from index.store import Store

from .alerts import Alerter, AlertLoop, AlertStore
from .app import build_app, web_client
from .background import Every
from .digests import DigestStore
from .events import EventLog
from .feedback import FeedbackStore
from .observe import INDEX_RELOADS, ContextExecutor
from .schedule import Digester, Scheduler
from .serve import http_server, serve_http, serve_socket_mode
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
    workspaces = Workspaces(settings, store.engine, web_client(settings, anonymous=settings.oauth))
    digester = Digester(DigestStore(store.engine), library, workspaces.client_for)
    alerter = Alerter(AlertStore(store.engine), library, workspaces.client_for, settle_s=settings.alert_settle_s)
    return Parts(store, library, workspaces, digester, alerter, FeedbackStore(store.engine))


def reload(library: Library, alerter: Alerter | None = None) -> None:
    """Swap in a new index when another process changed the library; then look for alert matches."""
    if library.refresh():
        INDEX_RELOADS.inc()
        log.info("library changed: index reloaded at version %s, %d segments", library.version, library.size)
        if alerter is not None:
            alerter.run()


def serve(settings: Settings, parts: Parts, host: str, port: int) -> int:
    executor = ContextExecutor(max_workers=16, thread_name_prefix="listener")
    app = build_app(settings, parts.library, EventLog(parts.store.engine),
                    client=parts.workspaces.client, digests=parts.digester,
                    oauth_settings=parts.workspaces.oauth_settings(), executor=executor,
                    alerts=parts.alerter, feedback=parts.feedback)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = Scheduler(parts.digester, tick_s=settings.digest_tick_s)
    reloader = Every(settings.reload_s, lambda: reload(parts.library, parts.alerter), "index-reload")
    alert_loop = AlertLoop(parts.alerter, tick_s=settings.digest_tick_s)
    scheduler.start()
    reloader.start()
    alert_loop.start()
    workspaces = "many workspaces (OAuth: /slack/install)" if settings.oauth else "one workspace"
    try:
        if settings.slack_app_token is not None:
            log.info("Quotebot: Socket Mode, %s, %d segments.", workspaces, parts.library.size)
            serve_socket_mode(app, settings.slack_app_token.get_secret_value(), stop)
        else:
            server = http_server(app, parts.library, host, port)
            log.info("Quotebot: HTTP on %s:%d (POST /slack/events, GET /healthz, GET /metrics), %s, %d segments; "
                     "digests every %g s, library checked every %g s.", host, server.server_port, workspaces,
                     parts.library.size, settings.digest_tick_s, settings.reload_s)
            serve_http(server, stop)
    finally:
        log.info("stopping: finishing the work in flight")
        reloader.stop()
        executor.shutdown(wait=True)  # answers already acknowledged still go out
        scheduler.stop()  # releases any digest claim still held
        alert_loop.stop()
        log.info("stopped")
    return 0
