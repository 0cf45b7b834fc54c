"""Cut a parsed transcript into quote segments: whole sentences, about 15 to 60 words.

Sentences never cross a speaker turn. Where the source has sentence
punctuation, a segment is one or more whole sentences; a sentence longer than
the maximum is cut at a comma, a pause or a caption boundary. Where the source
has no punctuation, windows follow caption (time) and turn boundaries.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .links import deep_link
from .model import Segment, Transcript
from .text import is_cjk

MIN_WORDS = 15
MAX_WORDS = 60
# A short last piece of a turn may stretch the segment before it this far.
STRETCH_WORDS = 75
TARGET_WORDS = 40
# A pause this long between captions ends a segment.
PAUSE_BREAK_S = 5.0
# A cue with no end time of its own lasts until the next cue starts, but no longer than its words
# take at a slow 60 words a minute; the last cue takes the usual 150 (conversational English runs at
# about 150 words a minute). So text stamped only where a block starts ("Starting point is …")
# neither stretches one line over an hour's gap nor glues blocks an hour apart into one quote.
SLOWEST_S_PER_WORD = 1.0
USUAL_S_PER_WORD = 0.4

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e",
    "approx", "inc", "ltd", "co", "corp", "no", "vol", "fig", "u.s", "u.k", "a.i",
    "p.m", "a.m", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "gen", "gov", "sen", "rep", "mt", "ph.d",
}
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«¿¡"
_SOFT = re.compile(r"[,;:—–]$|^-$|--$")


@dataclass(slots=True)
class _Word:
    text: str
    cue: int
    pos: int  # the word's place in its cue


def _ends_sentence(word: str, following: str | None) -> bool:
    base = word.rstrip(_CLOSERS)
    if not base or base[-1] not in ".?!…":
        return False
    if following is None:
        return True
    if base.endswith("."):
        stem = base.rstrip(".").lower().lstrip(_OPENERS)
        if stem in _ABBREVIATIONS or re.fullmatch(r"[a-z]", stem):
            return False
    first = following.lstrip(_OPENERS)[:1] or following[:1]
    return first.isupper() or first.isdigit() or following[:1] in _OPENERS or is_cjk(first)


def _sentences(words: list[_Word]) -> list[list[_Word]]:
    out: list[list[_Word]] = []
    current: list[_Word] = []
    for i, w in enumerate(words):
        current.append(w)
        following = words[i + 1].text if i + 1 < len(words) else None
        if _ends_sentence(w.text, following):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _split_long(words: list[_Word], gaps: dict[int, float]) -> list[list[_Word]]:
    """Cut a run of more than MAX_WORDS words into windows of at most MAX_WORDS.

    Cut points are scored: after a comma or dash, at a caption boundary with a
    pause before it, near TARGET_WORDS words.
    """
    pieces: list[list[_Word]] = []
    at = 0  # words before ``at`` are cut off already: an index, not a slice, keeps this linear
    while len(words) - at > MAX_WORDS:
        left = len(words) - at
        best, best_score = min(TARGET_WORDS, left // 2), float("-inf")
        for j in range(MIN_WORDS, min(MAX_WORDS, left - MIN_WORDS) + 1):
            score = -abs(j - TARGET_WORDS) / TARGET_WORDS
            if _SOFT.search(words[at + j - 1].text):
                score += 1.0
            if words[at + j].cue != words[at + j - 1].cue:
                score += 0.5 + min(gaps.get(words[at + j].cue, 0.0), 3.0) / 3.0
            if score > best_score:
                best, best_score = j, score
        pieces.append(words[at:at + best])
        at += best
    pieces.append(words[at:])
    return pieces


def _pack(sentences: list[list[_Word]], breaks: set[int]) -> list[list[_Word]]:
    """Join sentences into segments; a sentence starting a cue in ``breaks`` starts a new one."""
    segments: list[list[_Word]] = []
    current: list[_Word] = []
    for sentence in sentences:
        total = len(current) + len(sentence)
        starts_break = sentence[0].pos == 0 and sentence[0].cue in breaks
        if current and (
            starts_break or (total > MAX_WORDS and (len(current) >= MIN_WORDS or total > STRETCH_WORDS))
        ):
            segments.append(current)
            current = []
        current = current + sentence
    if current:
        if (
            len(current) < MIN_WORDS and segments
            and len(segments[-1]) + len(current) <= STRETCH_WORDS
            and not (current[0].pos == 0 and current[0].cue in breaks)
        ):
            segments[-1] = segments[-1] + current
        else:
            segments.append(current)
    return segments


def _runs(transcript: Transcript, cuts: frozenset[int] | set[int] = frozenset()) -> list[list[_Word]]:
    """Word runs that a segment may not cross: speaker turns, separate passages, and the cues in ``cuts``."""
    runs: list[list[_Word]] = []
    current: list[_Word] = []
    previous: tuple[str | None, str | None] = (None, None)
    for i, cue in enumerate(transcript.cues):
        boundary = transcript.separate_cues or cue.turn or (i > 0 and cue.voice != previous) or i in cuts
        if boundary and current:
            runs.append(current)
            current = []
        previous = cue.voice
        current.extend(_Word(w, i, k) for k, w in enumerate(cue.text.split()))
    if current:
        runs.append(current)
    return runs


def _times(transcript: Transcript) -> tuple[list[float | None], list[float | None], list[tuple[int, int]]]:
    """Start and end times per cue, and the cues whose start goes back in time
    (with the timed cue before each).

    A cue that starts before the cue before it keeps its own time (and starts
    a segment of its own: see ``segment``). An untimed cue inside a timed
    transcript takes the time of the cue before it. A cue with no end of its
    own ends when the next one starts, at most SLOWEST_S_PER_WORD a word after
    its start (the last cue: USUAL_S_PER_WORD a word).
    """
    starts: list[float | None] = []
    backwards: list[tuple[int, int]] = []
    last: float | None = None
    last_timed = -1
    for i, cue in enumerate(transcript.cues):
        t = cue.start_s
        if t is not None and last is not None and t < last:
            backwards.append((i, last_timed))
        if t is None:
            t = last
        else:
            last_timed = i
        starts.append(t)
        if t is not None:
            last = t
    ends: list[float | None] = []
    for i, cue in enumerate(transcript.cues):
        end = cue.end_s
        start = starts[i]
        if end is None and start is not None:
            words = max(1, len(cue.text.split()))
            nxt = starts[i + 1] if i + 1 < len(starts) else None
            end = start + words * USUAL_S_PER_WORD if nxt is None else min(nxt, start + words * SLOWEST_S_PER_WORD)
        if end is not None and start is not None and end < start:
            end = start
        ends.append(end)
    return starts, ends, backwards


def _warn_backwards(transcript: Transcript, backwards: list[tuple[int, int]]) -> None:
    for i, b in backwards:
        this, before = transcript.cues[i], transcript.cues[b]
        where = f"line {this.line}" if this.line else f"cue {i + 1}"
        after = f"line {before.line}" if before.line else f"cue {b + 1}"
        warning = (f"{where}: starts at {this.start_s or 0.0:.3f} s, before the cue of {after} "
                   f"({before.start_s or 0.0:.3f} s); kept with its own time, as a segment of its own")
        if warning not in transcript.warnings:
            transcript.warnings.append(warning)


def check_times(transcript: Transcript) -> None:
    """Add to ``transcript.warnings`` one warning per cue whose start goes back in time, naming its
    line and the line of the cue before it (as ``segment`` does; called at ingest so that the
    warnings are reported with the source's, before any segmenting)."""
    _warn_backwards(transcript, _times(transcript)[2])


def segment(transcript: Transcript, episode_id: str, url: str | None = None) -> list[Segment]:
    """The quote segments of ``transcript``, numbered from 0, with deep links to ``url``."""
    starts, ends, backwards = _times(transcript)
    _warn_backwards(transcript, backwards)
    gaps = {
        i: max(0.0, (starts[i] or 0.0) - (ends[i - 1] or 0.0))
        for i in range(1, len(starts))
        if starts[i] is not None and ends[i - 1] is not None
    }
    chapters = sorted(transcript.chapters, key=lambda c: c.start_s)
    chapter_starts = [c.start_s for c in chapters]
    # Cues that start a new segment: after a long pause, or in a new chapter.
    breaks = {i for i, gap in gaps.items() if gap >= PAUSE_BREAK_S}
    # A cue that goes back in time is a segment of its own.
    cuts = {j for i, _ in backwards for j in (i, i + 1)}
    known = [s if s is not None else -1.0 for s in starts]
    for c in chapter_starts:
        k = bisect.bisect_left(known, c)
        if 0 < k < len(known):
            breaks.add(k)

    out: list[Segment] = []
    for run in _runs(transcript, cuts):
        pieces: list[list[_Word]] = []
        for sentence in _sentences(run):
            pieces.extend(_split_long(sentence, gaps))
        for words in _pack(pieces, breaks):
            first, last = words[0].cue, words[-1].cue
            cue = transcript.cues[first]
            start = _word_time(starts[first], ends[first], words[0].pos, len(cue.text.split()))
            chapter = None
            if start is not None and chapters:
                k = bisect.bisect_right(chapter_starts, start) - 1
                chapter = chapters[k].title if k >= 0 else None
            out.append(
                Segment(
                    episode_id=episode_id,
                    seq=len(out),
                    text=" ".join(w.text for w in words),
                    start_s=start,
                    end_s=ends[last],
                    speaker=cue.speaker,
                    speaker_label=cue.label,
                    translation=_translation(transcript, words),
                    chapter=chapter,
                    url=deep_link(url, start),
                )
            )
    return out


def _word_time(start: float | None, end: float | None, pos: int, count: int) -> float | None:
    """When the ``pos``-th of ``count`` words of a cue was said, spreading the cue evenly."""
    if start is None or end is None or pos == 0 or count == 0:
        return start
    return start + (end - start) * pos / count


def _translation(transcript: Transcript, words: list[_Word]) -> str | None:
    """The translations of the cues that start inside this segment, those that have one.

    A cue without a translation does not drop its neighbours' (a line the
    translator skipped, or one dropped as untrusted): the segment keeps what
    it has, in order. None when no cue has one.
    """
    starting = [w.cue for w in words if w.pos == 0]
    texts = [t for c in starting if (t := transcript.cues[c].translation)]
    return "".join(texts) or None
