"""Timed cue blocks as SubRip and WebVTT write them, read the way players read them.

One reader for both formats, because the defects real files have are the
same in both and players accept them: times without milliseconds, single-digit
fields (``0:0:4,8``), bare seconds (``0.860 --> 7.380``, Podnews's VTT), a
blank line after an index, ``-->`` inside cue text, text after a blank line
inside a cue, stray index lines. A line shaped like a timing line whose times
cannot be read skips that one cue with a warning naming the line; it never
rejects the file.

Why not a library: srt 3.5.3 and webvtt-py 0.6.0 reject the whole file on any
of these; pysubs2 1.8.1 reads more of them but drops WebVTT voice spans
(``<v Name>``), keeps cue identifiers as text and glues a cue with a short
time (``0:1:2.5``, ``00:00:03``) into the previous cue's text. Cue text is
handed on raw (tags and all); the formats clean it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_T = r"[\d:.,]+"
# A line that means to be a timing line: starts with a time-ish token and an arrow.
_TIMING_SHAPE = re.compile(r"^\s*\d[^\s<>]{0,24}\s*-{1,2}>")
_TIMING = re.compile(rf"^\s*(?P<a>{_T})\s*-->\s*(?P<b>{_T})(?:[ \t]+(?P<settings>.*))?\s*$")
_TIME = re.compile(r"^(?:(?:(?P<h>\d{1,3}):)?(?P<m>\d{1,2}):)?(?P<s>\d{1,6})(?:[.,](?P<f>\d{1,3}))?$")
_INDEX = re.compile(r"^\s*\d+\s*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_VTT_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t]|$)")


def parse_time(value: str) -> float | None:
    """Seconds from ``hh:mm:ss,mmm``, ``mm:ss.mmm``, ``h:m:s``, ``0:0:4,8`` or bare ``7.380``;
    None when it is none of these (or a field after the first is over 59)."""
    m = _TIME.match(value.strip())
    if not m:
        return None
    h, mi, s, f = m.group("h"), m.group("m"), m.group("s"), m.group("f")
    seconds = int(s)
    if mi is not None and (seconds > 59 or len(s) > 2):
        return None
    minutes = int(mi) if mi is not None else 0
    if h is not None and minutes > 59:
        return None
    value_s = (int(h) if h else 0) * 3600 + minutes * 60 + seconds
    # "4,8" is 4.8 s and "12,00" 12.0 s: the fraction is a decimal fraction.
    return float(value_s) + (int(f) / 10 ** len(f) if f else 0.0)


@dataclass
class Block:
    """One cue: its times (seconds), the 1-based line of its timing line, its raw text lines."""

    start: float
    end: float
    line: int
    lines: list[str] = field(default_factory=list)
    settings: str = ""


@dataclass
class Blocks:
    """What a file of cue blocks holds: the lines before the first cue, the cues, warnings."""

    header: list[str]
    blocks: list[Block]
    warnings: list[str]
    timing_lines: int  # lines shaped like timing lines, read or not


def timing(line: str) -> tuple[float, float, str] | None:
    """(start, end, settings) of a well-formed timing line, else None."""
    m = _TIMING.match(line)
    if not m:
        return None
    a, b = parse_time(m.group("a")), parse_time(m.group("b"))
    if a is None or b is None:
        return None
    return a, b, m.group("settings") or ""


def is_timing_shaped(line: str) -> bool:
    return bool(_TIMING_SHAPE.match(line))


def read_blocks(text: str, *, vtt: bool) -> Blocks:
    """Split ``text`` into cue blocks at its timing lines.

    A cue's text runs from its timing line to the next; then the next cue's
    index or identifier (the line just before its timing line, after a blank
    line), trailing blank lines, stray index lines standing alone and, in
    WebVTT, NOTE/STYLE/REGION blocks are dropped. Text after a blank line
    inside a cue is kept, with a warning naming its line.
    """
    lines = _LINE_BREAK.split(text)
    warnings: list[str] = []
    marks: list[int] = [i for i, ln in enumerate(lines) if _TIMING_SHAPE.match(ln)]
    header = lines[: marks[0]] if marks else lines
    blocks: list[Block] = []
    for n, i in enumerate(marks):
        stop = marks[n + 1] if n + 1 < len(marks) else len(lines)
        body = lines[i + 1: stop]
        # The next cue's index/identifier: one line, after a blank line, just before its timing.
        if n + 1 < len(marks) and len(body) >= 2 and body[-1].strip() and not body[-2].strip():
            if not vtt and not _INDEX.match(body[-1]):
                pass  # SRT: only a number is an index
            else:
                body = body[:-1]
        parsed = timing(lines[i])
        if parsed is None:
            warnings.append(
                f"line {i + 1}: malformed cue timing {lines[i].strip()[:60]!r}; that cue is skipped"
            )
            continue
        start, end, settings = parsed
        if end < start:
            warnings.append(f"line {i + 1}: cue ends before it starts; its end is taken as its start")
            end = start
        blocks.append(Block(start, end, i + 1, _cue_text(body, i + 1, vtt, warnings), settings))
    return Blocks(header=header, blocks=blocks, warnings=warnings, timing_lines=len(marks))


def _cue_text(body: list[str], timing_line: int, vtt: bool, warnings: list[str]) -> list[str]:
    """The cue's text lines: paragraphs after the first kept (with a warning) unless stray."""
    paragraphs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for k, raw in enumerate(body):
        if raw.strip():
            if not current:
                start = k
            current.append(raw)
        elif current:
            paragraphs.append((start, current))
            current = []
    if current:
        paragraphs.append((start, current))
    out: list[str] = []
    for n, (k, para) in enumerate(paragraphs):
        if len(para) == 1 and _INDEX.match(para[0]) and (n > 0 or k > 0):
            continue  # a stray index line standing alone
        if vtt and _VTT_BLOCK.match(para[0]):
            continue
        if out or k > 0:
            warnings.append(
                f"line {timing_line + 1 + k}: text after a blank line inside the cue of line {timing_line}; kept"
            )
        out.extend(para)
    return out
