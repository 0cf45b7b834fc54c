"""Which Slack events were handled already, in the shared database, so a retry answers nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert
from sqlalchemy.engine import Engine

from . import migrations
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

seen_events = Table(
    "slack_events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

KEEP = dt.timedelta(days=1)  # Slack retries within minutes; a day is plenty


class EventLog:
    def __init__(self, engine: Engine):
        self.engine = engine
        migrations.upgrade(engine)

    def first_time(self, event_id: str) -> bool:
        """Mark ``event_id`` as handled; False when it was marked already (by any process)."""
        now = dt.datetime.now(dt.timezone.utc)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(seen_events).values(event_id=event_id[:200], seen_at=now))
        except IntegrityError:
            return False
        if hash(event_id) % 100 == 0:  # now and then, forget old events
            with self.engine.begin() as conn:
                conn.execute(delete(seen_events).where(seen_events.c.seen_at < now - KEEP))
        return True
