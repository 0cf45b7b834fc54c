"""Keyword alerts: the alerts in the shared database, and the job that posts new matches once.

When an ingest adds episodes, every alert whose query they match (through the /quote search,
so the honest no-match rule holds) gets one post in its channel listing the new quotes: exactly
once per alert and episode, across replicas and restarts.

How "once" holds. A process first takes the alert's lease (a conditional UPDATE of the alert row
that only one process can win; it runs out after ``LEASE`` if its holder dies). Holding it, it
inserts one ``alert_posts`` row per (alert, episode) it is about to post, posts one message for
all of them, and marks the rows done with the message's ts. A row that is still "claimed" when a
later holder comes (its holder died between claiming and marking done) is settled by reading the
channel's history: alert posts carry message metadata naming the alert and its episodes, so a
post that went out is found and not repeated. Episodes that match nothing get a "nomatch" row and
are not searched again.

A burst of episodes is batched into one post: an alert waits until no new episode arrived for
``settle_s`` seconds (at most ``MAX_WAIT`` after the first one), then posts them together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from handlers.alerts import EVENT_TYPE, Alert, AlertExists, alert_message
from handlers.digest import quote_key
from handlers.quality import Picks
from index.markup import plain_text
from index.search import EpisodeInfo, Hit, Library
from index.store import utc

from .background import Every
from .migrations import Tables, metadata
from .posting import post, posted_before
from .schedule import Clock, utcnow

log = logging.getLogger("quotebot.alerts")

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(40), nullable=False, index=True),
    Column("channel_id", String(40), nullable=False),
    Column("query", Text, nullable=False),  # a /quote query
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("lease_owner", String(80)),  # the process working on this alert now
    Column("lease_until", DateTime(timezone=True)),
)

posts = Table(
    "alert_posts",
    metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("episode_id", String(200), primary_key=True),
    Column("status", String(10), nullable=False),  # claimed | done | nomatch | failed
    Column("owner", String(80), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("message_ts", String(40)),
)

Found = tuple[EpisodeInfo, list[Hit]]  # an episode and its quotes for an alert

CLAIMED, DONE, NOMATCH, FAILED = "claimed", "done", "nomatch", "failed"
LEASE = dt.timedelta(minutes=10)
MAX_WAIT = dt.timedelta(minutes=10)  # a burst that never settles is posted after this anyway
MAX_ATTEMPTS = 3


class AlertStore(Tables):
    """The alerts (``handlers.alerts.Alerts``), their leases and their per-episode claims."""

    def add(self, team_id: str, channel_id: str, query: str, user_id: str, now: dt.datetime | None = None) -> Alert:
        """The new alert; AlertExists (nothing stored) when the channel has an alert with ``query``."""
        created = now or utcnow()
        with self.engine.begin() as conn:
            _refuse_same_query(conn, team_id, channel_id, query)
            key = conn.execute(insert(alerts).values(
                team_id=team_id, channel_id=channel_id, query=query, created_by=user_id, created_at=created,
            )).inserted_primary_key
            new_id = key[0] if key is not None else 0
        return Alert(int(new_id), team_id, channel_id, query, user_id, created)

    def update(self, team_id: str, alert_id: int, query: str) -> bool:
        """False when there is no such alert; AlertExists (nothing changed) when another alert of its
        channel has ``query``."""
        with self.engine.begin() as conn:
            channel = conn.execute(select(alerts.c.channel_id).where(
                alerts.c.id == alert_id, alerts.c.team_id == team_id)).scalar()
            if channel is None:
                return False
            _refuse_same_query(conn, team_id, channel, query, other_than=alert_id)
            return conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.team_id == team_id)
                                .values(query=query)).rowcount == 1

    def remove(self, team_id: str, alert_id: int) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(delete(alerts).where(alerts.c.id == alert_id, alerts.c.team_id == team_id)).rowcount
            if gone:
                conn.execute(delete(posts).where(posts.c.alert_id == alert_id))
            return gone == 1

    def remove_workspace(self, team_id: str) -> int:
        """Remove a workspace's alerts and their per-episode rows (it left); how many alerts."""
        with self.engine.begin() as conn:
            ids = select(alerts.c.id).where(alerts.c.team_id == team_id).scalar_subquery()
            conn.execute(delete(posts).where(posts.c.alert_id.in_(ids)))
            removed: int = conn.execute(delete(alerts).where(alerts.c.team_id == team_id)).rowcount
        return removed

    def alerts(self, team_id: str | None = None) -> list[Alert]:
        query = select(alerts).order_by(alerts.c.id)
        if team_id is not None:
            query = query.where(alerts.c.team_id == team_id)
        with self.engine.connect() as conn:
            return [_alert(r) for r in conn.execute(query)]

    # --- exactly once -------------------------------------------------------------------------

    def lease(self, alert_id: int, owner: str, now: dt.datetime, length: dt.timedelta = LEASE) -> bool:
        """Take the alert for ``owner`` until ``now + length``; False when another process holds it."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(alerts).where(alerts.c.id == alert_id, or_(
                    alerts.c.lease_owner.is_(None), alerts.c.lease_until < now))
                .values(lease_owner=owner, lease_until=now + length)
            ).rowcount == 1

    def release(self, alert_id: int, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.lease_owner == owner)
                         .values(lease_owner=None, lease_until=None))

    def release_all(self, owner: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(update(alerts).where(alerts.c.lease_owner == owner)
                                .values(lease_owner=None, lease_until=None)).rowcount

    def states(self, alert_id: int) -> dict[str, tuple[str, int]]:
        """{episode id: (status, attempts)} of the episodes this alert has dealt with."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(posts.c.episode_id, posts.c.status, posts.c.attempts)
                                .where(posts.c.alert_id == alert_id))
            return {r.episode_id: (r.status, r.attempts) for r in rows}

    def mark(self, alert_id: int, episode_ids: list[str], status: str, owner: str, now: dt.datetime,
             message_ts: str | None = None) -> None:
        """Set the (alert, episode) rows to ``status`` (inserting those missing), in one transaction."""
        with self.engine.begin() as conn:
            for episode_id in episode_ids:
                key = and_(posts.c.alert_id == alert_id, posts.c.episode_id == episode_id)
                attempts = 1 if status == CLAIMED else 0
                changed = conn.execute(update(posts).where(key).values(
                    status=status, owner=owner, claimed_at=now, message_ts=message_ts,
                    attempts=posts.c.attempts + attempts)).rowcount
                if not changed:
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(posts).values(alert_id=alert_id, episode_id=episode_id, status=status,
                                                              owner=owner, attempts=1, claimed_at=now,
                                                              message_ts=message_ts))
                    except IntegrityError:  # cannot happen under the lease; kept safe all the same
                        log.warning("alert %s episode %s was claimed concurrently", alert_id, episode_id)


