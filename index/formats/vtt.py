"""WebVTT captions (``text/vtt``), the Podcasting 2.0 recommended transcript format.

The file starts with ``WEBVTT``; cues are blocks of an optional identifier, a
timing line ``00:00:05.000 --> 00:00:10.000 [settings]`` and text lines::

    WEBVTT

    00:00:00.000 --> 00:00:05.000
    <v John>Podcasting 2.0 is really changing the game.

    00:00:05.000 --> 00:00:10.000
    It's amazing how it's empowering creators.

Voice spans ``<v Name>`` name the speaker "when they change", so the last voice
carries forward over cues without one. Labels written in the text (Zoom's
``Name: text``, ``>> NAME:``, ``[SPEAKER_00]:``) are read by ``index.labels``,
the same rule as SRT's; a voice or label that is a diarization label
(``SPEAKER_1``) is kept as the cue's label. Blocks are read by
``index.cueblocks``: bare-second times (``0.860 --> 7.380``), short fields,
``-->`` in text and text after a blank line are accepted; a cue whose timing
cannot be read is skipped with a warning naming its line.

YouTube auto-captions add inline ``<00:00:01.000><c> word</c>`` tags and roll:
each cue repeats the tail of the one before (the old style repeats the
previous cue's last line as its first line), so only the new words of each
cue are kept.
"""

from __future__ import annotations

import html
import re

from ..cueblocks import Block, read_blocks
from ..errors import TranscriptError
from ..labels import Piece, Voices, accepted_names, line_candidates, voice
from ..model import Cue, Transcript, speakers_in
from ..text import is_rolling, norm_word, repair_mojibake, squash
from .srt_format import add_cues, clean, unrolled

NAME = "vtt"

_HEADER = re.compile(r"WEBVTT(?:[ \t]|\r?\n|\r|$)")
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


def _untag(raw: str) -> str:
    return html.unescape(_TAG.sub("", raw))


def _voice_split(lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """A cue's raw lines split at voice spans: [(voice name given there or None, untagged lines)]."""
    out: list[tuple[str | None, list[str]]] = [(None, [])]
    for raw in lines:
        pos = 0
        for m in _VOICE.finditer(raw):
            if raw[pos:m.start()].strip():
                out[-1][1].append(_untag(raw[pos:m.start()]))
            out.append((squash(html.unescape(m.group(1))), []))
            pos = m.end()
        rest = raw[pos:]
        if rest.strip() or pos == 0:
            out[-1][1].append(_untag(rest))
    return [(name, lines) for name, lines in out if name is not None or any(x.strip() for x in lines)]


def _pieces(block: Block, voices: Voices) -> list[Piece]:
    pieces: list[Piece] = []
    for name, lines in _voice_split(block.lines):
        if name is not None:
            given = voice(name)
            turn = given != voices.current or not pieces
            voices.set(given)
            inner = voices.pieces(lines)
            if inner and not inner[0].turn:
                inner[0].turn = turn
            pieces.extend(inner)
        else:
            pieces.extend(voices.pieces(lines))
    return pieces


def _drop_rolled_lines(blocks: list[Block]) -> None:
    """Old-style rolling captions start each cue with the previous cue's last line: drop it."""
    last: list[str] = []
    for block in blocks:
        lines = [x for x in block.lines if x.strip()]
        keys = [norm_word(w) for x in lines[:1] for w in clean(_untag(x)).split()]
        if len(lines) > 1 and keys and keys == last:
            block.lines = lines[1:]
        if lines:
            last = [norm_word(w) for w in clean(_untag(lines[-1])).split()]


def parse(text: str) -> list[Transcript]:
    """Parse WebVTT text into one transcript; a bad cue is skipped with a warning."""
    body = text.lstrip("\ufeff")
    stripped = body.lstrip(" \t\r\n")
    offset = len(_LINE_BREAK.findall(body[: len(body) - len(stripped)]))
    if not _HEADER.match(stripped):
        raise TranscriptError("not a WebVTT file: the first line must be 'WEBVTT'", line=1 + offset)
    read = read_blocks(body, vtt=True)
    title = None
    for line in read.header[1:]:
        m = _TITLE.match(line)
        if m:
            title = squash(html.unescape(m.group(1))) or None
            break
    if title and not title.isascii():
        title = repair_mojibake(title)
    rolling = any(_INLINE.search(x) for b in read.blocks for x in b.lines) or is_rolling(
        [clean(_untag(" ".join(b.lines))) for b in read.blocks], _SAMPLE
    )
    if rolling:
        _drop_rolled_lines(read.blocks)
    names = accepted_names([p for _, lines in _voice_split(b.lines) for p in line_candidates(lines)]
                           for b in read.blocks)
    voices = Voices(names)
    cues: list[Cue] = []
    for block in read.blocks:
        add_cues(cues, block, _pieces(block, voices))
    cues = unrolled(cues) if rolling else _merge_repeats(cues)
    return [Transcript(format=NAME, cues=cues, title=title, speakers=speakers_in(cues), warnings=read.warnings)]


def _merge_repeats(cues: list[Cue]) -> list[Cue]:
    """The same caption repeated by the same voice: one cue, spanning both."""
    out: list[Cue] = []
    for cue in cues:
        if out and out[-1].voice == cue.voice and out[-1].text == cue.text and out[-1].line != cue.line:
            out[-1].end_s = max(out[-1].end_s or 0.0, cue.end_s or 0.0)
            continue
        out.append(cue)
    return out
