"""Plain text transcripts (``text/plain``), the last resort.

Timecoded shapes it recognises::

    00:01:02 Text of the line            (00:01) Text of the line

    0:00                                 Jane Doe  0:00
    Text that starts at 0:00.            Otter-style: the speaker and the time,
                                         then what she said.

A timecode alone on a line times the text below it (Transistor style), and so
does ``Starting point is hh:mm:ss`` (podcast sites) and a DaVinci Resolve
``[HH:MM:SS:FF - HH:MM:SS:FF]`` line (frames at 25 fps), whose next line names
the speaker; a ``Name:`` line just above a timecode names the speaker. An Otter header (name, two or
more spaces, time) names the speaker of the text below. A ``NAME:`` prefix on a
cue's first line names the speaker under the same conservative rule as SRT.

Detection tries speaker-md first, which also takes Otter files; plain reads
them the same way when forced. sniff() claims a text only when most of its non-blank lines are covered by
these shapes, so arbitrary prose is left to the "unknown format" error. parse()
accepts any text: without timecodes each blank-line separated paragraph is a
cue with no time.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from itertools import pairwise

from ..errors import TranscriptError
from ..labels import NOBODY, Prefix, Voice, accepted_names, prefix, voice
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, parse_clock, squash
from .asr_json import NOT_A_TRANSCRIPT, looks_like_json

NAME = "plain"

_TC = r"\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# "00:01:02 text", "(00:01) text", "[00:01] text" (brackets only when parsing), "0:00" alone.
_LEAD = re.compile(
    rf"^\s*(?:(?P<open>[(\[])\s*)?(?P<tc>{_TC})\s*(?(open)[)\]])(?:\s*[-–—|:]\s+|\s+|$)(?P<rest>.*)$"
)
_OTTER = re.compile(rf"^\s*(?P<name>[^\W\d_][^\t]{{0,60}}?)(?:[ ]{{2,}}|\t)\s*\(?(?P<tc>{_TC})\)?\s*$")
_LABEL = re.compile(r"^\s*(?P<name>[^\W\d_][^:]{0,40}?)\s*:\s*$")
# Podcast-site blocks: "Starting point is 00:00:07" above the text.
_STARTING = re.compile(rf"^\s*starting point is\s+(?P<tc>{_TC})\s*$", re.IGNORECASE)
# DaVinci Resolve subtitle export: "[HH:MM:SS:FF - HH:MM:SS:FF]", then the speaker's name, then the text.
_DAVINCI = re.compile(r"^\s*\[(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2}):(?P<f>\d{2})\s*-\s*"
                      r"(?P<eh>\d{1,2}):(?P<em>\d{2}):(?P<es>\d{2}):(?P<ef>\d{2})\s*\]\s*$")
DAVINCI_FPS = 25  # frames are read at the usual 25 fps (the export does not say its rate)
_NAME_LINE = re.compile(r"^\s*[^\W\d_][\w.'’-]*(?:[ ][^\W\d_][\w.'’-]*){0,2}\s*$")
# Something shaped like a timecode that is not a valid one: 00:7x:10, [00:61:00 ...
_BROKEN = re.compile(r"^\s*[(\[]?\d{1,3}(?::[0-9A-Za-z]{1,3}){1,2}(?:[.,]\w*)?[)\]]?(?=\s|$)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

TEXT, TIMED, STAMP, OTTER, LABEL = "text", "timed", "stamp", "otter", "label"


@dataclass
class _Line:
    kind: str
    text: str = ""
    tc: str | None = None
    name: str | None = None
    bracketed: bool = False
    names_next: bool = False  # a DaVinci block: the next line names the speaker
    end: float | None = None  # a DaVinci block's end (seconds)


def _classify(line: str) -> _Line:
    if not line.strip():
        return _Line("blank")
    m = _STARTING.match(line)
    if m:
        return _Line(STAMP, "", m.group("tc"))
    m = _DAVINCI.match(line)
    if m:
        h, mi, s, f, eh, em, es, ef = (int(m.group(k)) for k in ("h", "m", "s", "f", "eh", "em", "es", "ef"))
        seconds = h * 3600 + mi * 60 + s + f / DAVINCI_FPS
        end = eh * 3600 + em * 60 + es + ef / DAVINCI_FPS
        whole = int(seconds)
        tc = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{round(seconds % 1 * 1000):03d}"
        return _Line(STAMP, "", tc, names_next=True, end=end if end >= seconds else None)
    m = _LEAD.match(line)
    if m:
        rest = m.group("rest").strip()
        bracketed = m.group("open") == "["
        return _Line(TIMED if rest else STAMP, rest, m.group("tc"), bracketed=bracketed)
    m = _OTTER.match(line)
    if m and len(m.group("name").split()) <= 5 and not m.group("name").rstrip().endswith((".", "?", "!", ",")):
        return _Line(OTTER, "", m.group("tc"), squash(m.group("name")))
    m = _LABEL.match(line)
    if m and len(m.group("name").split()) <= 4:
        return _Line(LABEL, line.strip(), name=squash(m.group("name")))
    return _Line(TEXT, line.strip())


def _coverage(lines: list[_Line], *, brackets: bool) -> tuple[int, int, int, list[str]]:
    """(timecodes, covered lines, non-blank lines, the timecodes) over the shapes above."""
    covered = nonblank = 0
    stamps: list[str] = []
    head = False  # inside the text below a timecode or Otter header
    after_head_blank = False
    for i, ln in enumerate(lines):
        if ln.kind == "blank":
            if head and not after_head_blank:
                head = False
            continue
        nonblank += 1
        timecoded = ln.kind in (TIMED, STAMP) and (brackets or not ln.bracketed)
        if timecoded or ln.kind == OTTER:
            covered += 1
            stamps.append(ln.tc or "")
            head = ln.kind != TIMED
            after_head_blank = head
        elif ln.kind == LABEL:
            nxt = next((x for x in lines[i + 1:] if x.kind != "blank"), None)
            if nxt is not None and nxt.kind == STAMP and (brackets or not nxt.bracketed):
                covered += 1
            head = False
        elif head:
            covered += 1
            after_head_blank = False
    return len(stamps), covered, nonblank, stamps


def _monotonic(stamps: list[str]) -> bool:
    values = []
    for s in stamps:
        try:
            values.append(parse_clock(s))
        except TranscriptError:
            return False
    pairs = list(pairwise(values))
    return not pairs or sum(1 for a, b in pairs if b >= a) >= 0.8 * len(pairs)


def sniff(text: str) -> bool:
    """True only when most non-blank lines are timecoded or sit under a timecode header."""
    lines = [_classify(ln) for ln in _LINE_BREAK.split(text.lstrip("\ufeff"))]
    count, covered, nonblank, stamps = _coverage(lines, brackets=False)
    return count >= 2 and covered >= 0.6 * nonblank and _monotonic(stamps)


@dataclass
class _Open:
    start: float | None
    speaker: Voice
    line: int
    parts: list[str] = field(default_factory=list)
    named: bool = False
    names_next: bool = False
    end: float | None = None


def parse(text: str) -> list[Transcript]:
    """Parse plain text: timecoded lines or headers into timed cues, else paragraphs.

    JSON is refused (its keys are no quotes), with the JSON shapes that are read.
    """
    if looks_like_json(text):
        raise TranscriptError(NOT_A_TRANSCRIPT + "; --format plain does not read JSON", line=1)
    raw_lines = _LINE_BREAK.split(text.lstrip("\ufeff"))
    lines = [_classify(ln) for ln in raw_lines]
    count, covered, nonblank, _ = _coverage(lines, brackets=True)
    timed = count >= 2 and covered >= 0.25 * max(nonblank, 1)
    if not timed:
        lines = [
            _Line("blank") if ln.kind == "blank" else _Line(TEXT, raw.strip()) for ln, raw in zip(lines, raw_lines)
        ]

    # Which "Name:" prefixes are speakers (index.labels' rule, over the label each cue opens with).
    firsts: list[list[Prefix]] = []
    previous_blank = True
    for ln in lines:
        if ln.kind == TIMED or (ln.kind == TEXT and previous_blank):
            hit = prefix(ln.text)
            if hit:
                hit.leading = True
            firsts.append([hit] if hit else [])
        previous_blank = ln.kind in ("blank", STAMP, OTTER)
    names = accepted_names(firsts)

    cues: list[Cue] = []
    speaker: Voice = NOBODY
    current: _Open | None = None
    pending_label: Voice | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            body = clean_text(html.unescape(" ".join(current.parts)))
            if body:
                v = current.speaker
                turn = v != NOBODY and (not cues or cues[-1].voice != (v.speaker, v.label))
                cues.append(Cue(text=body, start_s=current.start, end_s=current.end, speaker=v.speaker,
                                label=v.label, turn=turn, line=current.line))
        current = None

    def clock(tc: str, number: int) -> float:
        return parse_clock(tc, line=number)

    for number, ln in enumerate(lines, start=1):
        if ln.kind == "blank":
            if current is not None and current.parts:
                close()
            continue
        if timed and ln.kind in (TEXT, LABEL) and _BROKEN.match(ln.text):
            token = ln.text.split()[0]
            raise TranscriptError(f"malformed timestamp {token!r}", line=number)
        if ln.kind in (TIMED, STAMP):
            close()
            if pending_label is not None:
                speaker, pending_label = pending_label, None
            current = _Open(clock(ln.tc or "", number), speaker, number, names_next=ln.names_next, end=ln.end)
            if ln.text:
                speaker = _take_prefix(current, ln.text, names, speaker)
            continue
        if ln.kind == OTTER:
            close()
            speaker = voice(ln.name)
            current = _Open(clock(ln.tc or "", number), speaker, number)
            continue
        if ln.kind == LABEL:
            nxt = next((x for x in lines[number:] if x.kind != "blank"), None)
            if nxt is not None and nxt.kind == STAMP:
                close()
                pending_label = voice(ln.name)
                continue
        if current is not None and current.names_next and not current.parts and _NAME_LINE.match(ln.text):
            speaker = current.speaker = voice(ln.text.strip())  # DaVinci: the line under the time names the speaker
            current.names_next = False
            continue
        if current is None:
            current = _Open(None, speaker, number)
        if not current.parts:
            speaker = _take_prefix(current, ln.text, names, speaker)
        else:
            current.parts.append(ln.text)
    close()
    speakers = speakers_in(cues)
    return [Transcript(format=NAME, cues=cues, speakers=speakers)]


def _take_prefix(current: _Open, text: str, names: set[str], speaker: Voice) -> Voice:
    """Add a cue's first line, taking a label (``index.labels``) as its speaker; the voice after it."""
    hit = prefix(text)
    if hit and hit.name in names:
        current.speaker = voice(hit.name)
        current.parts.append(hit.rest)
        return current.speaker
    current.parts.append(text)
    return speaker
