"""The bot's tables (events handled, digest subscriptions, claims, quotes sent), versioned with
Alembic like the library's (see ``index.migrations``), in a version table of their own.

Slack's OAuth tables (installations, bots, states) belong to slack_sdk's SQLAlchemy stores, which
create them (``bot/workspaces.py``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from index.migrations import run

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "quotebot_bot_schema"
LEGACY_TABLE = "slack_events"  # present in a database created before migrations


def upgrade(engine: Engine) -> None:
    """Bring the bot's tables to the newest revision."""
    run(engine, HERE, VERSION_TABLE, LEGACY_TABLE)
