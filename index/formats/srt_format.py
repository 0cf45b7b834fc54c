"""SubRip captions (``application/x-subrip``).

Numbered cue blocks separated by blank lines::

    1
    00:00:00,000 --> 00:00:02,760
    SARAH: In today's episode,
    you'll learn whether or not you

Podcasting 2.0 SRT names the speaker with a ``Name:`` prefix when the speaker
changes, so a name carries forward to later cues until another prefix. A
prefix counts as a speaker only when it starts the cue (or a ``- `` dialogue
line), has at most four words, and is upper case or used as a prefix at least
twice in the file: "Note: ..." once in prose is text. Blocks are read by the
``srt`` library; timing lines are checked here, because ``srt`` accepts
``00:00:61,000`` and silently folds a cue with a broken timing into the
previous cue's text.

Auto-generated SRT often rolls: each caption repeats the line before it. When
most captions do, only the words each one adds are kept.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable

import srt

from ..errors import TranscriptError
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, is_rolling, repair_mojibake, rolling_overlap, split_turns, squash

NAME = "srt"

_TS = r"(\d{1,3}):(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}(?:\s.*)?$")
_SNIFF_TIMING = re.compile(r"^\s*\d{1,3}:\d{2}:\d{2}([,.])\d{1,3}\s*-->\s*\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}(?:\s.*)?$")
_INDEX = re.compile(r"^\s*\d+\s*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"<[^<>]*>|\{\\[^{}]*\}")
_LONG_DIGITS = re.compile(r"^\s*-?\d{200}")
_DASH = re.compile(r"^\s*[-–—]\s*")
# "JOHN: hi", "Dr. Smith: hi", "SPEAKER 1: hi"; the name starts with a letter.
_PREFIX = re.compile(r"^(?P<name>[^\W\d_][\w.'’&() -]{0,40}?)\s*:(?:\s+|$)(?P<rest>.*)$")


def sniff(text: str) -> bool:
    """True when the first block is an SRT index line followed by an SRT timing line."""
    lines = [ln for ln in _LINE_BREAK.split(text.lstrip("\ufeff"), 40)[:40]]
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i + 1 >= len(lines) or not _INDEX.match(lines[i]):
        return False
    m = _SNIFF_TIMING.match(lines[i + 1])
    return bool(m)


def _clean(untagged: str) -> str:
    """Display text from a cue's text with its tags already removed."""
    return clean_text(html.unescape(untagged))


def speaker_prefix(line: str) -> tuple[str, str] | None:
    """(name, rest) when ``line`` starts with a ``Name:`` prefix of at most four words."""
    line = line.strip()
    m = _PREFIX.match(line)
    if not m:
        return None
    name = squash(m.group("name"))
    if not name or len(name.split()) > 4 or line[m.end():].startswith("//"):
        return None
    return name, m.group("rest")


def _name(raw: str) -> str:
    name = squash(html.unescape(raw))
    return repair_mojibake(name) if not name.isascii() else name


def is_upper_name(name: str) -> bool:
    return any(ch.isalpha() for ch in name) and name.upper() == name


def speaker_names(candidates: Iterable[str]) -> set[str]:
    """The prefixes that count as speakers: upper case, or used at least twice."""
    counts = Counter(candidates)
    return {n for n, k in counts.items() if is_upper_name(n) or k >= 2}


def _seconds(m: re.Match[str], first: int) -> float:
    h, mi, s = int(m.group(first)), int(m.group(first + 1)), int(m.group(first + 2))
    frac = m.group(first + 3)
    if mi > 59 or s > 59:
        raise ValueError
    value = float(h * 3600 + mi * 60 + s)
    if frac:
        value += int(frac) / 10 ** len(frac)
    return value


def _timings(lines: list[str]) -> list[tuple[int, float, float]]:
    """(line number, start, end) of every timing line; TranscriptError for a bad one."""
    out: list[tuple[int, float, float]] = []
    for i, line in enumerate(lines):
        if "-->" not in line:
            continue
        m = _TIMING.match(line)
        try:
            if not m:
                raise ValueError
            out.append((i + 1, _seconds(m, 1), _seconds(m, 5)))
        except ValueError:
            raise TranscriptError(
                f"malformed SRT timing {line.strip()[:80]!r} (expected hh:mm:ss,mmm --> hh:mm:ss,mmm)",
                line=i + 1,
            ) from None
    return out


