"""Speaker-labelled transcripts: markdown speaker headings, or ``Name:`` lines.

Headings (seed 003, thepodtranscripts.com), each alone on a line:

    **Lex Fridman Podcast #459 - DeepSeek, China, OpenAI, …,
    and AI Megaclusters**

    Published - February 3, 2025

    Transcribed by - [thepodtranscripts.com](https://thepodtranscripts.com)

    ## **Lex Fridman**

    The following is a conversation with Dylan Patel and Nathan Lambert. …

``**Name**``, ``## **Name**``, ``### **Name**``, optionally followed by a time
(``**Name** (00:01:02)``), and Otter's ``Name  0:00``. Labels on the line:
``Name: text``, ``**Name:** text``, ``Name (00:01:02): text``, ``Name (01:02):
text`` and ``[00:01:23] Name: text``; a time becomes the cue's ``start_s``.

- A label is a short name (one to four words of letters, no digits, no ``#``,
  no `` - ``; or ``Speaker 1``) that labels at least two lines, or comes with
  a time in a file of timed labels, or is in bold after a repeated bold name
  (see ``_labels``): a title, a section heading or "Note: the thing" in prose
  is not a speaker. A bold name line that is not accepted is a section title,
  skipped; after it, and after a one-off ``Name:`` line in a labelled file,
  the speaker is unknown (None) rather than the previous one.
- Before the first label: a bold block (which may span lines) or ``# Title``
  is the title, ``Published - <date>`` the date, ``Transcribed by …`` chrome.
- Each paragraph is one cue with the current speaker; the first after a label
  has ``turn=True``. A paragraph broken across pages is re-joined: one that
  follows a paragraph without terminal punctuation in the same turn continues
  it when it starts lowercase, or when the paragraph before ends in a
  lowercase letter or a comma.
- ``[inaudible 01:14:37]`` (also crosstalk, unintelligible, indiscernible) is
  removed from the text and kept as an anchor: (cue index, seconds).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from ..errors import TranscriptError
from ..labels import STOP, voice
from ..model import Cue, Transcript
from ..text import parse_clock, repair_mojibake, split_title, squash, strip_noise

NAME = "speaker-md"

# A name: one to four words of letters ("O'Neil", "Jean-Luc", "Dr. Jane"), or
# "Speaker 1". Only the words before the last may end in a dot ("Yes." is not
# a name).
_WORD = r"[^\W\d_]+(?:['’.\-][^\W\d_]+)*"
_NAME = rf"(?:(?:[Ss]peaker|SPEAKER)[ _]?\d{{1,2}}|(?:{_WORD}\.?[ ]){{0,3}}{_WORD})"
_TIME = r"\d{1,3}:[^\s)\]*_]{1,15}"  # loose: checked by parse_clock, so bad clocks are errors
_HEADING = re.compile(
    rf"^[ \t]{{0,3}}(?:#{{1,6}}[ \t]*)?\*\*[ \t]*(?P<name>{_NAME})[ \t]*:?[ \t]*\*\*[ \t]*:?"
    rf"(?:[ \t]*[(\[*_]{{0,2}}[ \t]*(?P<time>{_TIME})[ \t]*[)\]*_]{{0,2}})?[ \t]*$"
)
_OTTER = re.compile(rf"^[ \t]*(?P<name>{_NAME})[ \t]+[(\[]?[ \t]*(?P<time>{_TIME})[ \t]*[)\]]?[ \t]*$")
# "Name: (00:15)" (Rev): a label whose only text is its time is a heading.
_TIME_ONLY = re.compile(rf"^[(\[][ \t]*(?P<time>{_TIME})[ \t]*[)\]][ \t]*$")
# "*Name (00:15)*", "_Name [00:15]_": an italic heading.
_ITALIC = re.compile(r"^[ \t]*([*_])(?![*_])(?P<inner>.+?)(?<![*_])\1[ \t]*$")
_INLINE = re.compile(
    rf"^[ \t]*(?:\[[ \t]*(?P<t1>{_TIME})[ \t]*\][ \t]*)?(?:\*\*)?(?P<name>{_NAME})(?:\*\*)?[ \t]*"
    rf"(?:[(\[][ \t]*(?P<t2>{_TIME})[ \t]*[)\]][ \t]*)?:(?:\*\*)?(?:[ \t]+(?P<text>.*))?$"
)
_STOP = STOP

_ANCHOR = re.compile(
    r"[ \t]*\[(?:inaudible|crosstalk|unintelligible|indiscernible)[ \t]+(?P<t>\d[^\]\s]{0,15})\]",
    re.IGNORECASE,
)
_LINK = re.compile(r"!?\[([^\]\n]{0,300})\]\([^)\n]{0,500}\)")
# One pass, left to right: a backslash escape ("Q\\*") keeps its character;
# bold, code and emphasis marks go.
_MARKUP = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])|\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?P<text>.*?)[ \t#]*$")
_PUBLISHED = re.compile(
    r"^[ \t]*(?:\*\*)?(?:published|date|recorded|aired|release date)(?:\*\*)?[ \t]*[-:–—][ \t]*(?P<v>.+)$",
    re.IGNORECASE,
)
_CHROME = re.compile(r"^[ \t]*(?:\*\*)?transcri(?:bed|pt|ption)(?:\*\*)?[ \t]+by\b", re.IGNORECASE)
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%B %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d")
_TERMINAL = ".?!…-–—"
_CLOSERS = "\"'”’)]»*_ "


@dataclass
class _Label:
    name: str
    time: str | None
    text: str | None  # None for a heading; the rest of the line for an inline label
    bold: bool = False  # marked up in bold: "**Name**" alone, or "**Name:** text"


def _capitalised(name: str) -> bool:
    return all(word[:1].isupper() or word[:1].isdigit() for word in name.split())


def _candidate(line: str) -> _Label | None:
    """The speaker label a line would carry, if its name is accepted."""
    if len(line) > 2000:
        return None
    italic = _ITALIC.match(line)
    if italic:
        line = italic.group("inner")
    m = _HEADING.match(line)
    if m:
        return _Label(m.group("name"), m.group("time"), None, bold=True)
    m = _OTTER.match(line)
    if m and _capitalised(m.group("name")):
        return _Label(m.group("name"), m.group("time"), None)
    m = _INLINE.match(line)
    if m:
        bold = line.lstrip().startswith("**")
        time, rest = m.group("t1") or m.group("t2"), m.group("text") or ""
        only = _TIME_ONLY.match(rest) if time is None else None
        if only:
            return _Label(m.group("name"), only.group("time"), None, bold=bold)
        return _Label(m.group("name"), time, rest, bold=bold)
    return None


def _labels(lines: list[str]) -> tuple[list[_Label | None], set[str]]:
    """Each line's candidate label, and the names accepted as speakers.

    A name is accepted when it labels at least two lines; when it comes with a
    time in a file with at least two timed labels; or, labelling one line in
    bold, when a repeated bold name is accepted too and it is capitalised (and
    two to four words if it stands alone on its line: "**Introduction**" is a
    section title), after the first accepted label (before it, it is a title).
    """
    candidates = [_candidate(line) for line in lines]
    usable = [c for c in candidates if c is not None and c.name.casefold() not in _STOP]
    counts = Counter(c.name for c in usable)
    names = {n for n, k in counts.items() if k >= 2}
    if sum(1 for c in usable if c.time is not None) >= 2:
        names.update(c.name for c in usable if c.time is not None)
    first = next((k for k, c in enumerate(usable) if c.bold and c.name in names), None)
    if first is not None:
        names.update(
            c.name for c in usable[first:]
            if c.bold and _capitalised(c.name) and (c.text is not None or " " in c.name)
        )
    return candidates, names


def sniff(text: str) -> bool:
    """Repeated speaker labels: at least 3 label lines (or 2 timed labels of two
    speakers: ``Marta (00:00):`` … ``Olek (00:15):``), and two speakers or
    labels on at least 30% of the non-blank lines."""
    lines = text[:400_000].splitlines()
    candidates, names = _labels(lines)
    used = [c.name for c in candidates if c is not None and c.name in names]
    timed = {c.name for c in candidates if c is not None and c.name in names and c.time is not None}
    if len(used) < 3 and not (len(used) == 2 and len(timed) == 2):
        return False
    nonblank = sum(1 for line in lines if line.strip())
    return len(set(used)) >= 2 or len(used) * 10 >= 3 * nonblank


def _clock(value: str | None, line: int) -> float | None:
    return None if value is None else parse_clock(value, line=line)


def _clean(raw: str, line: int, anchors: list[tuple[float, int]]) -> str:
    """Display text of one line; its time anchors (seconds, words before) go to ``anchors``."""
    text = repair_mojibake(raw)
    for m in _ANCHOR.finditer(text):
        anchors.append((parse_clock(m.group("t"), line=line), len(text[:m.start()].split())))
    text = _ANCHOR.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub(lambda m: m.group(1) or "", text)
    return strip_noise(text)


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS)
    return not stripped or stripped[-1] in _TERMINAL


def _continues(previous: str, following: str) -> bool:
    """Whether ``following`` is the rest of a paragraph broken at a page end."""
    if _ends_sentence(previous):
        return False
    return following[:1].islower() or previous[-1:].islower() or previous.endswith(",")


def _date(value: str, line: int, transcript: Transcript) -> None:
    value = squash(_LINK.sub(r"\1", value).replace("*", ""))
    for fmt in _DATE_FORMATS:
        try:
            transcript.published = dt.datetime.strptime(value, fmt).date()
            return
        except ValueError:
            continue
    transcript.warnings.append(f"line {line}: could not read the date {value[:60]!r}")


class _Builder:
    """Cues in the making: speaker state, paragraph re-joining and anchors."""

    def __init__(self, transcript: Transcript) -> None:
        self.t = transcript
        self.speaker: str | None = None
        self.voice_label: str | None = None  # a diarization label (index.labels), when not a name
        self.turn = False
        self.start: float | None = None
        self.open = False  # the last cue takes the next line of its paragraph
        self.joinable = False  # the last cue is in the current turn
        self.pending: list[tuple[float, int | None]] = []
        self.parts: list[list[str]] = []  # each cue's text pieces, joined by finish()

    def label(self, name: str, start: float | None) -> None:
        v = voice(name)  # placeholders mean nobody, diarization labels stay labels
        self.speaker, self.voice_label, self.turn, self.start = v.speaker, v.label, True, start
        self.open = self.joinable = False
        if v.speaker is not None and v.speaker not in self.t.speakers:
            self.t.speakers.append(v.speaker)

    def end_paragraph(self) -> None:
        self.open = False

    def section(self) -> None:
        """A break after which the speaker is unknown: a section title, or a
        label whose name is not accepted."""
        self.speaker, self.voice_label, self.turn, self.start = None, None, True, None
        self.open = self.joinable = False

    def text(self, text: str, line: int, anchors: list[tuple[float, int]]) -> None:
        cues = self.t.cues
        base: int | None = None  # words of the cue before this line's text
        if text:
            if self.open or (self.joinable and _continues(self.parts[-1][-1], text)):
                base = sum(len(p.split()) for p in self.parts[-1])
                self.parts[-1].append(text)
            else:
                cues.append(
                    Cue(text, self.start, speaker=self.speaker, turn=self.turn, line=line, label=self.voice_label)
                )
                self.parts.append([text])
                self.turn, self.start = False, None
                base = 0
            self.open = self.joinable = True
        self.pending.extend((s, None if base is None else base + w) for s, w in anchors)
        if self.pending and cues and (text or self.open or self.joinable):
            self._flush_anchors()

    def _flush_anchors(self) -> None:
        """Anchors with no word of their own stand at the end of the cue."""
        cue = len(self.t.cues) - 1
        words = sum(len(p.split()) for p in self.parts[cue])
        self.t.anchors.extend((cue, s, words if w is None else w) for s, w in self.pending)
        self.pending = []

    def finish(self) -> None:
        if self.pending and self.t.cues:
            self._flush_anchors()
        for cue, parts in zip(self.t.cues, self.parts):
            cue.text = " ".join(parts)


def parse(text: str) -> list[Transcript]:
    lines = text.splitlines()
    candidates, names = _labels(lines)
    transcript = Transcript(format=NAME)
    build = _Builder(transcript)
    header = True  # before the first speaker label
    headings = 0
    i = 0
    while i < len(lines):
        number, raw = i + 1, lines[i]
        i += 1
        if not raw.strip():
            build.end_paragraph()
            continue
        label = candidates[number - 1]
        if label is not None and label.name in names:
            header = False
            start = _clock(label.time, number)
            build.label(label.name, start)
            if label.text:
                anchors: list[tuple[float, int]] = []
                build.text(_clean(label.text, number, anchors), number, anchors)
            continue
        if header and not build.open:
            if _CHROME.match(raw):
                continue
            m = _PUBLISHED.match(raw)
            if m:
                _date(m.group("v"), number, transcript)
                continue
            m = _MD_HEADING.match(raw)
            if m:
                transcript.title = transcript.title or squash(_clean(m.group("text"), number, []))
                continue
            if raw.lstrip().startswith("**"):
                # A bold block, possibly over several lines, closed by "**".
                j = i - 1
                while j < min(len(lines), i + 3) and lines[j].strip() and not lines[j].rstrip().endswith("**"):
                    j += 1
                closed = j < len(lines) and lines[j].rstrip().endswith("**") and (j > i - 1 or raw.count("**") >= 2)
                if closed and transcript.title is None:
                    block = " ".join(lines[i - 1:j + 1])
                    transcript.title = squash(_clean(block, number, [])) or None
                    i = j + 1
                    continue
        if not build.open and ((label is not None and label.bold and label.text is None) or _MD_HEADING.match(raw)):
            headings += 1  # a heading that names no accepted speaker: a section title
            build.section()
            continue
        if (
            names and label is not None and label.text is not None
            and _capitalised(label.name) and label.name.casefold() not in _STOP
        ):
            build.section()  # "Bob: …" once in a labelled file: maybe a speaker, never a guess
        anchors = []
        build.text(_clean(raw, number, anchors), number, anchors)
    build.finish()
    if transcript.title:
        transcript.podcast = split_title(transcript.title)[0]
    if headings:
        transcript.warnings.append(
            f"skipped {headings} heading line(s) that name no accepted speaker (read as section titles)"
        )
    if not transcript.cues:
        raise TranscriptError("no transcript text found under the speaker labels")
    return [transcript]
