"""Claim rows in the shared database: events handled, requests seen, buttons pressed.

One table (``slack_events``) holds every "done once" key, so a retried event, a replayed request
or a double click is handled once whichever replica gets it:

- ``Ev…``: an Events API event id (Slack's retries carry the same id);
- ``request:<sha256>``: a signed HTTP request's ``X-Slack-Signature``, so a replay of a command or
  a click inside Slack's 5-minute window gets 401 (see ``once_per_request``);
- ``click:<sha256>``: a button that writes (``handlers.actions``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from sqlalchemy import Column, DateTime, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError

from .migrations import Tables, metadata

log = logging.getLogger("quotebot.events")

seen_events = Table(
    "slack_events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

KEEP = dt.timedelta(days=1)  # Slack retries within minutes and replays are refused after 5: a day is plenty


class EventLog(Tables):
    """The claim rows (``handlers.actions.Once``): ``first_time(key)`` claims, ``forget(key)`` releases."""

    def first_time(self, event_id: str) -> bool:
        """Claim ``event_id`` (at most 200 characters are kept); False when it was claimed already
        (by any process). Raises SQLAlchemy's errors when the database cannot record it."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(seen_events).values(event_id=event_id[:200], seen_at=now))
        except IntegrityError:
            return False
        if hash(event_id) % 100 == 0:  # now and then, forget old events
            with self.engine.begin() as conn:
                conn.execute(delete(seen_events).where(seen_events.c.seen_at < now - KEEP))
        return True

    def forget(self, event_id: str) -> None:
        """Release a claim (the work it guarded failed), so the key can be claimed again."""
        with self.engine.begin() as conn:
            conn.execute(delete(seen_events).where(seen_events.c.event_id == event_id[:200]))


def once_per_request(first_time: Callable[[str], bool]) -> Callable[..., BoltResponse]:
    """A Bolt middleware (after Bolt's signature check) that records each request before any
    listener runs or anything is acknowledged:

    - an Events API event already handled (Slack's retry): 200, nothing more is done;
    - a signed request seen before (the same ``X-Slack-Signature``: a byte-identical replay inside
      Slack's 5-minute window) of a command or an interaction: 401; of an event: 200, as above;
    - when the database cannot record it (locked, down): 503, so Slack retries the event later
      instead of taking an ack for an answer that will never come.

    Socket Mode requests carry no signature; their events are still handled once.
    """

    def middleware(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:  # Bolt passes `next` by name
        body = req.body if isinstance(req.body, dict) else {}
        event: dict = body["event"] if isinstance(body.get("event"), dict) else {}
        is_event = body.get("type") == "event_callback"
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        try:
            if signature and not first_time("request:" + hashlib.sha256(signature.encode()).hexdigest()):
                if is_event:
                    return BoltResponse(status=200, body="")
                log.warning("a replayed request was refused (its signature was seen before)")
                return BoltResponse(status=401, body="replayed request")
            if is_event:
                event_id = (
                    body.get("event_id") or f"{event.get('channel')}:{event.get('ts') or event.get('message_ts')}"
                )
                if not first_time(str(event_id)):
                    return BoltResponse(status=200, body="")
        except Exception:  # any database failure: let Slack retry
            log.exception("could not record the request; answering 503 so that Slack retries")
            return BoltResponse(status=503, body="try again")
        return next()

    return middleware
