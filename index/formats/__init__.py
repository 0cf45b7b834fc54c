"""Transcript formats: detection from content, and one parser module per format.

Each format module defines:

- ``NAME``: the format's name, as ``--format NAME`` takes it;
- ``sniff(text) -> bool``: True when the text is in this format;
- ``parse(text) -> list[Transcript]``: the transcripts the text holds (one, or
  one per episode for a page of snippets). Problems raise ``TranscriptError``
  with the line number; the caller adds the file name.

Detection tries the formats in ``FORMATS`` order, most specific first.
"""

from __future__ import annotations

from types import ModuleType

from ..errors import TranscriptError
from ..model import Transcript
from . import (
    bracket_captions,
    plain,
    podcast_html,
    podcast_json,
    snippets,
    speaker_md,
    srt_format,
    vtt,
    whisper_cpp,
    youtube_md,
)

FORMATS: list[ModuleType] = [
    vtt,
    podcast_json,
    srt_format,
    whisper_cpp,
    youtube_md,
    bracket_captions,
    podcast_html,
    snippets,
    speaker_md,
    plain,
]

BY_NAME: dict[str, ModuleType] = {m.NAME: m for m in FORMATS}


def detect(text: str) -> ModuleType:
    """The format module for ``text``; TranscriptError when none fits."""
    for module in FORMATS:
        if module.sniff(text):
            return module
    raise TranscriptError(
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
    if not any(t.cues for t in transcripts):
        raise TranscriptError(f"no transcript text found (read as {module.NAME})")
    return module.NAME, transcripts