def _first_block(lines: list[str], timings: list[tuple[int, float, float]]) -> int:
    """0-based line where the first cue block starts; TranscriptError for text before it."""
    if not timings:
        where = next((i + 1 for i, ln in enumerate(lines) if ln.strip()), 1)
        raise TranscriptError("no SRT cue found (expected an index line and a timing line)", line=where)
    timing = timings[0][0] - 1
    before = [i for i in range(timing) if lines[i].strip()]
    index = before[-1] if before and _INDEX.match(lines[before[-1]]) else None
    for i in before:
        if i != index:
            raise TranscriptError(
                f"not an SRT cue block (expected an index line and a timing line), found {lines[i].strip()[:60]!r}",
                line=i + 1,
            )
    return index if index is not None else timing


def parse(text: str) -> list[Transcript]:
    """Parse SRT text into one transcript; TranscriptError on malformed input."""
    body = text.removeprefix("\ufeff")
    lines = _LINE_BREAK.split(body)
    timings = _timings(lines)
    first = _first_block(lines, timings)
    for i, line in enumerate(lines):
        if _LONG_DIGITS.match(line):
            # srt's block regex is quadratic on these; no subtitle has one.
            raise TranscriptError("a line starting with hundreds of digits: not SRT text", line=i + 1)
    # srt is handed the text from the first cue block on, so that it never
    # rescans garbage (its regex is quadratic on that) and its cues line up
    # with the timing lines found above.
    try:
        subs = list(srt.parse("\n".join(lines[first:])))
    except srt.SRTParseError as exc:
        unmatched = exc.unmatched_content
        lead = len(unmatched) - len(unmatched.lstrip("\n"))
        line = "\n".join(lines[first:]).count("\n", 0, exc.expected_start) + 1 + lead + first
        shown = unmatched.strip().split("\n", 1)[0][:60]
        raise TranscriptError(
            f"not an SRT cue block (expected an index line and a timing line), found {shown!r}", line=line
        ) from None
    except Exception as exc:  # srt on garbage: report it, never crash
        raise TranscriptError(f"unreadable SRT ({type(exc).__name__}: {exc})") from None

    aligned = len(timings) == len(subs)
    blocks: list[tuple[float, float, int | None, list[str]]] = []
    for i, sub in enumerate(subs):
        if aligned:
            number, start, end = timings[i]
        else:
            number, start, end = None, sub.start.total_seconds(), sub.end.total_seconds()
        blocks.append((start, end, number, sub.content.split("\n")))

    # First pass: which prefixes are speaker names in this file.
    candidates: list[str] = []
    for *_, content in blocks:
        for j, raw in enumerate(content):
            if j == 0 or _DASH.match(raw):
                hit = speaker_prefix(_DASH.sub("", _TAG.sub("", raw), count=1))
                if hit:
                    candidates.append(_name(hit[0]))
    names = speaker_names(candidates)

    cues: list[Cue] = []
    speaker: str | None = None
    for start, end, number, content in blocks:
        dashes = sum(1 for raw in content if _DASH.match(raw))
        # pieces: (new turn?, speaker given?, name, text)
        pieces: list[list] = []
        for j, raw in enumerate(content):
            line = _TAG.sub("", raw)
            is_dash = bool(_DASH.match(line))
            if is_dash:
                line = _DASH.sub("", line, count=1)
            name = None
            if j == 0 or is_dash:
                hit = speaker_prefix(line)
                if hit and _name(hit[0]) in names:
                    name, line = _name(hit[0]), hit[1]
            if name is not None:
                pieces.append([True, name, line])
            elif is_dash and dashes >= 2:
                pieces.append([True, None, line])  # "- Hi. / - Hello.": two speakers, unnamed
            elif pieces:
                pieces[-1][2] += "\n" + line
            else:
                pieces.append([False, speaker, line])
        for named_turn, name, raw_text in pieces:
            if named_turn:
                speaker = name
            text = _clean(raw_text)
            if not text:
                continue
            for turn_mark, part in split_turns(text):
                if turn_mark:
                    speaker = None
                changed = (cues[-1].speaker != speaker) if cues else speaker is not None
                cues.append(Cue(
                    text=part, start_s=start, end_s=end, speaker=speaker,
                    turn=turn_mark or changed or (named_turn and name is None), line=number,
                ))
                named_turn = False
    if is_rolling([c.text for c in cues]):
        cues = _unrolled(cues)
    speakers = speakers_in(cues)
    return [Transcript(format=NAME, cues=cues, speakers=speakers)]


def _unrolled(cues: list[Cue]) -> list[Cue]:
    """Each rolling caption cut to the words it adds; one that adds none widens the one before."""
    out: list[Cue] = []
    tail: list[str] = []
    for cue in cues:
        words = cue.text.split()
        new = words[rolling_overlap(tail, words):]
        if not new:
            if out and cue.end_s is not None:
                out[-1].end_s = max(out[-1].end_s or cue.end_s, cue.end_s)
            continue
        tail = (tail + new)[-40:]
        cue.text = " ".join(new)
        out.append(cue)
    return out
