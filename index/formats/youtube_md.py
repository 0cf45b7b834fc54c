"""YouTube/whisper markdown export (seed 000).

The file looks like::

    ---
    Date Generated: February 03, 2025
    Transcription Model: whisper medium 20231117
    Length: 18378s
    Video Description: ... free text, with an outline such as
    0:00 - Introduction
    1:09:16 - AGI timeline
    ---

    # DeepSeek, China, ... | Lex Fridman Podcast #459
    **Lex Fridman:** [February 02, 2025](https://www.youtube.com/watch?v=_1f-o0nqpEI)
    *  The following is a conversation ... [[00:00:00](https://www.youtube.com/watch?v=_1f-o0nqpEI&t=0.0s)]

The ``**Channel:** [date](url)`` line names the channel, the publish date and
the video, never a speaker; the file names no speakers at all. Each ``*`` line
is one whisper segment; its ``[[hh:mm:ss](url&t=12.34s)]`` suffix is optional
(other exports from the same tool omit it). The ``t=`` value is more precise
than the label, so it gives ``start_s``; ``end_s`` is the next cue's start.
``>>`` in a line marks a change of speaker, as in other whisper output: each
piece becomes a cue with ``turn=True`` and the line's times.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from ..errors import TranscriptError
from ..model import Chapter, Cue, Transcript
from ..text import (
    collapse_repeats,
    norm_word,
    parse_clock,
    repair_mojibake,
    split_title,
    split_turns,
    squash,
    strip_noise,
)

NAME = "youtube-md"


_HEADER_KEY = re.compile(
    r"^(Date Generated|Transcription Model|Length|Video Keywords|Video Views|Video Rating|Video Description)\s*:", re.I
)
_SNIFF_KEY = re.compile(r"^(Date Generated|Transcription Model)\s*:", re.I | re.M)
_TITLE = re.compile(r"^#\s+(?P<title>\S.*)$")
_CHANNEL = re.compile(r"^\*\*(?P<channel>[^*\n]+?):?\*\*:?\s*\[(?P<date>[^\]\n]*)\]\((?P<url>[^)\s]*)\)\s*$")
_BULLET = re.compile(r"^\*\s+(?P<body>.*)$")
_SUFFIX = re.compile(r"\[\[(?P<label>[^\]]*)\]\((?P<url>[^)]*)\)\]\s*")
_BULLET_WITH_LINK = re.compile(r"^\*\s+\S.*\[\[[^\]\n]*\]\(https?://[^)\n]*\)\]\s*$", re.M)
_CHAPTER = re.compile(r"^\s*(?P<clock>\d{1,2}(?::\d{1,2}){1,2})\s*[-–—]\s*(?P<title>\S.*)$")
_LENGTH = re.compile(r"^(?P<seconds>\d{1,9}(?:\.\d{1,9})?)\s*s?$", re.I)
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\([^()\s\[\]]*\)")  # no nested brackets: linear on any line
_T_PARAM = re.compile(r"[?&#]t=([^&#]*)")
_T_SECONDS = re.compile(r"^(?P<s>\d{1,9}(?:\.\d{1,20})?)s?$")
_T_HMS = re.compile(r"^(?:(?P<h>\d{1,6})h)?(?:(?P<m>\d{1,6})m)?(?:(?P<s>\d{1,9}(?:\.\d{1,9})?)s)?$")


def sniff(text: str) -> bool:
    """True for this exporter: its header keys, its channel line, or its timed bullets."""
    head = text[:20000]
    if head.lstrip("\ufeff").startswith("---") and _SNIFF_KEY.search(head):
        return True
    lines = head.splitlines()
    for i, line in enumerate(lines[:-1]):
        if _TITLE.match(line):
            following = next((nxt for nxt in lines[i + 1:i + 4] if nxt.strip()), "")
            if _CHANNEL.match(following.strip()):
                return True
    return len(_BULLET_WITH_LINK.findall(head)) >= 3


def _clean(text: str) -> str:
    """Display text: mojibake repaired, links reduced to their text, no bold, no noise tags."""
    if not text.isascii():  # pure ASCII cannot be mojibake; ftfy is slow
        text = repair_mojibake(text)
    text = _MD_LINK.sub(r"\1", text)
    text = text.replace("**", "")
    return strip_noise(text)



def _t_value(url: str, line: int) -> float | None:
    """Seconds from a YouTube link's ``t=`` (``12.34s``, ``754``, ``1h2m3s``); None when absent."""
    found = _T_PARAM.search(url)
    if not found:
        return None
    value = found.group(1).strip()
    m = _T_SECONDS.match(value)
    if m:
        seconds = float(m.group("s"))
    else:
        m = _T_HMS.match(value)
        if not m or not any(m.groups()):
            raise TranscriptError(f"malformed t= value {value[:40]!r} in timestamp link", line=line)
        seconds = int(m.group("h") or 0) * 3600 + int(m.group("m") or 0) * 60 + float(m.group("s") or 0)
    # Whisper float noise: t=18348.559999999998s is 18348.56.
    return round(seconds, 6)


