"""Speech-to-text services' JSON, detected from content.

Each vendor's shape is read by a small reader below; what they share lives
once: word-level input becomes cues at sentence or turn boundaries
(``merge_words``), times in milliseconds are converted to seconds, and every
speaker field goes through ``index.labels.voice`` (vendor ids such as
AssemblyAI's ``A`` or Deepgram's ``0`` are diarization labels, shown as
"Speaker 1").

=====================  ==============================================  ======
format name            shape (source)                                  times
=====================  ==============================================  ======
``assemblyai``         ``utterances[]`` {start, end, speaker, text,    ms
                       words[]}, else ``words[]`` (AssemblyAI v2
                       transcript)
``deepgram``           ``results.channels[].alternatives[].words[]``   s
                       {punctuated_word, start, end, speaker}, else
                       ``results.utterances[]``, else ``paragraphs``
``rev-json``           ``monologues[]`` {speaker, speaker_name,        s
                       elements[] {type, value, ts, end_ts}}
``aws-transcribe``     ``results.items[]`` {type, start_time,          s (strings)
                       alternatives[0].content, speaker_label}; older
                       files give speakers in
                       ``results.speaker_labels.segments[].items[]``
``whisper-cpp-json``   ``transcription[]`` {offsets {from, to},        ms
                       text} (whisper.cpp ``-oj``)
``youtube-json3``      ``events[]`` {tStartMs, dDurationMs,            ms
                       segs[] {utf8}} (YouTube ``fmt=json3``)
``cue-list-json``      a bare list of {start, end | duration, text,    s
                       speaker?} (youtube-transcript-api and many
                       scripts)
=====================  ==============================================  ======

OpenAI Whisper and WhisperX JSON (``{"segments": [...]}``) are read by
``podcast_json``. A bad element (a time that is not a number) is skipped with
a warning naming its field path (``words[12].start``); it never rejects the
file. JSON that is none of these shapes is refused by ``formats.detect`` with
a message naming the shapes read (``NOT_A_TRANSCRIPT``).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import TranscriptError
from ..labels import NOBODY, Voice, voice
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, parse_clock

MIN_WORDS = 8  # a sentence end closes a cue once it has this many words
MAX_WORDS = 40  # a cue never grows past this many words
PAUSE_S = 1.5  # a silence this long between words closes a cue

NOT_A_TRANSCRIPT = (
    "JSON, but not a transcript shape we read. We read: AssemblyAI (utterances/words), "
    "Deepgram (results.channels[].alternatives[]), Rev.ai (monologues[].elements[]), "
    "AWS Transcribe (results.items), whisper.cpp -oj (transcription[].offsets), "
    "OpenAI Whisper/WhisperX (segments[]), Podcasting 2.0 (segments[] with body), "
    "YouTube json3 (events[].segs[]) and a bare list of {start, end, text} cues"
)

_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*$")
_NO_SPACE_BEFORE = re.compile(r"^[,.!?;:%)\]}…'’”]")


@dataclass
class Word:
    """One word (or phrase) with its times in seconds and its voice."""

    text: str
    start: float | None
    end: float | None
    voice: Voice = NOBODY
    newline: bool = False  # the source ends a line or paragraph after it


def join_words(words: Iterable[str]) -> str:
    """Words joined with spaces, none before punctuation (``Lights`` ``.`` → ``Lights.``)."""
    out = ""
    for w in words:
        if out and not _NO_SPACE_BEFORE.match(w):
            out += " "
        out += w
    return out


def merge_words(words: Iterable[Word]) -> list[Cue]:
    """Word-level input as cues: a cue ends at a change of voice, a pause of PAUSE_S,
    a sentence end (or the source's line end) once it has MIN_WORDS words, or at MAX_WORDS."""
    cues: list[Cue] = []
    texts: list[str] = []
    start: float | None = None
    end: float | None = None
    current: Voice = NOBODY

    def flush() -> None:
        nonlocal texts, start, end
        if texts:
            previous = cues[-1].voice if cues else (None, None)
            v = (current.speaker, current.label)
            cues.append(Cue(
                text=join_words(texts), start_s=start, end_s=end, speaker=current.speaker, label=current.label,
                turn=current != NOBODY and (not cues or previous != v),
            ))
        texts, start, end = [], None, None

    for w in words:
        text = clean_text(html.unescape(w.text)) if w.text else ""
        if not text:
            continue
        if texts:
            pause = w.start is not None and end is not None and w.start - end >= PAUSE_S
            if w.voice != current or pause or len(texts) >= MAX_WORDS:
                flush()
        if not texts:
            start, current = w.start, w.voice
        texts.extend(text.split())
        if w.end is not None:
            end = w.end
        elif w.start is not None:
            end = max(end or w.start, w.start)
        if len(texts) >= MIN_WORDS and (w.newline or _SENTENCE_END.search(texts[-1])):
            flush()
    flush()
    return cues


class _Reader:
    """Shared bookkeeping of one vendor file: the warnings for bad elements."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.skipped: list[str] = []

    def seconds(self, value: Any, path: str, *, ms: bool = False) -> float | None:
        """A time in seconds (``ms``: the value is in milliseconds); None, with a warning, when unreadable."""
        if value is None:
            return None
        result: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value) if ":" not in value else parse_clock(value)
            except (ValueError, TranscriptError):
                result = None
        if result is None or not math.isfinite(result) or result < 0:
            self.skipped.append(f"{path}: not a time ({str(value)[:30]!r})")
            return None
        return result / 1000 if ms else result

    def done(self, transcript: Transcript) -> Transcript:
        if self.skipped:
            more = f" (and {len(self.skipped) - 3} more)" if len(self.skipped) > 3 else ""
            self.warnings.append("skipped: " + "; ".join(self.skipped[:3]) + more)
        transcript.warnings.extend(self.warnings)
        transcript.speakers = speakers_in(transcript.cues)
        return transcript


def _dicts(value: Any) -> Iterator[tuple[int, dict]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- AssemblyAI --------------------------------------------------------------------------

def _is_assemblyai(d: Any) -> bool:
    return isinstance(d, dict) and (
        isinstance(d.get("utterances"), list)
        or (isinstance(d.get("words"), list) and ("audio_duration" in d or "language_code" in d or "status" in d))
    )


def _assemblyai(d: dict, r: _Reader) -> list[Cue]:
    def words(items: Any, path: str) -> Iterator[Word]:
        for i, w in _dicts(items):
            yield Word(_text(w.get("text")), r.seconds(w.get("start"), f"{path}[{i}].start", ms=True),
                       r.seconds(w.get("end"), f"{path}[{i}].end", ms=True), voice(w.get("speaker"), vendor_ids=True))

    utterances = d.get("utterances")
    if isinstance(utterances, list) and utterances:
        out: list[Word] = []
        for i, u in _dicts(utterances):
            v = voice(u.get("speaker"), vendor_ids=True)
            inner = list(words(u.get("words"), f"utterances[{i}].words"))
            if inner:
                out.extend(Word(w.text, w.start, w.end, v) for w in inner)
                out[-1].newline = True
            else:
                out.append(Word(_text(u.get("text")), r.seconds(u.get("start"), f"utterances[{i}].start", ms=True),
                                r.seconds(u.get("end"), f"utterances[{i}].end", ms=True), v, newline=True))
        return merge_words(out)
    return merge_words(words(d.get("words"), "words"))


# --- Deepgram ----------------------------------------------------------------------------

def _is_deepgram(d: Any) -> bool:
    results = d.get("results") if isinstance(d, dict) else None
    return isinstance(results, dict) and (
        isinstance(results.get("channels"), list) or isinstance(results.get("utterances"), list)
    )


def _deepgram(d: dict, r: _Reader) -> list[Cue]:
    results = d["results"]
    channels = [c for _, c in _dicts(results.get("channels"))]
    all_words: list[Word] = []
    multichannel = len(channels) > 1
    for n, channel in enumerate(channels):
        alternatives = [a for _, a in _dicts(channel.get("alternatives"))]
        if not alternatives:
            continue
        best = alternatives[0]
        for i, w in _dicts(best.get("words")):
            path = f"results.channels[{n}].alternatives[0].words[{i}]"
            who = w.get("speaker")
            if who is None and multichannel:
                who = n
            all_words.append(
                Word(
                    _text(w.get("punctuated_word") or w.get("word")),
                    r.seconds(w.get("start"), path + ".start"),
                    r.seconds(w.get("end"), path + ".end"),
                    voice(who, vendor_ids=True),
                )
            )
    if all_words:
        if multichannel:
            all_words.sort(key=lambda w: w.start if w.start is not None else math.inf)
        return merge_words(all_words)
    out: list[Word] = []
    for i, u in _dicts(results.get("utterances")):
        out.append(Word(_text(u.get("transcript")), r.seconds(u.get("start"), f"results.utterances[{i}].start"),
                        r.seconds(u.get("end"), f"results.utterances[{i}].end"),
                        voice(u.get("speaker"), vendor_ids=True), newline=True))
    if out:
        return merge_words(out)
    for n, channel in enumerate(channels):
        options = channel.get("alternatives")
        for _, alt in _dicts(options[:1] if isinstance(options, list) else []):
            paragraphs = alt.get("paragraphs")
            items = paragraphs.get("paragraphs") if isinstance(paragraphs, dict) else None
            for i, p in _dicts(items):
                v = voice(p.get("speaker"), vendor_ids=True)
                for j, s in _dicts(p.get("sentences")):
                    path = f"results.channels[{n}].alternatives[0].paragraphs.paragraphs[{i}].sentences[{j}]"
                    out.append(Word(_text(s.get("text")), r.seconds(s.get("start"), path + ".start"),
                                    r.seconds(s.get("end"), path + ".end"), v))
                if out:
                    out[-1].newline = True
            if not out and isinstance(alt.get("transcript"), str):
                out.append(Word(alt["transcript"], None, None))
    return merge_words(out)


# --- Rev.ai ------------------------------------------------------------------------------

def _is_rev(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("monologues"), list)


def _rev(d: dict, r: _Reader) -> list[Cue]:
    out: list[Word] = []
    for i, m in _dicts(d.get("monologues")):
        name = m.get("speaker_name")
        v = voice(name) if isinstance(name, str) and name.strip() else voice(m.get("speaker"), vendor_ids=True)
        first = len(out)
        for j, e in _dicts(m.get("elements")):
            value = _text(e.get("value"))
            path = f"monologues[{i}].elements[{j}]"
            if e.get("type") == "punct":
                if value.strip() and len(out) > first:
                    out[-1].text += value.strip()
                continue
            if e.get("type") not in (None, "text") or not value.strip():
                continue
            out.append(
                Word(value, r.seconds(e.get("ts"), path + ".ts"), r.seconds(e.get("end_ts"), path + ".end_ts"), v)
            )
        if len(out) > first:
            out[-1].newline = True
    return merge_words(out)


# --- AWS Transcribe ----------------------------------------------------------------------

def _is_aws(d: Any) -> bool:
    results = d.get("results") if isinstance(d, dict) else None
    return isinstance(results, dict) and isinstance(results.get("items"), list)


def _aws(d: dict, r: _Reader) -> list[Cue]:
    results = d["results"]
    # Older files: speakers only in speaker_labels.segments[].items[] {start_time, speaker_label}.
    by_start: dict[str, str] = {}
    labels = results.get("speaker_labels")
    if isinstance(labels, dict):
        for _, seg in _dicts(labels.get("segments")):
            for _, item in _dicts(seg.get("items")):
                if isinstance(item.get("start_time"), str) and item.get("speaker_label") is not None:
                    by_start[item["start_time"]] = str(item["speaker_label"])
    out: list[Word] = []
    for i, item in _dicts(results.get("items")):
        alternatives = item.get("alternatives")
        content = ""
        if isinstance(alternatives, list) and alternatives and isinstance(alternatives[0], dict):
            content = _text(alternatives[0].get("content"))
        if item.get("type") == "punctuation":
            if out and content.strip():
                out[-1].text += content.strip()
            continue
        if not content.strip():
            continue
        start_raw = item.get("start_time")
        who = item.get("speaker_label")
        if who is None and isinstance(start_raw, str):
            who = by_start.get(start_raw)
        path = f"results.items[{i}]"
        out.append(
            Word(
                content,
                r.seconds(start_raw, path + ".start_time"),
                r.seconds(item.get("end_time"), path + ".end_time"),
                voice(who, vendor_ids=True),
            )
        )
    return merge_words(out)


# --- whisper.cpp -oj ---------------------------------------------------------------------

def _is_whisper_cpp(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("transcription"), list)


def _whisper_cpp(d: dict, r: _Reader) -> list[Cue]:
    cues: list[Cue] = []
    for i, seg in _dicts(d.get("transcription")):
        given = seg.get("offsets")
        offsets: dict[str, Any] = given if isinstance(given, dict) else {}
        start = r.seconds(offsets.get("from"), f"transcription[{i}].offsets.from", ms=True)
        end = r.seconds(offsets.get("to"), f"transcription[{i}].offsets.to", ms=True)
        if start is None and isinstance(seg.get("timestamps"), dict):
            start = r.seconds(seg["timestamps"].get("from"), f"transcription[{i}].timestamps.from")
            end = r.seconds(seg["timestamps"].get("to"), f"transcription[{i}].timestamps.to")
        text = clean_text(_text(seg.get("text")))
        if text:
            cues.append(Cue(text, start, end))
    return cues


# --- YouTube json3 -----------------------------------------------------------------------

def _is_json3(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("events"), list) and any(
        isinstance(e, dict) and "segs" in e for e in d["events"][:50]
    )


def _json3(d: dict, r: _Reader) -> list[Cue]:
    cues: list[Cue] = []
    for i, e in _dicts(d.get("events")):
        segs = e.get("segs")
        if not isinstance(segs, list):
            continue
        text = clean_text("".join(_text(s.get("utf8")) for _, s in _dicts(segs)))
        if not text:
            continue
        start = r.seconds(e.get("tStartMs"), f"events[{i}].tStartMs", ms=True)
        duration = r.seconds(e.get("dDurationMs"), f"events[{i}].dDurationMs", ms=True)
        end = start + duration if start is not None and duration is not None else None
        cues.append(Cue(text, start, end))
    return cues


# --- a bare list of cues -----------------------------------------------------------------

_START_KEYS = ("start", "start_time", "startTime", "begin", "from")
_END_KEYS = ("end", "end_time", "endTime", "to")


def _is_cue_list(d: Any) -> bool:
    if not isinstance(d, list) or not d:
        return False
    sample = [x for x in d[:20] if isinstance(x, dict)]
    return bool(sample) and all(
        isinstance(x.get("text"), str) and any(k in x for k in _START_KEYS) for x in sample
    )


def _cue_list(d: list, r: _Reader) -> list[Cue]:
    cues: list[Cue] = []
    for i, item in _dicts(d):
        key = next((k for k in _START_KEYS if k in item), None)
        start = r.seconds(item.get(key), f"[{i}].{key}") if key else None
        end_key = next((k for k in _END_KEYS if k in item), None)
        end = r.seconds(item.get(end_key), f"[{i}].{end_key}") if end_key else None
        if end is None and start is not None and "duration" in item:
            duration = r.seconds(item.get("duration"), f"[{i}].duration")
            end = start + duration if duration is not None else None
        text = clean_text(html.unescape(_text(item.get("text"))))
        if not text:
            continue
        v = voice(item.get("speaker"))
        previous = cues[-1].voice if cues else (None, None)
        cues.append(Cue(text, start, end, speaker=v.speaker, label=v.label,
                        turn=v != NOBODY and previous != (v.speaker, v.label)))
    return cues


class Vendor:
    """One JSON shape as a format: ``NAME``, ``sniff(text)`` and ``parse(text)`` like a format module."""

    def __init__(self, name: str, test: Callable[[Any], bool], read: Callable[[Any, _Reader], list[Cue]], doc: str):
        self.NAME = name
        self._test = test
        self._read = read
        self.__doc__ = doc

    def sniff(self, text: str) -> bool:
        head = text.lstrip("\ufeff \t\r\n")[:1]
        if head not in ("{", "["):
            return False
        data = load_json(text, quiet=True)
        return data is not None and self._test(data)

    def parse(self, text: str) -> list[Transcript]:
        data = load_json(text)
        if not self._test(data):
            raise TranscriptError(f"not {self.NAME} JSON. " + NOT_A_TRANSCRIPT, line=1)
        r = _Reader()
        cues = self._read(data, r)
        return [r.done(Transcript(format=self.NAME, cues=cues))]


_CACHE: dict[int, tuple[str, Any]] = {}


def load_json(text: str, *, quiet: bool = False) -> Any:
    """The JSON in ``text`` (remembered for the last text, so detection parses it once);
    TranscriptError naming the line when it is not JSON, or None when ``quiet``."""
    key = id(text)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is text:
        return hit[1]
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        if quiet:
            return None
        raise TranscriptError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except (RecursionError, ValueError) as exc:
        if quiet:
            return None
        raise TranscriptError(
            f"invalid JSON: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}"
        ) from None
    _CACHE.clear()
    _CACHE[key] = (text, data)
    return data


ASSEMBLYAI = Vendor("assemblyai", _is_assemblyai, _assemblyai, "AssemblyAI transcript JSON (times in ms).")
DEEPGRAM = Vendor("deepgram", _is_deepgram, _deepgram, "Deepgram response JSON (seconds).")
REV = Vendor("rev-json", _is_rev, _rev, "Rev.ai transcript JSON (seconds).")
AWS = Vendor("aws-transcribe", _is_aws, _aws, "AWS Transcribe JSON (seconds as strings).")
WHISPER_CPP = Vendor("whisper-cpp-json", _is_whisper_cpp, _whisper_cpp, "whisper.cpp -oj JSON (offsets in ms).")
JSON3 = Vendor("youtube-json3", _is_json3, _json3, "YouTube json3 captions (ms).")
CUE_LIST = Vendor("cue-list-json", _is_cue_list, _cue_list, "A bare JSON list of {start, end, text} cues (seconds).")

VENDORS = [ASSEMBLYAI, DEEPGRAM, REV, AWS, WHISPER_CPP, JSON3, CUE_LIST]


def looks_like_json(text: str) -> bool:
    """True when the text is a JSON object or list (whatever its shape)."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    return head in ("{", "[") and load_json(text, quiet=True) is not None
