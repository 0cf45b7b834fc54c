from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from bot.app import build_app
from bot.events import EventLog
from bot.localslack import LocalSlack
from bot.runner import Parts, assemble
from bot.serve import serving
from bot.settings import Settings
from index.ingest import ingest
from index.search import Library
from index.store import Store

# Property tests have no time limit per example: these machines are shared and noisy, and a slow
# example is not a wrong one.
hypothesis_settings.register_profile("quotebot", deadline=None)
hypothesis_settings.load_profile("quotebot")


ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "bot" / "samples"
DATA = Path(__file__).resolve().parent / "data"


def seed(prefix: str) -> Path:
    """The bundled seed transcript whose name starts with ``prefix`` (000 … 004)."""
    return next(SAMPLES.glob(f"{prefix}_*.txt"))


POSTGRES_URL = os.environ.get("QUOTEBOT_TEST_DATABASE_URL")


def _database_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("QUOTEBOT_TEST_DATABASE_URL is not set in CI; .ci/postgres.sh should set it")
        pytest.skip("no PostgreSQL: set QUOTEBOT_TEST_DATABASE_URL=$(bash .ci/postgres.sh)")
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:  # each test starts from an empty database
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Store:
    """A store on SQLite and on a real PostgreSQL."""
    s = Store(_database_url(request.param, tmp_path))
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database on SQLite and on a real PostgreSQL (for tests that open it their own way)."""
    return _database_url(request.param, tmp_path)


class FileServer:
    """A real HTTP server on 127.0.0.1 serving canned responses by path."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.slow: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in outer.slow:
                    time.sleep(3)
                status, headers, body = outer.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, path: str, body: bytes | str, status: int = 200, content_type: str = "text/plain") -> str:
        if isinstance(body, str):
            body = body.encode()
        self.routes[path] = (status, {"Content-Type": content_type}, body)
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_server():
    server = FileServer()
    yield server
    server.close()


@contextmanager
def oauth_app(tmp_path: Path, secret: str, transcript: str, database_url: str | None = None,
              **settings: Any) -> Iterator[tuple[str, LocalSlack, Parts]]:
    """(url, slack, parts): the app wired as ``quotebot serve`` wires it (digests, alerts, the
    installation lifecycle) with OAuth installs (client id 111.222, signing secret ``secret``),
    served over HTTP on 127.0.0.1 against a local Slack, with the bundled samples and
    ``transcript`` (WebVTT) in its library, on ``database_url`` (default: SQLite under
    ``tmp_path``). ``settings``: more ``Settings`` fields. Stopped and closed on leaving."""
    slack = LocalSlack()
    config = Settings(SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="client-secret", SLACK_SIGNING_SECRET=secret,
                      SLACK_API_URL=slack.base_url, SLACK_OAUTH_URL=slack.base_url.replace("/api/", "/authorize"),
                      QUOTEBOT_DATA_DIR=str(tmp_path), **settings)
    store = Store(database_url or f"sqlite:///{tmp_path / 'q.db'}")
    new = tmp_path / "hopper.vtt"
    new.write_text(transcript)
    assert all(r.ok for r in ingest([str(SAMPLES), str(new)], store))
    parts = assemble(config, store, Library.open(store, tmp_path / "index"))
    app = build_app(config, parts.library, EventLog(store.engine), client=parts.workspaces.client,
                    digests=parts.digester, oauth_settings=parts.workspaces.oauth_settings(),
                    alerts=parts.alerter, installations=parts.workspaces)
    try:
        with serving(app, parts.library) as url:
            yield url, slack, parts
    finally:
        slack.close()
        store.close()


def install(url: str, slack: LocalSlack, owner: str) -> dict[str, list[str]]:
    """Install the app by Slack's OAuth flow, as a browser would, into workspace (T…) or org (E…)
    ``owner``; the query of the authorize link the install page gave (client_id, scope, state)."""
    with httpx.Client() as browser:
        page = browser.get(url + "/slack/install")
        assert page.status_code == 200
        authorize = re.search(r'<a href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
        query = parse_qs(urlsplit(authorize).query)
        slack.oauth_codes[f"code-{owner}"] = owner
        cookie = page.headers["set-cookie"].split(";")[0]  # Secure: a browser sends it back over https
        done = browser.get(url + "/slack/oauth_redirect", headers={"Cookie": cookie},
                           params={"code": f"code-{owner}", "state": query["state"][0]})
        assert done.status_code == 200, done.text
    return query