def _parse_date(value: str) -> dt.date | None:
    value = squash(value)
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%d", "%d %B %Y", "%B %d %Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _header_end(lines: list[str]) -> int:
    """Index of the line closing the ``---`` header that opens ``lines`` (-1 if none opens)."""
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        return -1
    closers = [i for i in range(1, len(lines)) if lines[i].strip() == "---"]
    if not closers:
        raise TranscriptError("the '---' header block is never closed", line=1)
    # The description may itself hold a '---' line: the header ends at the
    # closer followed by the title or the first timed line.
    for i in closers:
        following = next((nxt.strip() for nxt in lines[i + 1:] if nxt.strip()), "")
        if not following or _TITLE.match(following) or _BULLET.match(following):
            return i
    return closers[0]


def _read_header(lines: list[tuple[int, str]], transcript: Transcript) -> None:
    """Length, chapters (the description's outline) from the header lines."""
    for number, raw in lines:
        line = repair_mojibake(raw).strip()
        if line.lower().startswith("length:"):
            m = _LENGTH.match(line.split(":", 1)[1].strip())
            if m:
                transcript.duration_s = float(m.group("seconds"))
            else:
                transcript.warnings.append(f"line {number}: unreadable Length {line[:60]!r}")
            continue
        if _HEADER_KEY.match(line):
            continue
        m = _CHAPTER.match(line)
        if m:
            try:
                start = parse_clock(m.group("clock"), line=number)
            except TranscriptError as exc:
                transcript.warnings.append(f"line {number}: chapter skipped, {exc.message}")
                continue
            title = squash(_clean(m.group("title")))
            if title:
                transcript.chapters.append(Chapter(start_s=start, title=title))


def parse(text: str) -> list[Transcript]:
    """The one transcript in a YouTube/whisper markdown export."""
    lines = text.splitlines()
    transcript = Transcript(format=NAME)
    end = _header_end(lines)
    if end >= 0:
        _read_header([(i + 1, lines[i]) for i in range(1, end)], transcript)
    channel: str | None = None
    last_key: str | None = None
    cues: list[Cue] = []
    for index in range(end + 1, len(lines)):
        number = index + 1
        raw = lines[index]
        line = raw.strip()
        if not line:
            continue
        if not cues:
            m = _TITLE.match(line)
            if m and transcript.title is None:
                transcript.title = squash(_clean(m.group("title"))) or None
                continue
            m = _CHANNEL.match(line)
            if m and channel is None:
                channel = squash(_clean(m.group("channel"))) or None
                transcript.published = _parse_date(repair_mojibake(m.group("date")))
                if transcript.published is None and m.group("date").strip():
                    transcript.warnings.append(f"line {number}: unreadable date {m.group('date')[:40]!r}")
                url = m.group("url").strip()
                transcript.url = url if url.startswith(("http://", "https://")) else None
                continue
        m = _BULLET.match(line)
        if not m:
            if cues:
                # A wrapped line: it continues the previous cue's text.
                extra = _clean(line)
                if extra:
                    cues[-1].text = squash(cues[-1].text + " " + extra)
            continue
        body = m.group("body")
        start: float | None = None
        at = body.rfind("[[")
        suffix = _SUFFIX.fullmatch(body, at) if at >= 0 else None
        if suffix:
            body = body[:at]
            label_s = parse_clock(suffix.group("label"), line=number)
            t_s = _t_value(suffix.group("url").strip(), number)
            start = t_s if t_s is not None else label_s
        if "[[" in body:
            raise TranscriptError("malformed timestamp link (expected [[hh:mm:ss](url)] at the end)", line=number)
        cue_text = collapse_repeats(_clean(body))
        if not cue_text:
            continue
        key = " ".join(k for k in map(norm_word, cue_text.split()) if k)  # ">>" is no word
        if key and key == last_key:
            continue  # whisper repeated the whole line
        last_key = key
        for turn, piece in split_turns(cue_text):
            cues.append(Cue(text=piece, start_s=start, turn=turn, line=number))
    for this, nxt in itertools.pairwise(cues):
        if this.start_s is not None and nxt.start_s is not None:
            this.end_s = nxt.start_s
    for i in range(len(cues) - 2, -1, -1):
        if cues[i].line == cues[i + 1].line:  # the pieces of one line (>> turns) share its end
            cues[i].end_s = cues[i + 1].end_s
    transcript.cues = cues
    if transcript.title:
        podcast, _ = split_title(transcript.title)
        transcript.podcast = podcast or channel
    else:
        transcript.podcast = channel
    return [transcript]