@dataclass(frozen=True)
class AlertOutcome:
    """What ``Alerter.run`` did for one alert: posted, waiting (a burst still arriving), busy
    (another process holds it), already (found posted by a holder that died), failed, or gone
    (its workspace has no installation any more: the workspace's alerts were removed)."""

    alert_id: int
    status: str
    episodes: tuple[str, ...] = ()
    message_ts: str | None = None
    team_id: str = ""


def _alert(row: Any) -> Alert:
    return Alert(row.id, row.team_id, row.channel_id, row.query, row.created_by, utc(row.created_at))


def _refuse_same_query(conn: Connection, team_id: str, channel_id: str, query: str,
                       other_than: int | None = None) -> None:
    """AlertExists when an alert of the channel (other than ``other_than``) has ``query``, compared
    as stored and ignoring case (the search ignores it: two such alerts would post the same quotes)."""
    rows = conn.execute(select(alerts).where(alerts.c.team_id == team_id, alerts.c.channel_id == channel_id)
                        .order_by(alerts.c.id))
    same = next((r for r in rows if r.query.casefold() == query.casefold() and r.id != other_than), None)
    if same is not None:
        raise AlertExists(_alert(same))


class Alerter:
    """Checks every alert against the episodes stored since it was added, and posts the matches once.

    ``library`` is the search the /quote command uses (``search``, ``new_episodes``, ``context``);
    ``added`` gives (episode id, when it was stored) for episodes stored in a time range.
    """

    def __init__(self, store: AlertStore, library: Library, client_for: Callable[[str], WebClient], *,
                 clock: Clock = utcnow, owner: str | None = None, settle_s: float = 30.0):
        self.store = store
        self.library = library
        self.client_for = client_for
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.settle = dt.timedelta(seconds=settle_s)
        self._running = threading.Lock()

    # handlers.alerts.Alerts. A query is stored as the words meant (index.markup.plain_text): typed in
    # Slack, `<!here> stargate `x`` is the alert "stargate x", shown and searched as such.
    def add(self, team_id: str, channel_id: str, query: str, user_id: str) -> Alert:
        return self.store.add(team_id, channel_id, plain_text(query), user_id, self.clock())

    def update(self, team_id: str, alert_id: int, query: str) -> bool:
        return self.store.update(team_id, alert_id, plain_text(query))

    def remove(self, team_id: str, alert_id: int) -> bool:
        return self.store.remove(team_id, alert_id)

    def alerts(self, team_id: str | None = None) -> list[Alert]:
        return self.store.alerts(team_id)

    def run(self) -> list[AlertOutcome]:
        """One pass over every alert; what happened to those that had new episodes. A pass already
        running in this process (the loop's, or one after an index reload) makes this one return []."""
        if not self._running.acquire(blocking=False):
            return []
        try:
            return self._run()
        finally:
            self._running.release()

    def _run(self) -> list[AlertOutcome]:
        outcomes: list[AlertOutcome] = []
        for alert in self.store.alerts():
            if any(o.status == "gone" and o.team_id == alert.team_id for o in outcomes):
                continue  # removed with its workspace's first alert
            try:
                outcome = self.check(alert)
            except Exception:
                log.exception("alert %s failed", alert.id)
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def check(self, alert: Alert) -> AlertOutcome | None:
        now = self.clock()
        fresh = self._fresh(alert, now)
        if not fresh:
            return None
        if not self.store.lease(alert.id, self.owner, now):
            return AlertOutcome(alert.id, "busy")
        try:
            return self._check_held(alert, now)
        finally:
            self.store.release(alert.id, self.owner)

    def _fresh(self, alert: Alert, now: dt.datetime) -> list[tuple[EpisodeInfo, dt.datetime]]:
        """The searchable episodes stored since the alert was added that it has not dealt with."""
        since = alert.created_at or now
        added = dict(self.library.store.episodes_added(since, now))
        states = self.store.states(alert.id)
        open_ = [e for e in self.library.new_episodes(since, now)
                 if e.id in added and (e.id not in states or states[e.id][0] == CLAIMED
                                       or (states[e.id][0] == FAILED and states[e.id][1] < MAX_ATTEMPTS))]
        return [(e, added[e.id]) for e in open_]

    def _check_held(self, alert: Alert, now: dt.datetime) -> AlertOutcome | None:
        fresh = self._fresh(alert, now)  # again, under the lease
        states = self.store.states(alert.id)
        try:
            client = self.client_for(alert.team_id)
        except LookupError:  # the workspace uninstalled the app (the event was missed): its alerts end here
            removed = self.store.remove_workspace(alert.team_id)
            log.warning("workspace %s has no installation any more; its %d alerts were removed",
                        alert.team_id, removed)
            return AlertOutcome(alert.id, "gone", team_id=alert.team_id)
        stale = [e.id for e, _ in fresh if states.get(e.id, ("",))[0] == CLAIMED]
        if stale:  # a holder died after claiming: did its post go out?
            ts = self._posted_before(client, alert, stale)
            if ts is not None:
                self.store.mark(alert.id, stale, DONE, self.owner, now, ts)
                return AlertOutcome(alert.id, "already", tuple(stale), ts)
        if not fresh:
            return None
        newest, oldest = max(t for _, t in fresh), min(t for _, t in fresh)
        if now - newest < self.settle and now - oldest < MAX_WAIT:
            return AlertOutcome(alert.id, "waiting", tuple(e.id for e, _ in fresh))
        found, nothing = self._matches(alert, [e for e, _ in fresh])
        if nothing:
            self.store.mark(alert.id, nothing, NOMATCH, self.owner, now)
        if not found:
            return None
        ids = [e.id for e, _ in found]
        self.store.mark(alert.id, ids, CLAIMED, self.owner, now)
        try:
            ts = self._post(client, alert, found)
        except Exception as exc:  # noqa: BLE001 - retried on a later pass, up to MAX_ATTEMPTS
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("alert %s post to %s failed: %s", alert.id, alert.channel_id, error)
            self.store.mark(alert.id, ids, FAILED, self.owner, self.clock())
            return AlertOutcome(alert.id, "failed", tuple(ids))
        self.store.mark(alert.id, ids, DONE, self.owner, self.clock(), ts)
        log.info("alert %s posted %d new episodes to %s", alert.id, len(ids), alert.channel_id)
        return AlertOutcome(alert.id, "posted", tuple(ids), ts)

    def _matches(self, alert: Alert, episodes: list[EpisodeInfo]) -> tuple[list[Found], list[str]]:
        """The episodes whose segments match the alert (with their best clean hits), and those that do not."""
        picks = Picks(self.library, quote_key)
        found, nothing = [], []
        query = self.library.understand(alert.query).query  # as /quote reads it (``Library.answer``)
        for episode in episodes:
            hits = []
            if query is not None:
                narrowed = dataclasses.replace(query, episode=episode.id)
                hits = [h for h in self.library.search(narrowed, limit=10) if h.episode_id == episode.id]
            chosen = [h for h in hits if picks.allows(h)][:2]
            for hit in chosen:
                picks.take(hit)
            if chosen:
                found.append((episode, chosen))
            else:
                nothing.append(episode.id)
        return found, nothing

    def _post(self, client: WebClient, alert: Alert, found: list[tuple[EpisodeInfo, list[Hit]]]) -> str:
        meta = {"event_type": EVENT_TYPE, "event_payload": {"alert": alert.id, "episodes": [e.id for e, _ in found]}}
        return post(client, alert.channel_id, alert_message(alert, found), meta)

    def _posted_before(self, client: WebClient, alert: Alert, episode_ids: list[str]) -> str | None:
        return posted_before(client, alert.channel_id, EVENT_TYPE, lambda payload: payload.get("alert") == alert.id
                             and set(episode_ids) <= set(payload.get("episodes") or []))

    def release(self) -> int:
        return self.store.release_all(self.owner)


class AlertLoop:
    """``Alerter.run`` every ``tick_s`` seconds in ``quotebot serve`` (also right after an index reload),
    in the process that ``leader()`` names (the leases make any process safe; one is enough)."""

    def __init__(self, alerter: Alerter, *, tick_s: float = 30.0, leader: Callable[[], bool] = lambda: True):
        self.alerter = alerter
        self._loop = Every(tick_s, lambda: alerter.run() if leader() else None, "alerts")

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._loop.stop(timeout)
        self.alerter.release()
