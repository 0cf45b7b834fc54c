"""Sending digests: when each is due, the exactly-once send, and the loop in ``quotebot serve``.

When a digest is due: at its local time (``HH:MM`` in its IANA zone) on its local date, through a
grace window of ``GRACE`` that never crosses local midnight. A bot that was down at 09:00 and is
back by 15:00 posts that day's digest; one back after midnight never posts yesterday's. Times are
computed with ``zoneinfo`` for each local date, so a daylight-saving change neither skips nor
doubles a day: a time that does not exist that day (02:30 when clocks jump from 02:00 to 03:00)
posts when the clocks reach it an hour later, and a time that happens twice posts at the first.

Exactly once: ``Digester.send`` takes the (channel, local date) claim row before posting and
marks it done after (see ``bot.digests``). A failed post releases the claim as failed, to be
retried on a later tick; a claim whose holder died (its lease ran out) is taken over, and the
channel's history is checked first for a digest of that date that the dead holder did post
(digest posts carry message metadata), so a crash between posting and marking done does not post
twice. Slack's 429s are waited out by the client's RateLimitErrorRetryHandler.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.digest import EVENT_TYPE, NO_REPEAT_DAYS, Digest, DigestQuotes, Subscription, compose, digest_message

from .background import Every
from .digests import DONE, EMPTY, FAILED, DigestStore
from .observe import DIGEST_POSTS
from .posting import post, posted_before

log = logging.getLogger("quotebot.digest")

GRACE = dt.timedelta(hours=6)  # how late a missed digest may still go out, the same local day
LEASE = dt.timedelta(minutes=10)  # how long a claim holder has to post before another may take over
NEW_SINCE = dt.timedelta(days=7)  # "new this week": at most this far back, or since the last digest

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def due_at(sub: Subscription, day: dt.date) -> dt.datetime:
    """The UTC moment ``sub``'s digest for local ``day`` is due."""
    zone = zoneinfo.ZoneInfo(sub.tz)
    local = dt.datetime.combine(day, sub.post_at, tzinfo=zone)  # fold=0: the first of a repeated time
    # a time in a spring-forward gap converts with the offset before the jump: an hour later on the wall
    return local.astimezone(dt.UTC)


def due_day(sub: Subscription, now: dt.datetime) -> dt.date | None:
    """The local date whose digest is due at ``now``, or None."""
    zone = zoneinfo.ZoneInfo(sub.tz)
    day = now.astimezone(zone).date()
    if not sub.weekends and day.weekday() >= 5:
        return None
    start = due_at(sub, day)
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    return day if start <= now < min(start + GRACE, midnight) else None


def local_today(sub: Subscription, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(sub.tz)).date()


@dataclass(frozen=True)
class Outcome:
    """What ``send`` did: posted, empty (nothing to post), already (done before), busy (another
    process holds the claim), failed (retried later while the grace window lasts), or gone (the
    workspace uninstalled the app: its subscriptions were removed)."""

    status: str
    channel_id: str
    day: dt.date
    message_ts: str | None = None
    error: str | None = None


