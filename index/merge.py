"""One episode from many transcripts.

``same_episode`` decides whether a new transcript is an episode already in the
library: its metadata must point there (the video, the podcast and episode
number, or the title) and its words must overlap the episode's words. A title
alone never merges two sources.

``build_episode`` makes the episode's searchable segments from all its
sources: the timed transcript is the one copy that is searched; a
speaker-labelled source lends it speakers, a page of snippets is located in it
(what cannot be located stays searchable, with no time and no speaker);
unnamed turns and diarization labels are named where the conversation makes
it certain (``speakers.attribute``, which also gives the evidence).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz

from .align import (
    SpeakerAlignment,
    align_speakers,
    locate_passages,
    overlap,
    words,
)
from .links import video_id
from .model import Segment, Transcript
from .segment import segment
from .speakers import Evidence, attribute
from .text import split_title
from .tokens import fold

# Share of the new source's word 5-grams that must be in the episode's words.
MIN_OVERLAP = 0.2
MIN_TITLE_SIMILARITY = 90


@dataclass
class SourceStats:
    format: str
    role: str  # timed, speakers, snippets, duplicate or separate
    passages: int
    located: int


@dataclass
class EpisodeBuild:
    segments: list[Segment]
    meta: Transcript  # the merged metadata (title, podcast, url, ...)
    speakers: list[str]
    sources: dict[str, SourceStats] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Why each inferred speaker name was given (speakers.attribute); empty when none was inferred.
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def speaker_share(self) -> float:
        return sum(1 for s in self.segments if s.speaker) / len(self.segments) if self.segments else 0.0

    @property
    def time_share(self) -> float:
        return sum(1 for s in self.segments if s.start_s is not None) / len(self.segments) if self.segments else 0.0


def _identity(t: Transcript) -> tuple[str | None, str | None, int | None]:
    podcast, number = split_title(t.title or "")
    return video_id(t.url), fold(t.podcast or podcast or "") or None, number


def metadata_points_to(new: Transcript, old: Transcript) -> bool:
    """Whether the metadata says these may be one episode (the words must still agree)."""
    new_video, new_podcast, new_number = _identity(new)
    old_video, old_podcast, old_number = _identity(old)
    if new_video and old_video:
        return new_video == old_video
    if new_number is not None and new_number == old_number:
        return not (new_podcast and old_podcast) or new_podcast == old_podcast
    if new.title and old.title:
        return fuzz.token_set_ratio(fold(new.title), fold(old.title)) >= MIN_TITLE_SIMILARITY
    return False


def same_episode(new: Transcript, episode_parts: list[Transcript]) -> float:
    """The word overlap between ``new`` and an episode's sources, or 0.0 when the metadata disagrees."""
    if not any(metadata_points_to(new, old) for old in episode_parts):
        return 0.0
    new_words = words(new)
    best = 0.0
    for old in episode_parts:
        best = max(best, overlap(words(old), new_words))
    return best if best >= MIN_OVERLAP else 0.0


def _timed_share(t: Transcript) -> float:
    return sum(1 for c in t.cues if c.start_s is not None) / len(t.cues) if t.cues else 0.0


def _word_count(t: Transcript) -> int:
    return sum(len(c.text.split()) for c in t.cues)


def build_episode(episode_id: str, parts: list[tuple[str, Transcript]]) -> EpisodeBuild:
    """The episode's segments and metadata from all its sources."""
    ranked = sorted(
        range(len(parts)),
        key=lambda i: (
            not parts[i][1].separate_cues,
            _timed_share(parts[i][1]) > 0.5,
            any(c.speaker for c in parts[i][1].cues),
            _word_count(parts[i][1]),
        ),
        reverse=True,
    )
    main_name, primary = parts[ranked[0]]
    stats = {main_name: SourceStats(primary.format, "timed" if _timed_share(primary) > 0.5 else "text",
                                    len(primary.cues), len(primary.cues))}
    notes: list[str] = []
    extra: list[Transcript] = []
    meta = replace(primary, cues=[])
    for i in ranked[1:]:
        name, part = parts[i]
        _fill_metadata(meta, part)
        if part.separate_cues:
            located = locate_passages(words(primary), part)
            found = {loc.passage for loc in located}
            stats[name] = SourceStats(part.format, "snippets", len(part.cues), len(found))
            rest = [c for n, c in enumerate(part.cues) if n not in found]
            if rest:
                extra.append(replace(part, cues=rest))
        elif any(c.speaker for c in part.cues) and not any(c.speaker for c in primary.cues):
            aligned = _aligned(primary, part)
            primary = aligned.transcript
            matched = round(aligned.matched_share * len(part.cues))
            stats[name] = SourceStats(part.format, "speakers", len(part.cues), matched)
            notes.append(
                f"{name}: speakers carried onto {aligned.matched_share:.1%} of the timed words; "
                f"{aligned.anchors_within_10s} of {aligned.anchors_checked} time anchors within 10 s"
            )
        else:
            share = overlap(words(primary), words(part))
            stats[name] = SourceStats(part.format, "duplicate", len(part.cues), round(share * len(part.cues)))
    attribution = attribute(primary, meta.hosts, meta.guests, meta.title)
    primary = attribution.transcript
    notes.extend(attribution.notes)
    segments = segment(primary, episode_id, meta.url)
    for part in extra:
        for s in segment(part, episode_id, None):
            segments.append(replace(s, seq=len(segments)))
    speakers = list(dict.fromkeys(
        [c.speaker for c in primary.cues if c.speaker] + meta.speakers + meta.hosts + meta.guests
    ))
    meta.warnings = primary.warnings
    return EpisodeBuild(segments=segments, meta=meta, speakers=speakers, sources=stats, notes=notes,
                        evidence=attribution.evidence)


_ALIGNED: OrderedDict[str, SpeakerAlignment] = OrderedDict()


def _aligned(timed: Transcript, labelled: Transcript) -> SpeakerAlignment:
    """align_speakers, remembered for the last few pairs: ingesting a third source of an
    episode rebuilds it, and the first two need not be aligned again."""
    key = hashlib.sha256((timed.to_json() + "\0" + labelled.to_json()).encode()).hexdigest()
    if key in _ALIGNED:
        _ALIGNED.move_to_end(key)
        return _ALIGNED[key]
    result = align_speakers(timed, labelled)
    _ALIGNED[key] = result
    while len(_ALIGNED) > 4:
        _ALIGNED.popitem(last=False)
    return result


def _fill_metadata(meta: Transcript, other: Transcript) -> None:
    """Fields the main source lacks, taken from another source of the episode."""
    for name in ("title", "podcast", "url", "published", "duration_s"):
        if getattr(meta, name) is None and getattr(other, name) is not None:
            setattr(meta, name, getattr(other, name))
    if not meta.chapters and other.chapters:
        meta.chapters = list(other.chapters)
    for name in ("speakers", "hosts", "guests"):
        merged = list(dict.fromkeys(getattr(meta, name) + getattr(other, name)))
        setattr(meta, name, merged)
