"""The bot's tables (events handled, digest subscriptions, claims, quotes sent, alerts, feedback),
versioned with Alembic like the library's (see ``index.migrations``), in a version table of their own.

Their one home: ``metadata`` holds every table the bot's stores define (``bot.events``,
``bot.digests``, ``bot.alerts``, ``bot.feedback``), and ``Tables`` is the base of those stores.

Slack's OAuth tables (installations, bots, states) belong to slack_sdk's SQLAlchemy stores, which
create them (``bot/workspaces.py``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from index.migrations import run

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "quotebot_bot_schema"
LEGACY_TABLE = "slack_events"  # present in a database created before migrations

metadata = MetaData()  # the bot's tables, each defined by the store module that uses it


def upgrade(engine: Engine) -> None:
    """Bring the bot's tables to the newest revision."""
    run(engine, HERE, VERSION_TABLE, LEGACY_TABLE)


class Tables:
    """The base of the bot's stores: ``engine`` (SQLAlchemy, SQLite or PostgreSQL), with the bot's
    tables brought to the newest revision (``upgrade``) before the store is used. Raises
    SQLAlchemy's or Alembic's errors when the database cannot be reached or migrated."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        upgrade(engine)
