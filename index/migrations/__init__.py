"""Versioned schemas with Alembic: the library's tables here, the bot's in ``bot/migrations``.

Each component keeps its own revision chain and its own version table, so ``index/`` never needs
to know the bot's tables. ``upgrade`` brings a database to the newest revision, and is what opening
a store does:

- an empty database gets every revision in order;
- a database from before migrations existed (it has the tables of revision 0001 but no version
  table) is stamped 0001 first, then upgraded, so its data is kept;
- a database at the newest revision costs one query;
- two processes starting at once take turns: a PostgreSQL advisory lock, or a file lock beside a
  SQLite database.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "quotebot_library_schema"
LEGACY_TABLE = "episodes"  # present in a library created before migrations

_heads: dict[Path, str | None] = {}
_lock = threading.Lock()


def upgrade(engine: Engine) -> None:
    """Bring the library's tables to the newest revision."""
    run(engine, HERE, VERSION_TABLE, LEGACY_TABLE)


def run(engine: Engine, location: Path, version_table: str, legacy_table: str) -> None:
    if _current(engine, version_table) == _head(location):
        return  # the usual case: one cheap query
    with _lock, exclusive_transaction(engine, version_table) as conn:
        config = config_for(location, conn, version_table)
        tables = inspect(conn)
        if not tables.has_table(version_table) and tables.has_table(legacy_table):
            command.stamp(config, "0001")
        command.upgrade(config, "head")


def _head(location: Path) -> str | None:
    if location not in _heads:
        _heads[location] = ScriptDirectory(str(location)).get_current_head()
    return _heads[location]


def _current(engine: Engine, version_table: str) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(version_table):
            return None
        # version_table is one of our two constant table names, never input
        found = conn.execute(text(f"SELECT version_num FROM {version_table}")).scalar()  # noqa: S608
        return None if found is None else str(found)


def config_for(location: Path, connection: Connection, version_table: str) -> Config:
    """An Alembic config bound to ``connection`` (for tests and tools)."""
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes.update(connection=connection, version_table=version_table)
    return config


@contextlib.contextmanager
def exclusive_transaction(engine: Engine, name: str) -> Iterator[Connection]:
    """A transaction (committed on leaving, rolled back on an error) that the processes and threads
    naming the same ``name`` take in turns: a PostgreSQL advisory lock held until it ends, or on
    SQLite the lock file of ``exclusive``. For a check and the write it allows (one alert per query)."""
    with exclusive(engine, name), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})
        yield conn


@contextlib.contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Across processes on one SQLite file: a lock file beside it. (On PostgreSQL the caller takes
    an advisory lock in its transaction.)"""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.{name}.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_env(context: Any) -> None:  # alembic's context module
    """The body of each ``env.py``: run on the connection handed over in ``config.attributes``."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=None,
                      version_table=context.config.attributes["version_table"], render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
