"""SubRip captions (``application/x-subrip``).

Numbered cue blocks separated by blank lines::

    1
    00:00:00,000 --> 00:00:02,760
    SARAH: In today's episode,
    you'll learn whether or not you

Blocks are read by ``index.cueblocks`` the way players read them (short
fields, times without milliseconds, a blank line after an index, stray index
lines, ``-->`` in text); a cue whose timing cannot be read is skipped with a
warning naming its line. Speaker labels in the text (``NAME:``, ``>> NAME:``,
``[SPEAKER_00]:``, ``[Name]``, dialogue dashes) are read by ``index.labels``,
which decides once for every format which prefixes are speakers; a name
carries forward to later cues until the next label.

Auto-generated SRT often rolls: each caption repeats the line before it. When
most captions do, only the words each one adds are kept.
"""

from __future__ import annotations

import html
import re

from ..cueblocks import Block, read_blocks, timing
from ..errors import TranscriptError
from ..labels import NOBODY, Piece, Voices, accepted_names, line_candidates
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, is_rolling, rolling_overlap

NAME = "srt"

_INDEX = re.compile(r"^\s*\d+\s*$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TAG = re.compile(r"<[^<>]*>|\{\\[^{}]*\}")


def sniff(text: str) -> bool:
    """True when the first block is an index line followed (a blank line allowed) by a timing line."""
    lines = _LINE_BREAK.split(text.lstrip("\ufeff"), 40)[:40]
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i + 1 >= len(lines) or not _INDEX.match(lines[i]):
        return False
    j = i + 1
    if j < len(lines) and not lines[j].strip():
        j += 1
    return j < len(lines) and timing(lines[j]) is not None


def untag(raw: str) -> str:
    """A caption line without its tags (``<i>``, ``<font>``, ``{\\an8}``), entities unescaped."""
    return html.unescape(_TAG.sub("", raw))


def clean(untagged: str) -> str:
    """Display text from a cue's text with its tags already removed."""
    return clean_text(untagged)


def add_cues(cues: list[Cue], block: Block, pieces: list[Piece]) -> None:
    """Append a timed block's pieces (text with its voice, see ``index.labels``) as cues."""
    for piece in pieces:
        text = clean(piece.text)
        if not text:
            continue
        v = piece.voice
        changed = (cues[-1].voice != (v.speaker, v.label)) if cues else v != NOBODY
        cues.append(Cue(
            text=text, start_s=block.start, end_s=block.end, speaker=v.speaker, label=v.label,
            turn=piece.turn or changed, line=block.line,
        ))


def parse(text: str) -> list[Transcript]:
    """Parse SRT text into one transcript; a bad cue is skipped with a warning."""
    read = read_blocks(text.removeprefix("\ufeff"), vtt=False)
    if not read.blocks:
        where = next((i + 1 for i, ln in enumerate(read.header) if ln.strip()), 1)
        if read.timing_lines:
            raise TranscriptError("no SRT cue could be read; " + "; ".join(read.warnings[:3]), line=where)
        raise TranscriptError("no SRT cue found (expected an index line and a timing line)", line=where)
    warnings = list(read.warnings)
    junk = [i + 1 for i, ln in enumerate(read.header) if ln.strip() and not _INDEX.match(ln)]
    if junk:
        warnings.append(f"line {junk[0]}: text before the first cue skipped")
    names = accepted_names(line_candidates([untag(x) for x in b.lines]) for b in read.blocks)
    voices = Voices(names)
    cues: list[Cue] = []
    for block in read.blocks:
        add_cues(cues, block, voices.pieces([untag(x) for x in block.lines]))
    if is_rolling([c.text for c in cues]):
        cues = unrolled(cues)
    return [Transcript(format=NAME, cues=cues, speakers=speakers_in(cues), warnings=warnings)]


def unrolled(cues: list[Cue]) -> list[Cue]:
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
