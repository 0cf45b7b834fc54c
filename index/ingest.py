"""Ingestion: sources in, segments stored. One bad source never stops the others."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import formats
from .errors import TranscriptError
from .model import Transcript
from .segment import segment
from .sources import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    Sidecar,
    Source,
    decode,
    open_sources,
)
from .store import Episode, Store
from .text import split_title

Progress = Callable[[int, int, str], None]


@dataclass
class IngestResult:
    """What happened to one source."""

    name: str
    status: str  # added, replaced, unchanged or failed
    format: str | None = None
    episodes: list[str] = field(default_factory=list)
    segments: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def ingest(
    targets: Iterable[str],
    store: Store,
    *,
    format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
) -> list[IngestResult]:
    """Ingest every source the targets name; one result per source, in order."""
    if format is not None and format not in formats.BY_NAME:
        raise TranscriptError(f"unknown format {format!r}; choose one of: " + ", ".join(formats.BY_NAME))
    pending: list[Source | TranscriptError] = []
    for target in targets:
        pending.extend(open_sources(target, max_bytes=max_bytes, timeout_s=timeout_s))
    results = []
    for i, item in enumerate(pending, 1):
        name = item.name if isinstance(item, Source) else (item.source or "?")
        if progress:
            progress(i, len(pending), name)
        if isinstance(item, TranscriptError):
            results.append(IngestResult(name=name, status="failed", error=str(item)))
            continue
        results.append(ingest_source(item, store, format=format))
    return results


def ingest_source(source: Source, store: Store, *, format: str | None = None) -> IngestResult:
    """Parse, segment and store one source, replacing its previous version atomically."""
    digest = hashlib.sha256()
    for part in (source.data, source.meta_bytes, (format or source.format or "").encode()):
        digest.update(hashlib.sha256(part).digest())
    content_hash = digest.hexdigest()
    if store.source_hash(source.key) == content_hash:
        return IngestResult(
            name=source.name, status="unchanged", episodes=store.source_episode_ids(source.key)
        )
    replacing = store.source_hash(source.key) is not None
    try:
        text, warnings = decode(source.data)
        fmt, transcripts = _parse(text, format or source.format, source.fallback_format)
        stored = []
        taken: set[str] = set()
        owned = set(store.source_episode_ids(source.key))
        existing = store.episode_ids()
        for transcript in transcripts:
            if not transcript.cues:
                continue
            _apply_sidecar(transcript, source.meta)
            episode_id = _episode_id(transcript, source, owned - taken, existing | taken)
            taken.add(episode_id)
            segs = segment(transcript, episode_id, transcript.url)
            warnings.extend(transcript.warnings)
            stored.append((_record(episode_id, transcript, source.meta), segs))
        store.replace_source(
            key=source.key,
            name=source.name,
            content_hash=content_hash,
            format=fmt,
            warnings=warnings,
            episodes_and_segments=stored,
        )
    except TranscriptError as exc:
        return IngestResult(name=source.name, status="failed", error=str(exc.at(source.name)))
    except RecursionError:
        return IngestResult(name=source.name, status="failed", error=f"{source.name}: input nests too deeply")
    return IngestResult(
        name=source.name,
        status="replaced" if replacing else "added",
        format=fmt,
        episodes=[r.id for r, _ in stored],
        segments=sum(len(s) for _, s in stored),
        warnings=warnings,
    )


def _parse(text: str, format: str | None, fallback: str | None) -> tuple[str, list[Transcript]]:
    try:
        return formats.parse(text, format)
    except TranscriptError:
        if format is None and fallback is not None:
            return formats.parse(text, fallback)
        raise


def _apply_sidecar(transcript: Transcript, meta: Sidecar | None) -> None:
    if meta is None:
        return
    for name in ("title", "podcast", "url", "published"):
        value = getattr(meta, name)
        if value is not None:
            setattr(transcript, name, value)
    if isinstance(meta.speakers, dict):
        for cue in transcript.cues:
            if cue.speaker in meta.speakers:
                cue.speaker = meta.speakers[cue.speaker]
        transcript.speakers = [meta.speakers.get(s, s) for s in transcript.speakers]
    elif isinstance(meta.speakers, list):
        transcript.speakers = list(meta.speakers)
    for name in meta.hosts + meta.guests:
        if name not in transcript.speakers:
            transcript.speakers.append(name)


def _record(episode_id: str, t: Transcript, meta: Sidecar | None) -> Episode:
    speakers = list(dict.fromkeys(t.speakers + [c.speaker for c in t.cues if c.speaker]))
    duration = t.duration_s
    if duration is None:
        ends = [c.end_s if c.end_s is not None else c.start_s for c in t.cues]
        ends = [e for e in ends if e is not None]
        duration = max(ends) if ends else None
    return Episode(
        id=episode_id,
        title=t.title,
        podcast=t.podcast,
        url=t.url,
        published=t.published,
        duration_s=duration,
        chapters=[(c.start_s, c.title) for c in t.chapters],
        speakers=speakers,
        hosts=list(meta.hosts) if meta else [],
        guests=list(meta.guests) if meta else [],
    )


def slug(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-")


def _episode_id(t: Transcript, source: Source, owned: set[str], taken: set[str]) -> str:
    """A readable, stable id: podcast and number, or the title, or the file name.

    A source keeps the id it had. Another source's episode with the same name
    gets a suffix from this source's key (issue 4 merges such episodes).
    """
    podcast, number = split_title(t.title or "")
    podcast = t.podcast or podcast
    if number is not None and podcast:
        base = slug(f"{podcast} {number}")
    elif t.title:
        base = slug(t.title)
    else:
        base = slug(Path(source.name.rstrip("/")).name.split(".")[0]) or "episode"
    base = base or "episode"
    if base in owned or base not in taken:
        return base
    return f"{base}-{hashlib.sha1(source.key.encode()).hexdigest()[:6]}"