class Digester:
    """Composes and sends digests, exactly once per channel and local date; also what
    ``/quote digest`` uses (``handlers.digest.Digests``)."""

    def __init__(self, store: DigestStore, quotes: DigestQuotes, client_for: Callable[[str], WebClient], *,
                 clock: Clock = utcnow, owner: str | None = None):
        self.store = store
        self.quotes = quotes
        self.client_for = client_for
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # --- handlers.digest.Digests ---------------------------------------------------

    def subscribe(self, sub: Subscription) -> bool:
        return self.store.subscribe(sub)

    def unsubscribe(self, team_id: str, channel_id: str) -> bool:
        return self.store.unsubscribe(team_id, channel_id)

    def subscription(self, team_id: str, channel_id: str) -> Subscription | None:
        return self.store.subscription(team_id, channel_id)

    def subscriptions(self, team_id: str | None = None) -> list[Subscription]:
        return self.store.subscriptions(team_id)

    def preview(self, sub: Subscription) -> Digest | None:
        now = self.clock()
        return self.compose(sub, local_today(sub, now), now)

    # --- composing and sending -------------------------------------------------------

    def compose(self, sub: Subscription, day: dt.date, now: dt.datetime) -> Digest | None:
        last = self.store.last_posted(sub.team_id, sub.channel_id)
        since = max(last, now - NEW_SINCE) if last else now - NEW_SINCE
        seen = self.store.sent_since(sub.team_id, sub.channel_id, day - dt.timedelta(days=NO_REPEAT_DAYS))
        return compose(self.quotes, sub.topics, day, since, now, seen, sub)

    def send(self, sub: Subscription, day: dt.date) -> Outcome:
        """Post ``sub``'s digest for local ``day`` unless it went out already or another process is on it."""
        team, channel = sub.team_id, sub.channel_id
        existing = self.store.claim_of(team, channel, day)
        if existing is not None and existing.finished:
            return Outcome("already", channel, day, existing.message_ts)
        now = self.clock()
        kind = self.store.claim(team, channel, day, self.owner, now, LEASE)
        if kind is None:
            existing = self.store.claim_of(team, channel, day)
            done = existing is not None and existing.finished
            return Outcome("already" if done else "busy", channel, day, existing.message_ts if existing else None)
        try:
            try:
                client = self.client_for(team)
            except LookupError:  # the workspace uninstalled the app: its digests end here
                removed = self.store.remove_workspace(team)
                log.warning("workspace %s has no installation any more; its %d digest subscriptions were removed",
                            team, removed)
                return Outcome("gone", channel, day)
            if kind == "takeover":
                ts = self._posted_before(client, channel, day)
                if ts is not None:
                    self.store.finish(team, channel, day, self.owner, DONE, self.clock(), message_ts=ts)
                    return Outcome("already", channel, day, ts)
            digest = self.compose(sub, day, now)
            if digest is None:
                self.store.finish(team, channel, day, self.owner, EMPTY, self.clock())
                log.info("digest for %s on %s: nothing to post", channel, day)
                return Outcome("empty", channel, day)
            ts = self._post(client, channel, day, digest)
        except Exception as exc:
            if isinstance(exc, SlackApiError):  # Slack said why: the error code is enough
                error = str(exc.response.get("error") or exc.response.status_code)
                log.warning("digest for %s on %s failed: %s", channel, day, error)
            else:
                error = type(exc).__name__
                log.exception("digest for %s on %s failed", channel, day)
            self.store.finish(team, channel, day, self.owner, FAILED, self.clock(), error=error)
            return Outcome("failed", channel, day, error=error)
        self.store.record_sent(team, channel, digest.keys, day)
        self.store.finish(team, channel, day, self.owner, DONE, self.clock(), message_ts=ts)
        log.info("digest for %s on %s posted", channel, day)
        return Outcome("posted", channel, day, ts)

    def _post(self, client: WebClient, channel: str, day: dt.date, digest: Digest) -> str:
        meta = {"event_type": EVENT_TYPE, "event_payload": {"date": day.isoformat()}}
        return post(client, channel, digest_message(digest), meta)

    def _posted_before(self, client: WebClient, channel: str, day: dt.date) -> str | None:
        """The ts of a digest for ``day`` already in the channel (posted by a holder that died)."""
        return posted_before(client, channel, EVENT_TYPE, lambda payload: payload.get("date") == day.isoformat())

    def release(self) -> int:
        """Give up this process's claims (at shutdown), so another may post them."""
        return self.store.release_all(self.owner, self.clock())


class Scheduler:
    """The loop in ``quotebot serve``: every ``tick_s`` seconds, send the digests that are due.

    A small loop rather than a scheduler library: the one job is "every tick, ask the database
    what is due", and exactly-once needs the database's claim rows whatever triggers the tick.
    """

    def __init__(self, digester: Digester, *, tick_s: float = 30.0, leader: Callable[[], bool] = lambda: True):
        self.digester = digester
        self.leader = leader  # several processes of one server: only the one it names sends
        self._loop = Every(tick_s, self.tick, "digest-scheduler")

    def tick(self) -> list[Outcome]:
        """Send every digest due now (nothing unless ``leader()``); what happened to each."""
        if not self.leader():
            return []
        now = self.digester.clock()
        outcomes = []
        for sub in self.digester.subscriptions():
            try:
                day = due_day(sub, now)
            except zoneinfo.ZoneInfoNotFoundError:
                log.error("subscription of %s has an unknown time zone %r; subscribe again", sub.channel_id, sub.tz)
                continue
            if day is not None:
                outcome = self.digester.send(sub, day)
                DIGEST_POSTS.labels(outcome.status).inc()
                outcomes.append(outcome)
        return outcomes

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop ticking, let a send in progress finish, and release any claim still held."""
        self._loop.stop(timeout)
        released = self.digester.release()
        if released:
            log.info("released %d digest claims at shutdown", released)
