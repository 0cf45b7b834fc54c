"""Ingestion: sources in, segments stored. One bad source never stops the others."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import formats
from .align import overlap, words
from .errors import BinaryFileError, TranscriptError, UnknownFormatError
from .labels import label_name
from .merge import build_episode, metadata_points_to, same_episode
from .model import Segment, Transcript, speakers_in
from .segment import check_times
from .sources import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    Sidecar,
    Source,
    decode,
    open_sources,
)
from .store import WRITE_ATTEMPTS, Episode, Store, StoreBusy
from .text import split_title

Progress = Callable[[int, int, str], None]


@dataclass
class IngestResult:
    """What happened to one source."""

    name: str
    # added, replaced, unchanged, skipped (another file of the same recording, or no transcript in a
    # folder) or failed
    status: str
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
    allow_hosts: Iterable[str] = (),
    progress: Progress | None = None,
) -> list[IngestResult]:
    """Ingest every source the targets name; one result per source, in order.

    ``max_bytes`` bounds each file (bytes); ``timeout_s`` bounds each whole fetch (seconds);
    ``allow_hosts`` are the URL hosts that may resolve to private addresses (see ``Fetcher``)."""
    if format is not None and format not in formats.BY_NAME:
        raise TranscriptError(f"unknown format {format!r}; choose one of: " + ", ".join(formats.BY_NAME))
    pending: list[Source | TranscriptError] = []
    for target in targets:
        pending.extend(open_sources(target, max_bytes=max_bytes, timeout_s=timeout_s, allow_hosts=allow_hosts))
    duplicates = same_recordings(pending, format)
    results = []
    for i, item in enumerate(pending, 1):
        name = item.name if isinstance(item, Source) else (item.source or "?")
        if progress:
            progress(i, len(pending), name)
        if isinstance(item, TranscriptError):
            results.append(IngestResult(name=name, status="failed", error=str(item)))
            continue
        if i - 1 in duplicates:
            kept, fmt = duplicates[i - 1]
            if store.source_hash(item.key) is not None:
                try:
                    store.remove_source(item.key, build_record)  # stored by an earlier run as an episode of its own
                except StoreBusy as exc:
                    results.append(IngestResult(name=name, status="failed", error=str(exc)))
                    continue
            results.append(IngestResult(name=name, status="skipped", format=fmt,
                                        warnings=[f"the same recording as {kept}, which is read instead"]))
            continue
        results.append(ingest_source(item, store, format=format))
    return results


# Which of several files of one recording is read: one with speakers, then times, then the
# format that keeps the most (JSON and WebVTT before SRT, TSV and text), then the most words.
_FORMAT_RANK = ("podcast-json", "whisper-cpp-json", "vtt", "srt", "whisper-tsv", "whisper-cpp", "plain")
SAME_RECORDING = 0.8  # share of a file's word 5-grams found in the richest file


def _richness(fmt: str, t: Transcript) -> tuple[bool, bool, int, int]:
    rank = _FORMAT_RANK.index(fmt) if fmt in _FORMAT_RANK else len(_FORMAT_RANK) - 1
    timed = sum(1 for c in t.cues if c.start_s is not None) > len(t.cues) / 2
    return (any(c.speaker or c.label for c in t.cues), timed, -rank, sum(len(c.text.split()) for c in t.cues))


def same_recordings(pending: list[Source | TranscriptError], format: str | None) -> dict[int, tuple[str, str]]:
    """Files of one recording, as whisper's default output folder writes them (``x.json``,
    ``x.srt``, ``x.vtt``, ``x.tsv``, ``x.txt``): local files of one folder and one name before
    the first dot whose words are the same (SAME_RECORDING of their word 5-grams are in the
    richest file). Returns {index in pending: (the richest file's name, this file's format)} for
    each file to skip. A whisper ``.txt`` (lines without times) is read as plain text for the
    comparison.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(pending):
        if isinstance(item, Source) and urlsplit(item.key).scheme not in ("http", "https"):
            path = Path(item.key)
            groups.setdefault((str(path.parent), path.name.split(".")[0]), []).append(i)
    skip: dict[int, tuple[str, str]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        read: dict[int, tuple[str, Transcript]] = {}
        for i in members:
            source = pending[i]
            if not isinstance(source, Source):  # only readable sources are grouped
                continue
            try:
                text, _ = decode(source.data)
                fmt, transcripts = _parse(text, format or source.format, "plain")
            except (TranscriptError, RecursionError):
                continue
            if len(transcripts) == 1:
                read[i] = (fmt, transcripts[0])
        if len(read) < 2:
            continue
        best = max(read, key=lambda i: _richness(*read[i]))
        best_words = words(read[best][1])
        for i, (fmt, t) in read.items():
            if i != best and overlap(best_words, words(t)) >= SAME_RECORDING:
                best_source = pending[best]
                if isinstance(best_source, Source):
                    skip[i] = (best_source.name, fmt)
    return skip


def ingest_source(source: Source, store: Store, *, format: str | None = None) -> IngestResult:
    """Parse, segment and store one source, replacing its previous version atomically."""
    digest = hashlib.sha256()
    for part in (source.data, source.meta_bytes, (format or source.format or "").encode()):
        digest.update(hashlib.sha256(part).digest())
    content_hash = digest.hexdigest()
    stored_hash = store.source_hash(source.key)
    if stored_hash == content_hash:
        return IngestResult(
            name=source.name, status="unchanged", episodes=store.source_episode_ids(source.key)
        )
    replacing = stored_hash is not None
    try:
        text, decode_warnings = decode(source.data)
        fmt, transcripts = _parse(text, format or source.format, source.fallback_format)
        for transcript in transcripts:
            _apply_sidecar(transcript, source.meta)
        for _ in range(WRITE_ATTEMPTS):
            # episode ids are chosen against the library as it is now; the write only lands if no
            # other write came in between (else the ids are chosen again on the new library)
            version = store.version()
            warnings = list(decode_warnings)
            parts = _assign(source, transcripts, store, warnings)
            if store.replace_source(key=source.key, name=source.name, content_hash=content_hash, format=fmt,
                                    warnings=warnings, parts=parts, build=build_record, expected_version=version):
                break
        else:
            raise StoreBusy(f"{source.name}: the library kept changing while it was stored; run the ingest again")
    except UnknownFormatError as exc:
        # found by walking a folder: skipped; a binary file is skipped whatever --format says
        if source.in_folder and (format is None or isinstance(exc, BinaryFileError)):
            return IngestResult(name=source.name, status="skipped",
                                warnings=[f"not a transcript in a format we read ({exc.message.split(';')[0]})"])
        return IngestResult(name=source.name, status="failed", error=str(exc.at(source.name)))
    except TranscriptError as exc:
        return IngestResult(name=source.name, status="failed", error=str(exc.at(source.name)))
    except StoreBusy as exc:
        return IngestResult(name=source.name, status="failed", error=str(exc))
    except RecursionError:
        return IngestResult(name=source.name, status="failed", error=f"{source.name}: input nests too deeply")
    episode_ids = list(dict.fromkeys(eid for eid, _ in parts))
    return IngestResult(
        name=source.name,
        status="replaced" if replacing else "added",
        format=fmt,
        episodes=episode_ids,
        segments=sum(e.segments for e in store.episodes() if e.id in episode_ids),
        warnings=warnings,
    )


def _assign(source: Source, transcripts: list[Transcript], store: Store,
            warnings: list[str]) -> list[tuple[str, Transcript]]:
    """(episode id, transcript) for each transcript with cues: an episode already stored that it is
    another source of, else a new id. Each transcript's warnings are added to ``warnings``."""
    heads = [(key, eid, head) for key, eid, head in store.transcript_heads() if key != source.key]
    owned = set(store.source_episode_ids(source.key))
    existing = store.episode_ids()
    parts: list[tuple[str, Transcript]] = []
    for transcript in transcripts:
        if not transcript.cues:
            continue
        check_times(transcript)
        warnings.extend(transcript.warnings)
        taken = {eid for eid, _ in parts}
        episode_id = _matching_episode(transcript, heads, store, taken) or _episode_id(
            transcript, source, owned - taken, existing | taken
        )
        parts.append((episode_id, transcript))
    return parts


def _matching_episode(
    t: Transcript, heads: list[tuple[str, str, Transcript]], store: Store, taken: set[str]
) -> str | None:
    """The stored episode this transcript is another source of, if any (metadata, then words)."""
    candidates = list(dict.fromkeys(eid for _, eid, head in heads if eid not in taken and metadata_points_to(t, head)))
    best, best_overlap = None, 0.0
    for episode_id in candidates:
        share = same_episode(t, [part for _, part in store.episode_parts(episode_id)])
        if share > best_overlap:
            best, best_overlap = episode_id, share
    return best


def build_record(episode_id: str, parts: list[tuple[str, Transcript]]) -> tuple[Episode, list[Segment]]:
    """The stored episode and its segments, from all the transcripts assigned to it."""
    built = build_episode(episode_id, parts)
    meta = built.meta
    record = Episode(
        id=episode_id,
        title=meta.title,
        podcast=meta.podcast,
        url=meta.url,
        published=meta.published,
        duration_s=meta.duration_s if meta.duration_s is not None else _last_time(built.segments),
        chapters=[(c.start_s, c.title) for c in meta.chapters],
        speakers=built.speakers,
        hosts=meta.hosts,
        guests=meta.guests,
        stats={
            "speaker_share": round(built.speaker_share, 4),
            "time_share": round(built.time_share, 4),
            "sources": {name: asdict(stats) for name, stats in built.sources.items()},
            "notes": built.notes,
        },
        speaker_evidence=[e.as_dict() for e in built.evidence],
    )
    return record, built.segments


def _last_time(segments: list[Segment]) -> float | None:
    given = [s.end_s if s.end_s is not None else s.start_s for s in segments]
    times = [t for t in given if t is not None]
    return max(times) if times else None


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
        # A key names a speaker as the source wrote it, or a diarization label as
        # the source wrote it ("SPEAKER_00") or as cards show it ("Speaker 1").
        # A named label keeps its label (Cue.label).
        mapping = meta.speakers
        for cue in transcript.cues:
            if cue.speaker in mapping:
                cue.speaker = mapping[cue.speaker]
            elif cue.speaker is None and cue.label is not None:
                cue.speaker = mapping.get(cue.label) or mapping.get(label_name(cue.label) or "")
        transcript.speakers = list(dict.fromkeys(
            [mapping.get(s, s) for s in transcript.speakers] + speakers_in(transcript.cues)))
    elif isinstance(meta.speakers, list):
        transcript.speakers = list(meta.speakers)
    transcript.hosts = list(meta.hosts)
    transcript.guests = list(meta.guests)


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
    return f"{base}-{hashlib.sha1(source.key.encode(), usedforsecurity=False).hexdigest()[:6]}"
