"""WebVTT captions (``text/vtt``), the Podcasting 2.0 recommended transcript format.

The file starts with ``WEBVTT``; cues are blocks of an optional identifier, a
timing line ``00:00:05.000 --> 00:00:10.000 [settings]`` and text lines::

    WEBVTT

    00:00:00.000 --> 00:00:05.000
    <v John>Podcasting 2.0 is really changing the game.

    00:00:05.000 --> 00:00:10.000
    It's amazing how it's empowering creators.

Voice spans ``<v Name>`` name the speaker "when they change", so the last voice
carries forward over cues without one. YouTube auto-captions add inline
``<00:00:01.000><c> word</c>`` tags and roll: each cue repeats the tail of the
one before, so only the new words of each cue are kept. Parsing is done by
webvtt-py; this module validates timings itself so that a malformed timestamp
is reported with its line instead of being dropped silently.
"""

from __future__ import annotations

import html
import re

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from ..errors import TranscriptError
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, is_rolling, repair_mojibake, rolling_overlap, split_turns, squash

NAME = "vtt"

_HEADER = re.compile(r"WEBVTT(?:[ \t]|\r?\n|\r|$)")
# [hh:]mm:ss.mmm, as webvtt-py accepts it (fields may be short: 0:1:5.2).
_TS = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})\.(\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}(?=\s|$)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# <v Name>, <v.loud Name>; the name runs to the '>'.
_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?[ \t]+([^<>]*)>")
# Any tag; [^<>] keeps it linear on text full of unmatched '<'.
_TAG = re.compile(r"<[^<>]*>")
_INLINE = re.compile(r"<c[.>]|<\d+:\d")
_SAMPLE = 300
_TITLE = re.compile(r"^\s*title\s*:\s*(.+)$", re.IGNORECASE)


def sniff(text: str) -> bool:
    """True when the text starts with the ``WEBVTT`` signature line."""
    return bool(_HEADER.match(text.lstrip("\ufeff \t\r\n")))



def _clean(raw: str) -> str:
    """Cue text without tags or entities, noise tags dropped, white space squashed."""
    return clean_text(html.unescape(_TAG.sub("", raw)))


def _ms(match: re.Match[str], first: int) -> None:
    """Raise ValueError when a timestamp field is out of range."""
    minutes, seconds = int(match.group(first + 1)), int(match.group(first + 2))
    if minutes > 59 or seconds > 59:
        raise ValueError


def _timing_lines(lines: list[str], offset: int) -> list[int]:
    """1-based line numbers of the cue timing lines; TranscriptError for a bad one."""
    found: list[int] = []
    for i, line in enumerate(lines):
        if "-->" not in line:
            continue
        number = i + 1 + offset
        m = _TIMING.match(line)
        try:
            if not m:
                raise ValueError
            _ms(m, 1)
            _ms(m, 5)
        except ValueError:
            raise TranscriptError(
                f"malformed cue timing {line.strip()[:80]!r} (expected hh:mm:ss.mmm --> hh:mm:ss.mmm)",
                line=number,
            ) from None
        found.append(number)
    return found


def _pieces(raw: str, voice: str | None) -> list[tuple[str | None, bool, str]]:
    """Split a cue's raw text at voice spans: [(voice, voice_given_here, raw piece)]."""
    out: list[tuple[str | None, bool, str]] = []
    pos = 0
    given = False
    for m in _VOICE.finditer(raw):
        if m.start() > pos:
            out.append((voice, given, raw[pos:m.start()]))
        name = squash(html.unescape(m.group(1)))
        voice, given = (name or None), True
        pos = m.end()
    out.append((voice, given, raw[pos:]))
    return out


