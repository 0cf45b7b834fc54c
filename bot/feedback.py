"""Feedback on quote cards ("Wrong speaker", "Wrong time") in the shared database.

A report keeps the segment as the user saw it (episode, time, speaker, a copy of the text), so it
still reads right after the episode is rebuilt and its segment ids change. One user reporting one
thing about one segment twice is one report: the unique key makes a second click a no-op, in
any replica.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from index.model import Segment
from index.store import utc

from .migrations import Tables, metadata

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(40), nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("kind", String(20), nullable=False),  # KINDS
    Column("segment_id", Integer, nullable=False),
    Column("episode_id", String(200), nullable=False, index=True),
    Column("start_s", Float),
    Column("speaker", Text),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("team_id", "user_id", "kind", "segment_id", name="feedback_once"),
)

KINDS = {"speaker": "Wrong speaker", "time": "Wrong time"}


@dataclass(frozen=True)
class Report:
    id: int
    team_id: str
    user_id: str
    kind: str  # "speaker" | "time"
    segment_id: int
    episode_id: str
    start_s: float | None  # seconds
    speaker: str | None
    text: str
    created_at: dt.datetime

    def to_dict(self) -> dict:
        return {**asdict(self), "created_at": self.created_at.isoformat()}


class FeedbackStore(Tables):
    """The cards' feedback reports (``handlers.feedback.Feedback``)."""

    def report(self, team_id: str, user_id: str, kind: str, segment: Segment) -> bool:
        """Store a report about ``segment``; False when this user had reported it already.

        Raises ValueError for a kind not in KINDS."""
        if kind not in KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}")
        row = {"team_id": team_id, "user_id": user_id, "kind": kind, "segment_id": int(segment.id or 0),
                   "episode_id": segment.episode_id, "start_s": segment.start_s, "speaker": segment.speaker,
                   "text": segment.text[:2000], "created_at": dt.datetime.now(dt.UTC)}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(feedback).values(**row))
        except IntegrityError:
            return False
        return True

    def reports(self) -> list[Report]:
        """Every report, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback).order_by(feedback.c.created_at, feedback.c.id))
            return [Report(r.id, r.team_id, r.user_id, r.kind, r.segment_id, r.episode_id, r.start_s, r.speaker,
                           r.text, utc(r.created_at) or dt.datetime.min.replace(tzinfo=dt.UTC)) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """{episode id: {kind: reports}}."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback.c.episode_id, feedback.c.kind, func.count())
                                .group_by(feedback.c.episode_id, feedback.c.kind))
            out: dict[str, dict[str, int]] = {}
            for episode_id, kind, n in rows:
                out.setdefault(episode_id, {})[kind] = int(n)
            return out
