"""Digest state in the shared database: subscriptions, one claim per channel and local date, and
the quotes each channel was sent.

The claim row is what makes a digest go out once. It is inserted (or taken over, see ``claim``)
before posting, and marked done or failed after. Its primary key is (team, channel, local date),
so two processes, or two ticks of one, cannot both hold it: the database decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from handlers.digest import Subscription
from index.store import utc

from .migrations import Tables, metadata

subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("team_id", String(40), primary_key=True),
    Column("channel_id", String(40), primary_key=True),
    Column("post_at", String(5), nullable=False),  # "HH:MM", local time
    Column("tz", String(64), nullable=False),  # IANA name
    Column("topics", Text, nullable=False, default=""),  # a /quote query, or ""
    Column("weekends", Boolean, nullable=False, default=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

claims = Table(
    "digest_claims",
    metadata,
    Column("team_id", String(40), primary_key=True),
    Column("channel_id", String(40), primary_key=True),
    Column("local_date", Date, primary_key=True),
    Column("status", String(10), nullable=False),  # claimed | done | empty | failed
    Column("owner", String(80), nullable=False),  # the process that holds or held it
    Column("attempts", Integer, nullable=False, default=1),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("message_ts", String(40)),
    Column("error", Text),
)

sent_quotes = Table(
    "digest_quotes",
    metadata,
    Column("team_id", String(40), primary_key=True),
    Column("channel_id", String(40), primary_key=True),
    Column("quote_key", String(120), primary_key=True),
    Column("sent_on", Date, nullable=False),
)

CLAIMED, DONE, EMPTY, FAILED = "claimed", "done", "empty", "failed"
MAX_ATTEMPTS = 3  # a digest that failed this often waits for an operator (quotebot digest send)


@dataclass(frozen=True)
class Claim:
    team_id: str
    channel_id: str
    local_date: dt.date
    status: str
    owner: str
    attempts: int
    finished_at: dt.datetime | None
    message_ts: str | None
    error: str | None

    @property
    def finished(self) -> bool:
        """Posted, or found empty: never sent again."""
        return self.status in (DONE, EMPTY)


class DigestStore(Tables):
    """The digests' state: subscriptions, the (channel, local date) claims and the quotes each channel was sent."""

    # --- subscriptions -----------------------------------------------------------

    def subscribe(self, sub: Subscription) -> bool:
        """Add or replace the channel's subscription; True when it is new."""
        row = {"team_id": sub.team_id, "channel_id": sub.channel_id, "post_at": sub.post_at.strftime("%H:%M"),
               "tz": sub.tz, "topics": sub.topics, "weekends": sub.weekends, "created_by": sub.created_by,
               "created_at": sub.created_at or dt.datetime.now(dt.UTC)}
        with self.engine.begin() as conn:
            gone = conn.execute(delete(subscriptions).where(_channel(subscriptions, sub.team_id, sub.channel_id)))
            conn.execute(insert(subscriptions).values(**row))
        return gone.rowcount == 0

    def unsubscribe(self, team_id: str, channel_id: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(subscriptions).where(_channel(subscriptions, team_id, channel_id))).rowcount > 0

    def remove_workspace(self, team_id: str) -> int:
        """Remove a workspace's subscriptions and the claims it still had open (it left); how many
        subscriptions. What was sent stays recorded."""
        with self.engine.begin() as conn:
            removed: int = conn.execute(delete(subscriptions).where(subscriptions.c.team_id == team_id)).rowcount
            conn.execute(delete(claims).where(claims.c.team_id == team_id, claims.c.status != DONE))
        return removed

    def subscription(self, team_id: str, channel_id: str) -> Subscription | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(subscriptions).where(_channel(subscriptions, team_id, channel_id))).first()
        return _subscription(row) if row else None

    def subscriptions(self, team_id: str | None = None) -> list[Subscription]:
        query = select(subscriptions).order_by(subscriptions.c.team_id, subscriptions.c.channel_id)
        if team_id is not None:
            query = query.where(subscriptions.c.team_id == team_id)
        with self.engine.connect() as conn:
            return [_subscription(r) for r in conn.execute(query)]

    # --- claims ------------------------------------------------------------------

    def claim(self, team_id: str, channel_id: str, day: dt.date, owner: str, now: dt.datetime,
              lease: dt.timedelta) -> str | None:
        """Take the (channel, day) claim for ``owner``: "new", "retry" (it had failed), "takeover"
        (its holder's lease ran out: it may have posted before it died), or None when another
        process holds it or it is finished.

        A new claim is an INSERT; the others are a conditional UPDATE of the observed state, which
        only one process can win.
        """
        row = {"team_id": team_id, "channel_id": channel_id, "local_date": day, "status": CLAIMED, "owner": owner,
               "attempts": 1, "claimed_at": now, "lease_until": now + lease}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(claims).values(**row))
            return "new"
        except IntegrityError:
            pass
        key = _day(team_id, channel_id, day)
        with self.engine.connect() as conn:
            seen = conn.execute(select(claims.c.status, claims.c.lease_until, claims.c.attempts).where(key)).first()
        if seen is None:
            return None
        if seen.status == FAILED and seen.attempts < MAX_ATTEMPTS:
            kind, still = "retry", and_(claims.c.status == FAILED, claims.c.attempts == seen.attempts)
        elif seen.status == CLAIMED and (held := utc(seen.lease_until)) is not None and held < now:
            kind, still = "takeover", and_(claims.c.status == CLAIMED, claims.c.lease_until < now)
        else:
            return None
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(claims).where(key, still).values(
                    status=CLAIMED, owner=owner, claimed_at=now, lease_until=now + lease,
                    attempts=claims.c.attempts + 1, error=None)
            )
        return kind if taken.rowcount == 1 else None

    def finish(self, team_id: str, channel_id: str, day: dt.date, owner: str, status: str, now: dt.datetime,
               *, message_ts: str | None = None, error: str | None = None) -> bool:
        """Mark ``owner``'s claim done, empty or failed; False if it was no longer ``owner``'s."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(claims)
                .where(_day(team_id, channel_id, day), claims.c.owner == owner, claims.c.status == CLAIMED)
                .values(status=status, finished_at=now, message_ts=message_ts, error=error)
            ).rowcount == 1

    def release_all(self, owner: str, now: dt.datetime, why: str = "released at shutdown") -> int:
        """Give up every claim ``owner`` still holds (it may be retried); how many."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(claims).where(claims.c.owner == owner, claims.c.status == CLAIMED)
                .values(status=FAILED, finished_at=now, error=why, attempts=claims.c.attempts - 1)
            ).rowcount

    def claim_of(self, team_id: str, channel_id: str, day: dt.date) -> Claim | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(claims).where(_day(team_id, channel_id, day))).first()
        if r is None:
            return None
        return Claim(r.team_id, r.channel_id, r.local_date, r.status, r.owner, r.attempts, utc(r.finished_at),
                     r.message_ts, r.error)

    def last_posted(self, team_id: str, channel_id: str) -> dt.datetime | None:
        """When the channel's last digest went out."""
        with self.engine.connect() as conn:
            return utc(conn.execute(
                select(claims.c.finished_at)
                .where(_channel(claims, team_id, channel_id), claims.c.status == DONE)
                .order_by(claims.c.finished_at.desc()).limit(1)
            ).scalar())

    # --- what each channel was sent --------------------------------------------

    def sent_since(self, team_id: str, channel_id: str, day: dt.date) -> set[str]:
        """Keys of the quotes the channel was sent on ``day`` or later."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(sent_quotes.c.quote_key)
                .where(_channel(sent_quotes, team_id, channel_id), sent_quotes.c.sent_on >= day)
            )
            return {r[0] for r in rows}

    def record_sent(self, team_id: str, channel_id: str, keys: list[str], day: dt.date) -> None:
        with self.engine.begin() as conn:
            for key in dict.fromkeys(keys):
                where = and_(_channel(sent_quotes, team_id, channel_id), sent_quotes.c.quote_key == key)
                conn.execute(delete(sent_quotes).where(where))
                conn.execute(insert(sent_quotes).values(team_id=team_id, channel_id=channel_id,
                                                        quote_key=key, sent_on=day))


def _channel(table: Table, team_id: str, channel_id: str) -> ColumnElement[bool]:
    return and_(table.c.team_id == team_id, table.c.channel_id == channel_id)


def _day(team_id: str, channel_id: str, day: dt.date) -> ColumnElement[bool]:
    return and_(_channel(claims, team_id, channel_id), claims.c.local_date == day)


def _subscription(r: Row[Any]) -> Subscription:
    return Subscription(
        team_id=r.team_id, channel_id=r.channel_id, post_at=dt.time.fromisoformat(r.post_at), tz=r.tz,
        topics=r.topics or "", weekends=bool(r.weekends), created_by=r.created_by, created_at=utc(r.created_at),
    )
