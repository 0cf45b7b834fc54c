"""Schema migrations on SQLite and a real PostgreSQL: from an empty database, from the previous
release's schema (data kept), and two processes starting on one database at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, text

import bot.migrations
import index.migrations
from bot import alerts, digests, events, feedback
from bot.digests import DigestStore
from bot.events import EventLog
from index.search import Library
from index.store import Store
from index.store import metadata as library_metadata

from .conftest import ROOT


def bot_metadata() -> MetaData:
    """The bot's tables: each store module (all imported above) adds its own to ``bot.migrations.metadata``."""
    assert all(m.metadata is bot.migrations.metadata for m in (events, digests, alerts, feedback))
    return bot.migrations.metadata


def differences(engine, metadata: MetaData) -> list:
    """What the database lacks or has different from ``metadata`` (other components' tables aside)."""
    ours = set(metadata.tables)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    found = []
    for diff in diffs:
        kind, obj = (diff[0], diff[1]) if isinstance(diff, tuple) else (diff[0][0], diff[0])
        table = (
            getattr(obj, "name", None)
            if kind.endswith("_table")
            else getattr(getattr(obj, "table", None), "name", None)
        )
        if kind.startswith("remove_") and table not in ours:
            continue  # a table or index of the other component
        found.append(diff)
    return found


def test_an_empty_database_gets_the_whole_schema(db_url):
    store = Store(db_url)
    EventLog(store.engine)
    DigestStore(store.engine)
    alerts.AlertStore(store.engine)
    assert differences(store.engine, library_metadata) == []
    assert differences(store.engine, bot_metadata()) == []
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM quotebot_library_schema")).scalar() == "0005"
        assert conn.execute(text("SELECT version_num FROM quotebot_bot_schema")).scalar() == "0003"
    store.close()


def previous_release(url: str) -> None:
    """A database as the previous release left it: revision 0001's tables, no version tables, data."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for location, table in ((index.migrations.HERE, index.migrations.VERSION_TABLE),
                                (bot.migrations.HERE, bot.migrations.VERSION_TABLE)):
            command.upgrade(index.migrations.config_for(location, conn, table), "0001")
            conn.execute(text(f"DROP TABLE {table}"))
        ingested = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
        conn.execute(text("INSERT INTO sources VALUES ('/old/ep.vtt', 'ep.vtt', 'abc', 'vtt', '[]', :t)"),
                     {"t": ingested})
        conn.execute(text("INSERT INTO transcripts VALUES ('/old/ep.vtt', 0, 'old-episode', 'Old episode', "
                          "'Old pod', NULL, :p)"), {"p": json.dumps({"cues": []})})
        conn.execute(text("INSERT INTO episodes VALUES ('old-episode', 'Old episode', 'Old pod', NULL, NULL, 60.0, "
                          "'[]', '[\"Ada\"]', '[]', '[]', '{}')"))
        for seq, words in enumerate(["The analytical engine weaves algebraic patterns.",
                                     "Numbers are not all it can handle.", "Music could be composed by it."]):
            conn.execute(text("INSERT INTO segments (episode_id, seq, start_s, end_s, speaker, text) VALUES "
                              "('old-episode', :seq, :start, :end, 'Ada', :words)"),
                         {"seq": seq, "start": 1.0 + 5 * seq, "end": 5.0 + 5 * seq, "words": words})
        conn.execute(text("INSERT INTO library VALUES (1, 7)"))
        conn.execute(text("INSERT INTO slack_events VALUES ('Ev0LD', :t)"), {"t": dt.datetime.now(dt.UTC)})
    engine.dispose()


def test_upgrading_the_previous_schema_keeps_the_data(db_url, tmp_path):
    previous_release(db_url)
    store = Store(db_url)  # opening it upgrades it
    log = EventLog(store.engine)
    DigestStore(store.engine).subscriptions()
    assert differences(store.engine, library_metadata) == []
    assert differences(store.engine, bot_metadata()) == []
    [episode] = store.episodes()
    assert (episode.id, episode.title, episode.speakers, episode.segments) == ("old-episode", "Old episode", ["Ada"], 3)
    assert episode.added_at == dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)  # from its source
    assert store.version() == 7
    assert log.first_time("Ev0LD") is False  # the events already handled are still known
    [hit] = Library.open(store, tmp_path / "index").search("algebraic patterns")
    assert hit.speaker == "Ada" and hit.start_s == 1.0
    store.close()


def test_two_processes_starting_on_an_empty_database_take_turns(db_url):
    script = ("import sys; from index.store import Store; from bot.events import EventLog; "
              "from bot.digests import DigestStore; s = Store(sys.argv[1]); EventLog(s.engine); "
              "DigestStore(s.engine); print('ok')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTEBOT_")}
    runs = [subprocess.Popen([sys.executable, "-c", script, db_url], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0, 0], outs
    engine = create_engine(db_url)
    assert {"episodes", "segments", "slack_events", "digest_claims"} <= set(inspect(engine).get_table_names())
    engine.dispose()
