"""whisper's ``.tsv`` output: a header, then one segment per line, times in milliseconds.

    start	end	text
    0	4200	Welcome to Harbour Lights, the show about lighthouses.
    4200	9870	The brass diaphragm of the foghorn cracks every winter.

(OpenAI whisper's ``--output_format tsv``, also written by ``--output_format
all``.) A line whose times are not whole numbers is skipped with a warning
naming it; it never rejects the file.
"""

from __future__ import annotations

import re

from ..errors import TranscriptError
from ..model import Cue, Transcript
from ..text import clean_text

NAME = "whisper-tsv"

_HEADER = re.compile(r"^start\tend\ttext\s*$", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def sniff(text: str) -> bool:
    """The first non-blank line is the ``start<TAB>end<TAB>text`` header."""
    first = text.lstrip("\ufeff \r\n").split("\n", 1)[0]
    return bool(_HEADER.match(first))


def parse(text: str) -> list[Transcript]:
    lines = _LINE_BREAK.split(text.lstrip("\ufeff"))
    transcript = Transcript(format=NAME)
    bad: list[int] = []
    header = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if not header and _HEADER.match(line):
            header = True
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3 or not parts[0].strip().isdigit() or not parts[1].strip().isdigit():
            bad.append(number)
            continue
        body = clean_text(parts[2])
        if body:
            transcript.cues.append(Cue(body, int(parts[0]) / 1000, int(parts[1]) / 1000, line=number))
    if bad and not transcript.cues:
        raise TranscriptError("not whisper TSV: expected 'start<TAB>end<TAB>text' lines with times in ms", line=bad[0])
    if bad:
        where = ", ".join(str(n) for n in bad[:5]) + (" …" if len(bad) > 5 else "")
        transcript.warnings.append(f"skipped {len(bad)} line(s) that are not 'start<TAB>end<TAB>text' (line {where})")
    return [transcript]