def parse(text: str) -> list[Transcript]:
    """Parse WebVTT text into one transcript; TranscriptError on malformed input."""
    body = text.lstrip("\ufeff")
    stripped = body.lstrip(" \t\r\n")
    offset = len(_LINE_BREAK.findall(body[: len(body) - len(stripped)]))
    body = stripped
    if not _HEADER.match(body):
        raise TranscriptError("not a WebVTT file: the first line must be 'WEBVTT'", line=1 + offset)
    lines = _LINE_BREAK.split(body)
    timing_lines = _timing_lines(lines, offset)
    try:
        doc = webvtt.from_string(body)
    except MalformedFileError as exc:
        raise TranscriptError(f"not a WebVTT file ({exc})", line=1 + offset) from None
    except MalformedCaptionError as exc:
        raise TranscriptError(f"malformed WebVTT cue: {exc}") from None
    except Exception as exc:  # webvtt-py on garbage: report it, never crash
        raise TranscriptError(f"unreadable WebVTT ({type(exc).__name__}: {exc})") from None

    captions = list(doc.captions)
    numbers: list[int | None] = list(timing_lines) if len(timing_lines) == len(captions) else [None] * len(captions)

    title = None
    for meta in doc.metadata:
        m = _TITLE.match(meta)
        if m:
            title = squash(html.unescape(m.group(1))) or None
            break
    if title and not title.isascii():
        title = repair_mojibake(title)

    raws = [c.raw_text for c in captions]
    rolling = _is_rolling(raws)
    cues = _rolling_cues(captions, numbers) if rolling else _plain_cues(captions, numbers)
    speakers = speakers_in(cues)
    return [Transcript(format=NAME, cues=cues, title=title, speakers=speakers)]


def _is_rolling(raws: list[str]) -> bool:
    """YouTube-style rolling captions: inline word timings, or most cues repeat the previous tail."""
    return any(_INLINE.search(r) for r in raws) or is_rolling([_clean(r) for r in raws], _SAMPLE)


def _plain_cues(captions: list, numbers: list[int | None]) -> list[Cue]:
    cues: list[Cue] = []
    voice: str | None = None
    previous_key: tuple[str | None, str] | None = None
    for caption, number in zip(captions, numbers):
        start = caption.start_time.in_milliseconds() / 1000
        end = caption.end_time.in_milliseconds() / 1000
        for piece_voice, given, raw in _pieces(caption.raw_text, voice):
            if given:
                voice = piece_voice
            text = _clean(raw)
            if not text:
                continue
            key = (voice, text)
            if key == previous_key and cues:
                # The same caption repeated: one cue, spanning both.
                cues[-1].end_s = max(cues[-1].end_s or end, end)
                continue
            previous_key = key
            voice = _append(cues, text, start, end, voice, number)
    return cues


def _append(cues: list[Cue], text: str, start: float, end: float, voice: str | None, number: int | None) -> str | None:
    """Append ``text`` as cues, split at ``>>`` marks; the voice that carries on after it."""
    for turn_mark, part in split_turns(text):
        if turn_mark:
            voice = None  # '>>' says the speaker changes, without a name
        changed = bool(cues) and cues[-1].speaker != voice
        first_named = not cues and voice is not None
        cues.append(Cue(
            text=part, start_s=start, end_s=end, speaker=voice,
            turn=turn_mark or changed or first_named, line=number,
        ))
    return voice


def _rolling_cues(captions: list, numbers: list[int | None]) -> list[Cue]:
    """Keep only the words each rolling caption adds to what was already emitted."""
    cues: list[Cue] = []
    tail: list[str] = []
    voice: str | None = None
    for caption, number in zip(captions, numbers):
        start = caption.start_time.in_milliseconds() / 1000
        end = caption.end_time.in_milliseconds() / 1000
        for piece_voice, given, raw in _pieces(caption.raw_text, voice):
            if given:
                voice = piece_voice
            words = _clean(raw).split()
            if not words:
                continue
            k = rolling_overlap(tail, words)
            new = words[k:]
            if not new:
                if cues:
                    cues[-1].end_s = max(cues[-1].end_s or end, end)
                continue
            tail = (tail + new)[-40:]
            voice = _append(cues, " ".join(new), start, end, voice, number)
    return cues
