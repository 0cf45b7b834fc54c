from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from index.store import Store

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
