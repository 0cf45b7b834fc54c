"""The library on disk: sources, their parsed transcripts, episodes and segments, in SQL.

SQLAlchemy Core, so the same code runs on SQLite (the default) and PostgreSQL.
A source keeps its parsed transcripts, each assigned to an episode; an
episode's segments are built from all the transcripts assigned to it. A source
is replaced whole, with its episodes rebuilt, in one short transaction (the
building happens before it): a search never sees half of it, and a failed
ingest leaves what was stored before. A segment keeps its row id while its
content is unchanged, and a row id is never given to another segment.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from . import migrations
from .model import Segment, Transcript

metadata = MetaData()

episodes = Table(
    "episodes",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("title", Text),
    Column("podcast", Text),
    Column("url", Text),
    Column("published", Date),
    Column("duration_s", Float),
    Column("chapters", Text, nullable=False, default="[]"),  # JSON [[start_s, title], ...]
    Column("speakers", Text, nullable=False, default="[]"),  # JSON [name, ...]
    Column("hosts", Text, nullable=False, default="[]"),
    Column("guests", Text, nullable=False, default="[]"),
    Column("stats", Text, nullable=False, default="{}"),  # JSON: how the sources merged
    Column("added_at", DateTime(timezone=True)),  # first stored; kept when the episode is rebuilt
    # JSON [{name, rule, time_s, words}, ...]: why each inferred speaker name was given (speakers.py)
    Column("speaker_evidence", Text, nullable=False, default="[]"),
)

sources = Table(
    "sources",
    metadata,
    Column("key", String(1000), primary_key=True),  # absolute path or URL
    Column("name", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("format", String(40), nullable=False),
    Column("warnings", Text, nullable=False, default="[]"),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
)

# A source's parsed transcripts, each assigned to an episode.
transcripts = Table(
    "transcripts",
    metadata,
    Column("source_key", String(1000), ForeignKey("sources.key", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("episode_id", String(200), nullable=False, index=True),
    Column("title", Text),
    Column("podcast", Text),
    Column("url", Text),
    Column("payload", Text, nullable=False),  # Transcript.to_json()
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("episode_id", String(200), ForeignKey("episodes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("start_s", Float),
    Column("end_s", Float),
    Column("speaker", Text),  # a named person
    Column("speaker_label", Text),  # the source's diarization label (SPEAKER_00, spk_1, A), see Cue.label
    Column("text", Text, nullable=False),
    Column("translation", Text),
    Column("chapter", Text),
    Column("url", Text),
    sqlite_autoincrement=True,  # a deleted segment's id is never handed to another (see _write_episode)
)

# One row: bumped by every change to the library, so indexes know to rebuild.
library = Table(
    "library",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)


@dataclass
class Episode:
    """An episode as stored, with how many segments it has and where it came from."""

    id: str
    title: str | None = None
    podcast: str | None = None
    url: str | None = None
    published: dt.date | None = None
    duration_s: float | None = None
    chapters: list[tuple[float, str]] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)
    segments: int = 0
    sources: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    added_at: dt.datetime | None = None
    # Why each speaker name the transcripts did not give was inferred: {name, rule, time_s, words}
    # dicts (speakers.Evidence.as_dict), in the order found.
    speaker_evidence: list[dict] = field(default_factory=list)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'quotebot.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:  # pragma: no cover - trivial
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """Episodes, sources and segments in one SQL database."""

    def __init__(self, url: str, clock: Callable[[], dt.datetime] | None = None):
        self.url = url
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))  # when things were stored
        # UTF-8 on the wire whatever the server's default (a SQL_ASCII database hands back bytes)
        connect = {"client_encoding": "utf8"} if url.startswith("postgresql") else {}
        self.engine: Engine = create_engine(url, future=True, connect_args=connect)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        migrations.upgrade(self.engine)
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(library.c.version)).first() is None:
                    conn.execute(insert(library).values(id=1, version=0))
        except IntegrityError:
            pass  # another process starting at the same moment put the row in first

    def close(self) -> None:
        self.engine.dispose()

    # --- reading -------------------------------------------------------------

    def version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(library.c.version)).scalar_one())

    def source_hash(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(sources.c.content_hash).where(sources.c.key == key)).scalar()

    def source_episode_ids(self, key: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(transcripts.c.episode_id).where(transcripts.c.source_key == key).order_by(transcripts.c.idx)
            )
            return list(dict.fromkeys(r[0] for r in rows))

    def transcript_heads(self) -> list[tuple[str, str, Transcript]]:
        """(source key, episode id, metadata-only transcript) of every stored transcript."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(
                transcripts.c.source_key, transcripts.c.episode_id,
                transcripts.c.title, transcripts.c.podcast, transcripts.c.url,
            ))
            return [(r.source_key, r.episode_id, Transcript("", title=r.title, podcast=r.podcast, url=r.url))
                    for r in rows]

    def episode_parts(self, episode_id: str) -> list[tuple[str, Transcript]]:
        """(source name, transcript) of every transcript assigned to the episode, in source order."""
        return [(name, t) for _, _, name, t in self._keyed_parts(episode_id)]

    def _keyed_parts(self, episode_id: str) -> list[tuple[str, int, str, Transcript]]:
        """(source key, index in the source, source name, transcript) of the episode's transcripts."""
        query = (
            select(transcripts.c.source_key, transcripts.c.idx, sources.c.name, transcripts.c.payload)
            .join(sources, sources.c.key == transcripts.c.source_key)
            .where(transcripts.c.episode_id == episode_id)
            .order_by(sources.c.key, transcripts.c.idx)
        )
        with self.engine.connect() as conn:
            return [(r.source_key, r.idx, r.name, Transcript.from_json(r.payload)) for r in conn.execute(query)]

    def episode_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(episodes.c.id))}

    def segment_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(segments)).scalar_one())

    def episodes(self) -> list[Episode]:
        """Every episode, with its segment count and source names."""
        return self._episodes(None)

    def episode(self, episode_id: str) -> Episode | None:
        found = self._episodes(episode_id)
        return found[0] if found else None

    def _episodes(self, only: str | None) -> list[Episode]:
        query = select(episodes).order_by(episodes.c.podcast, episodes.c.title, episodes.c.id)
        counting = select(segments.c.episode_id, func.count()).group_by(segments.c.episode_id)
        linking = (
            select(transcripts.c.episode_id, sources.c.name)
            .join(sources, sources.c.key == transcripts.c.source_key)
            .distinct()
            .order_by(sources.c.name)
        )
        if only is not None:
            query = query.where(episodes.c.id == only)
            counting = counting.where(segments.c.episode_id == only)
            linking = linking.where(transcripts.c.episode_id == only)
        with self.engine.connect() as conn:
            counts: dict[str, int] = {str(k): int(v) for k, v in conn.execute(counting).all()}
            names: dict[str, list[str]] = {}
            for episode_id, name in conn.execute(linking):
                names.setdefault(episode_id, []).append(name)
            return [
                Episode(
                    id=row.id,
                    title=row.title,
                    podcast=row.podcast,
                    url=row.url,
                    published=row.published,
                    duration_s=row.duration_s,
                    chapters=[(float(s), str(t)) for s, t in json.loads(row.chapters)],
                    speakers=json.loads(row.speakers),
                    hosts=json.loads(row.hosts),
                    guests=json.loads(row.guests),
                    segments=int(counts.get(row.id, 0)),
                    sources=names.get(row.id, []),
                    stats=json.loads(row.stats),
                    added_at=utc(row.added_at),
                    speaker_evidence=json.loads(row.speaker_evidence or "[]"),
                )
                for row in conn.execute(query)
            ]

    def episodes_added(self, since: dt.datetime, until: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """(episode id, when it was first stored) of the episodes added in (since, until], newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(episodes.c.id, episodes.c.added_at)
                .where(episodes.c.added_at > since, episodes.c.added_at <= until)
                .order_by(episodes.c.added_at.desc(), episodes.c.id)
            )
            return [(r.id, r.added_at if r.added_at.tzinfo else r.added_at.replace(tzinfo=dt.UTC)) for r in rows]

    def iter_segments(self, batch: int = 10_000) -> Iterator[Segment]:
        """Every segment (with its row id), in episode order."""
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(
                select(segments).order_by(segments.c.episode_id, segments.c.seq)
            )
            for rows in result.partitions(batch):
                for r in rows:
                    yield _segment(r)

    def segments_by_id(self, ids: list[int]) -> dict[int, Segment]:
        """The segments with these row ids (missing ids are left out)."""
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(segments).where(segments.c.id.in_([int(i) for i in ids])))
            return {r.id: _segment(r) for r in rows}

    def neighbours(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]:
        """The segment and up to ``before``/``after`` segments around it in its episode, in order."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(segments.c.episode_id, segments.c.seq).where(segments.c.id == segment_id)
            ).first()
            if row is None:
                return []
            rows = conn.execute(
                select(segments)
                .where(
                    segments.c.episode_id == row.episode_id,
                    segments.c.seq.between(row.seq - before, row.seq + after),
                )
                .order_by(segments.c.seq)
            )
            return [_segment(r) for r in rows]

    def segment_at(self, episode_id: str, second: float) -> Segment | None:
        """The episode's segment being said at ``second`` (the last one to start by then).

        ``second`` is a whole second, as ``at:1:23:45`` and a link's ``t=`` give it; links floor a
        segment's start (``index.links``), so a segment that starts inside that second counts as
        started: a card's own link finds that card's segment, not the one before it. Past the end of
        the episode (more than PAST_END_S after its last segment ends) nothing is being said: None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(segments)
                .where(segments.c.episode_id == episode_id, segments.c.start_s < math.floor(second) + 1)
                .order_by(segments.c.start_s.desc(), segments.c.seq.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            if row.end_s is not None and second > row.end_s + PAST_END_S:
                later = conn.execute(
                    select(segments.c.id)
                    .where(segments.c.episode_id == episode_id, segments.c.start_s > row.start_s)
                    .limit(1)
                ).first()
                if later is None:
                    return None
            return _segment(row)

    def segments_of(self, episode_id: str) -> list[Segment]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(segments).where(segments.c.episode_id == episode_id).order_by(segments.c.seq)
            )
            return [_segment(r) for r in rows]

    # --- writing -------------------------------------------------------------
    #
    # Parsing, merging and segmenting happen outside any transaction (``build`` runs on what was
    # read); the writes then go in one short transaction that first bumps the library version,
    # but only from the version the work started from. Another writer in between makes that bump
    # match nothing: the transaction is rolled back and the caller redoes the work on the new
    # library. So a long ingest never holds the database's write lock (SQLite has one for the
    # whole file) while it computes, and two ingests never overwrite each other's episodes.

    def replace_source(
        self,
        *,
        key: str,
        name: str,
        content_hash: str,
        format: str,
        warnings: list[str],
        parts: list[tuple[str, Transcript]],
        build: Callable[[str, list[tuple[str, Transcript]]], tuple[Episode, list[Segment]]],
        expected_version: int | None = None,
    ) -> bool:
        """Store a source's transcripts (each with its episode id), replacing what it had, with
        every episode it touches rebuilt by ``build``, atomically.

        ``expected_version``: the library version ``parts`` were worked out from (episode ids are
        chosen against what is stored); when another write landed since, nothing is written and
        the result is False, so the caller works them out again. Without it the version is read
        here, and False means a concurrent write landed while the episodes were being built.
        """
        version = self.version() if expected_version is None else expected_version
        touched = list(dict.fromkeys(self.source_episode_ids(key) + [eid for eid, _ in parts]))
        # build works on copies, as it would on transcripts read back: what is stored is what was parsed
        mine = [(key, idx, name, Transcript.from_json(t.to_json())) for idx, (_, t) in enumerate(parts)]
        built = {eid: self._built(eid, [m for m, (e, _) in zip(mine, parts) if e == eid], key, build)
                 for eid in touched}
        with self.engine.begin() as conn:
            if not self._bump(conn, version):
                return False
            self._drop_source(conn, key)
            conn.execute(insert(sources).values(
                key=key, name=name, content_hash=content_hash, format=format,
                warnings=json.dumps(warnings), ingested_at=self.clock(),
            ))
            for idx, (episode_id, transcript) in enumerate(parts):
                conn.execute(insert(transcripts).values(
                    source_key=key, idx=idx, episode_id=episode_id, title=transcript.title,
                    podcast=transcript.podcast, url=transcript.url, payload=transcript.to_json(),
                ))
            for episode_id, record in built.items():
                self._write_episode(conn, episode_id, record)
        return True

    def remove_source(
        self, key: str, build: Callable[[str, list[tuple[str, Transcript]]], tuple[Episode, list[Segment]]]
    ) -> None:
        """Forget a source; the episodes it touched are rebuilt from what is left.

        Raises ``StoreBusy`` when other writes kept landing while the episodes were rebuilt."""
        for _ in range(WRITE_ATTEMPTS):
            version = self.version()
            built = {eid: self._built(eid, [], key, build) for eid in self.source_episode_ids(key)}
            with self.engine.begin() as conn:
                if not self._bump(conn, version):
                    continue
                self._drop_source(conn, key)
                for episode_id, record in built.items():
                    self._write_episode(conn, episode_id, record)
                return
        raise StoreBusy(f"could not remove {key}: the library kept changing; try again")

    def _built(self, episode_id: str, mine: list[tuple[str, int, str, Transcript]], key: str,
               build: Callable[[str, list[tuple[str, Transcript]]], tuple[Episode, list[Segment]]],
               ) -> tuple[Episode, list[Segment]] | None:
        """The episode built from the stored transcripts of other sources and ``mine`` (this
        source's new ones), in source order; None when no transcript is left."""
        keyed = [p for p in self._keyed_parts(episode_id) if p[0] != key] + mine
        keyed.sort(key=lambda p: (p[0], p[1]))
        return build(episode_id, [(n, t) for _, _, n, t in keyed]) if keyed else None

    def _drop_source(self, conn: Connection, key: str) -> None:
        conn.execute(delete(transcripts).where(transcripts.c.source_key == key))
        conn.execute(delete(sources).where(sources.c.key == key))

    def _write_episode(self, conn: Connection, episode_id: str,
                       built: tuple[Episode, list[Segment]] | None) -> None:
        """Write an episode's new record and segments, keeping the row id of every segment that
        is unchanged (same words, times, speaker, link: only its place may move), so a search
        index built before still finds the same text under an id. Changed segments get new ids;
        ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL)."""
        added = conn.execute(select(episodes.c.added_at).where(episodes.c.id == episode_id)).scalar()
        if built is None:
            conn.execute(delete(segments).where(segments.c.episode_id == episode_id))
            conn.execute(delete(episodes).where(episodes.c.id == episode_id))
            return
        record, segs = built
        row = _episode_row(record)
        row["added_at"] = added or self.clock()
        if added is None and conn.execute(select(episodes.c.id).where(episodes.c.id == episode_id)).first() is None:
            conn.execute(insert(episodes).values(**row))
        else:
            conn.execute(update(episodes).where(episodes.c.id == episode_id).values(**row))
        old: dict[tuple, list[tuple[int, int]]] = {}
        for r in conn.execute(select(segments).where(segments.c.episode_id == episode_id).order_by(segments.c.id)):
            old.setdefault(_content(r), []).append((r.id, r.seq))
        fresh, moved = [], []
        for s in segs:
            same = old.get(_content(s))
            if same:
                sid, seq = same.pop(0)
                if seq != s.seq:
                    moved.append({"sid": sid, "new_seq": s.seq})
            else:
                fresh.append({"episode_id": episode_id, "seq": s.seq, "start_s": s.start_s, "end_s": s.end_s,
                              "speaker": s.speaker, "speaker_label": s.speaker_label, "text": s.text,
                              "translation": s.translation, "chapter": s.chapter, "url": s.url})
        gone = [sid for ids in old.values() for sid, _ in ids]
        for i in range(0, len(gone), 500):
            conn.execute(delete(segments).where(segments.c.id.in_(gone[i:i + 500])))
        if moved:
            conn.execute(update(segments).where(segments.c.id == bindparam("sid")).values(seq=bindparam("new_seq")),
                         moved)
        if fresh:
            conn.execute(insert(segments), fresh)

    def _bump(self, conn: Connection, expected: int) -> bool:
        """Move the library to the next version, if it is still at ``expected``. The first write of
        a transaction, so it also takes the write lock (SQLite) or the row lock (PostgreSQL)."""
        result = conn.execute(update(library).where(library.c.version == expected).values(version=expected + 1))
        return result.rowcount == 1


WRITE_ATTEMPTS = 8  # a write redone after this many concurrent writes gives up (StoreBusy)
PAST_END_S = 60.0  # an at: or link time this long after an episode's last segment ends is past its end


class StoreBusy(Exception):
    """Other writes kept landing while this one was being worked out; the message says to retry."""


def _content(s: Any) -> tuple[Any, ...]:
    """What makes a segment the same segment, whatever its place (a stored row or a ``Segment``)."""
    return (s.text, s.start_s, s.end_s, s.speaker, s.speaker_label, s.translation, s.chapter, s.url)


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands them back naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _episode_row(r: Episode) -> dict:
    return {
        "id": r.id,
        "title": r.title,
        "podcast": r.podcast,
        "url": r.url,
        "published": r.published,
        "duration_s": r.duration_s,
        "chapters": json.dumps([[s, t] for s, t in r.chapters], ensure_ascii=False),
        "speakers": json.dumps(r.speakers, ensure_ascii=False),
        "hosts": json.dumps(r.hosts, ensure_ascii=False),
        "guests": json.dumps(r.guests, ensure_ascii=False),
        "stats": json.dumps(r.stats, ensure_ascii=False),
        "speaker_evidence": json.dumps(r.speaker_evidence, ensure_ascii=False),
    }


def _segment(r: Any) -> Segment:
    return Segment(
        episode_id=r.episode_id,
        seq=r.seq,
        text=r.text,
        start_s=r.start_s,
        end_s=r.end_s,
        speaker=r.speaker,
        speaker_label=r.speaker_label,
        translation=r.translation,
        chapter=r.chapter,
        url=r.url,
        id=r.id,
    )
