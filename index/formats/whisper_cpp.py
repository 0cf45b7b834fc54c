"""whisper.cpp text output: one segment per line, with start and end times.

    [00:00:00.000 --> 00:00:06.500]   [MUSIC]
    [00:00:06.500 --> 00:00:09.240]   Hey everyone, welcome to the Latent Space Podcast.
    [00:00:31.420 --> 00:00:32.140]   >> Yeah, yeah. >> And obviously,

- Times are ``hh:mm:ss.mmm`` (``mm:ss.mmm`` from OpenAI's whisper CLI is
  accepted too); a malformed time is a TranscriptError naming the line.
- Noise tags (``[MUSIC]``, ``(upbeat music)``, ``[BLANK_AUDIO]`` …) are dropped;
  a line that is only noise gives no cue (its time shows as a gap).
- ``>>`` marks a new speaker turn: each piece of a line becomes a cue with
  ``turn=True`` and the line's times. Labels in the text (``[SPEAKER_00]:``,
  ``>> NAME:``) are read by ``index.labels``; without one the speaker is None.
- The file names no title, podcast or URL (a sidecar supplies them).
  ``duration_s`` is the last end time, noise lines included.
- Blank lines are skipped. A non-blank line that is not a timed line (a log
  line from the tool, a stray note) is skipped with a warning that names it,
  so one stray line does not lose an hour of transcript; when such lines
  outnumber the timed lines the file is not whisper.cpp output and that is an
  error.
"""

from __future__ import annotations

import re

from ..errors import TranscriptError
from ..labels import Voices, accepted_names, line_candidates
from ..model import Cue, Transcript
from ..text import parse_clock, repair_mojibake, squash, strip_noise

NAME = "whisper-cpp"

# Loose on purpose: anything shaped like "[a --> b]" is a timed line, and its
# clocks are then checked strictly, so a bad clock is an error, not a skip.
_LINE = re.compile(r"^\s*\[([^\]\n]{0,40}?)\s*-->\s*([^\]\n]{0,40}?)\s*\](.*)$")
# Detection is loose too (a clock-like "[0… --> …]" start), so that a file
# with a broken clock is still read as whisper.cpp and its error names the line.
_SNIFF = re.compile(r"^\s*\[\s*\d[\d:.,]{0,15}[^\]\n]{0,20}?-->[^\]\n]{0,40}\]")
_SNIFF_LINES = 200


def sniff(text: str) -> bool:
    """At least half of the first non-blank lines are ``[start --> end] text``."""
    seen = hits = 0
    for line in text[:60_000].splitlines():
        if not line.strip():
            continue
        seen += 1
        if _SNIFF.match(line):
            hits += 1
        if seen >= _SNIFF_LINES:
            break
    return hits > 0 and hits * 2 >= seen


def parse(text: str) -> list[Transcript]:
    transcript = Transcript(format=NAME)
    stray: list[int] = []
    timed = 0
    duration: float | None = None
    timed_lines: list[tuple[int, float, float, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            stray.append(number)
            continue
        timed += 1
        start = parse_clock(m.group(1), line=number)
        end = parse_clock(m.group(2), line=number)
        duration = end if duration is None else max(duration, end)
        raw = m.group(3)
        body = strip_noise(raw if raw.isascii() else repair_mojibake(raw))  # ASCII cannot be mojibake; ftfy is slow
        timed_lines.append((number, start, end, body))
    # Speaker labels in the text ("[SPEAKER_00]: ", ">> NAME: "), by index.labels' one rule.
    names = accepted_names(line_candidates([body], dashes=False) for *_, body in timed_lines)
    voices = Voices(names, dashes=False)
    for number, start, end, body in timed_lines:
        for piece in voices.pieces([body]):
            text = squash(piece.text)
            if text:
                v = piece.voice
                transcript.cues.append(Cue(text, start, end, speaker=v.speaker, label=v.label, turn=piece.turn,
                                           line=number))
    if stray and len(stray) > timed:
        raise TranscriptError(
            "not whisper.cpp output: most lines are not '[hh:mm:ss.mmm --> hh:mm:ss.mmm] text'",
            line=stray[0],
        )
    if stray:
        where = ", ".join(str(n) for n in stray[:5]) + (" …" if len(stray) > 5 else "")
        transcript.warnings.append(
            f"skipped {len(stray)} line(s) without a '[start --> end]' time (line {where})"
        )
    transcript.duration_s = duration
    return [transcript]
