"""Transcript formats: detection from content, and one parser module per format.

Each format module defines:

- ``NAME``: the format's name, as ``--format NAME`` takes it;
- ``sniff(text) -> bool``: True when the text is in this format;
- ``parse(text) -> list[Transcript]``: the transcripts the text holds (one, or
  one per episode for a page of snippets). Problems raise ``TranscriptError``
  with the line number; the caller adds the file name.

Speech-to-text services' JSON shapes are one module (``asr_json``) with a
``Vendor`` object per shape, each with the same three names.

Detection tries the formats in ``FORMATS`` order, most specific first. JSON
that no JSON format claims is refused with a message naming the shapes read.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import TranscriptError, UnknownFormatError
from ..model import Transcript
from ..text import strip_footer
from . import (
    asr_json,
    bracket_captions,
    plain,
    podcast_html,
    podcast_json,
    snippets,
    speaker_md,
    srt_format,
    ttml,
    vtt,
    whisper_cpp,
    whisper_tsv,
    youtube_md,
)


class Format(Protocol):
    """A transcript format: a module, or an ``asr_json.Vendor``."""

    NAME: str

    def sniff(self, text: str) -> bool: ...

    def parse(self, text: str) -> list[Transcript]: ...


FORMATS: list[Format] = [
    vtt,
    ttml,
    *asr_json.VENDORS,
    podcast_json,
    srt_format,
    whisper_cpp,
    whisper_tsv,
    youtube_md,
    bracket_captions,
    podcast_html,
    snippets,
    speaker_md,
    plain,
]

BY_NAME: dict[str, Format] = {m.NAME: m for m in FORMATS}


def detect(text: str) -> Format:
    """The format module for ``text``; TranscriptError when none fits."""
    for module in FORMATS:
        if module.sniff(text):
            return module
    if asr_json.looks_like_json(text):
        raise UnknownFormatError(asr_json.NOT_A_TRANSCRIPT)
    raise UnknownFormatError(
        "unknown transcript format; pass --format with one of: " + ", ".join(BY_NAME)
    )


def parse(text: str, format: str | None = None) -> tuple[str, list[Transcript]]:
    """Parse ``text`` in ``format`` (detected when None): (format name, transcripts)."""
    if format is None:
        module = detect(text)
    else:
        try:
            module = BY_NAME[format]
        except KeyError:
            raise TranscriptError(
                f"unknown format {format!r}; choose one of: " + ", ".join(BY_NAME)
            ) from None
    transcripts = module.parse(text)
    for t in transcripts:
        _drop_footers(t)
    if not any(t.cues for t in transcripts):
        raise TranscriptError(f"no transcript text found (read as {module.NAME})")
    return module.NAME, transcripts


def _drop_footers(t: Transcript) -> None:
    """Tools' footers ("Transcribed by https://otter.ai") leave the last cues, whatever the format."""
    dropped = 0
    for cue in t.cues[-3:]:
        kept = strip_footer(cue.text)
        if kept != cue.text:
            cue.text = kept
            dropped += 1
    if dropped:
        t.cues = [c for c in t.cues if c.text]
        t.warnings.append(f"dropped {dropped} tool footer(s) (\"Transcribed by …\")")
