"""Podcasting 2.0 JSON transcripts (``application/json``), and whisper-style JSON.

Podcasting 2.0::

    {"version": "1.0.0",
     "segments": [{"speaker": "Darth Vader", "startTime": 0.5, "endTime": 0.75, "body": "I"},
                  {"startTime": 1, "endTime": 1.25, "body": "am"}, ...]}

Segments are often one word each (the spec's example is word-level, with
``"father.\\n"`` ending a sentence), so consecutive segments of one speaker are
merged into cues: a cue ends at a sentence end or newline once it has about 8
words, at a pause of 1.5 s or more, at about 40 words, or where the speaker
changes. A segment without ``speaker`` inherits the previous one. Times may be
numbers or numeric strings (or ``hh:mm:ss.mmm`` clocks).

Whisper-style JSON (``{"segments": [{"start", "end", "text", "speaker"?}]}``)
is also read; each of its segments, already phrase-sized, is one cue.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from ..errors import TranscriptError
from ..labels import NOBODY, voice
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, parse_clock, repair_mojibake, squash
from .asr_json import Word, merge_words

NAME = "podcast-json"

_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def _seconds(value: Any) -> float | None:
    """A time: a number, a numeric string, or a clock string; ValueError otherwise
    (pydantic reports a ValueError raised in a validator as a field error)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value)):
        result = float(value)
    elif isinstance(value, str) and ":" in value:
        try:
            result = parse_clock(value)
        except TranscriptError:
            raise ValueError("not a number") from None
    else:
        raise ValueError("not a number")
    if not math.isfinite(result):
        raise ValueError("not a finite number")
    if result < 0:
        raise ValueError("negative time")
    return result


def _speaker(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("not a string")
    name = squash(str(value))
    if name and not name.isascii():
        name = repair_mojibake(name)
    return name or None


Seconds = Annotated[float | None, BeforeValidator(_seconds)]
Speaker = Annotated[str | None, BeforeValidator(_speaker)]


class _Segment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    speaker: Speaker = None
    startTime: Seconds = None  # noqa: N815 - the Podcasting 2.0 JSON field names
    endTime: Seconds = None  # noqa: N815
    body: str


class _WhisperSegment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    speaker: Speaker = None
    start: Seconds = None
    end: Seconds = None
    text: str


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore")
    segments: list[_Segment]


class _WhisperDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")
    segments: list[_WhisperSegment]


_MESSAGES = {
    "missing": "missing",
    "string_type": "not a string",
    "model_type": "not an object",
    "model_attributes_type": "not an object",
    "dict_type": "not an object",
    "list_type": "not a list",
}


def _field_error(exc: ValidationError) -> TranscriptError:
    """The first validation error as ``segments[12].startTime: not a number``."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    path = ""
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = _MESSAGES.get(err["type"])
    if message is None:
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    extra = len(errors) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return TranscriptError(f"{path or 'document'}: {message}{more}")


def sniff(text: str) -> bool:
    """A JSON object with a ``segments`` key (checked cheaply; parse() reads it)."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        return '"segments"' in head
    return head.startswith("[") and '"startTime"' in head and '"body"' in head


def _clean(body: str) -> str:
    return clean_text(html.unescape(body))


def _load(text: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise TranscriptError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise TranscriptError(f"invalid JSON: {exc}") from None


def parse(text: str) -> list[Transcript]:
    """Parse Podcasting 2.0 (or whisper-style) JSON into one transcript."""
    data = _load(text)
    title = None
    if isinstance(data, list):
        data = {"segments": data}
    if not isinstance(data, dict):
        raise TranscriptError('JSON transcript must be an object with a "segments" list', line=1)
    if "segments" not in data:
        raise TranscriptError('JSON transcript has no "segments" list', line=1)
    if isinstance(data.get("title"), str):
        title = squash(data["title"]) or None
    segments = data["segments"]
    whisper = isinstance(segments, list) and not any(isinstance(s, dict) and "body" in s for s in segments) and any(
        isinstance(s, dict) and "text" in s for s in segments
    )
    try:
        if whisper:
            cues = _whisper_cues(_WhisperDocument.model_validate(data).segments)
        else:
            cues = _merge(_Document.model_validate(data).segments)
    except ValidationError as exc:
        raise _field_error(exc) from None
    speakers = speakers_in(cues)
    if title and not title.isascii():
        title = repair_mojibake(title)
    return [Transcript(format=NAME, cues=cues, title=title, speakers=speakers)]


def _merge(segments: list[_Segment]) -> list[Cue]:
    """Merge word (or phrase) segments into sentence-sized cues (``asr_json.merge_words``);
    a segment without ``speaker`` inherits the previous one."""
    words: list[Word] = []
    current = NOBODY
    for seg in segments:
        if seg.speaker is not None:
            current = voice(seg.speaker)
        words.append(Word(seg.body, seg.startTime, seg.endTime, current, newline="\n" in seg.body))
    return merge_words(words)


def _whisper_cues(segments: list[_WhisperSegment]) -> list[Cue]:
    """Whisper segments, one cue each; WhisperX's ``SPEAKER_00`` is kept as a diarization label."""
    cues: list[Cue] = []
    for seg in segments:
        text = _clean(seg.text)
        if not text:
            continue
        v = voice(seg.speaker)
        previous = cues[-1].voice if cues else (None, None)
        turn = v != NOBODY and (not cues or previous != (v.speaker, v.label))
        cues.append(Cue(text=text, start_s=seg.start, end_s=seg.end, speaker=v.speaker, label=v.label, turn=turn))
    return cues
