"""TTML (W3C Timed Text), as Apple Podcasts' transcripts and TTML/DFXP captions write it.

    <tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata">
      <body><div>
        <p begin="0.220" end="9.800" ttm:agent="SPEAKER_1">
          <span begin="0.220" end="0.500" podcasts:unit="word">Welcome</span>
          <span begin="0.500" end="0.640" podcasts:unit="word">to</span> …

- Each ``<p>`` is a cue: its ``begin`` and ``end``, or its first and last
  timed ``<span>``'s. Times are clock times (``00:01:02.5``, ``1:02.000``,
  ``00:01:02:12`` frames at ``ttp:frameRate``, default 30), offsets with a unit
  (``62.5s``, ``1500ms``, ``3m``, ``90000t`` ticks at ``ttp:tickRate``,
  ``25f``) or bare seconds (``0.220``, as Apple writes them).
- Apple writes absolute times on nested elements; TTML proper makes a child's
  times relative to its parent. Times are read as absolute when the file is
  Apple's (its ``podcasts`` namespace) or when every child begins at or after
  its parent; otherwise relative, as the spec says.
- ``ttm:agent`` names the speaker (through ``index.labels``: ``SPEAKER_1`` is a
  diarization label); ``<ttm:agent>`` definitions with a ``<ttm:name>`` give
  names for agent ids.
- Word spans (``podcasts:unit="word"``) are joined with one space, none before
  punctuation; ``<br/>`` is a space.

Why not a library: pysubs2 1.8.1, pycaption 2.3.14 and ttconv 1.2.3 all
refuse Apple's bare-second times, and those that read TTML glue word spans
together and drop ``ttm:agent``. The XML is read with defusedxml.
"""

from __future__ import annotations

import math
import re
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from ..errors import TranscriptError
from ..labels import NOBODY, voice
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text
from .asr_json import join_words

NAME = "ttml"

TT = "http://www.w3.org/ns/ttml"
TTM = "http://www.w3.org/ns/ttml#metadata"
TTP = "http://www.w3.org/ns/ttml#parameter"
APPLE = "http://podcasts.apple.com/transcript-ttml-internal"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$")
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms|f|t)?$")
_SNIFF = re.compile(r"<(?:\w+:)?tt[\s>][^>]*?(?:ns/ttml|dfxp)", re.IGNORECASE | re.DOTALL)


def sniff(text: str) -> bool:
    """A ``<tt>`` root in the TTML (or older DFXP) namespace."""
    return bool(_SNIFF.search(text[:4000]))


class _Clock:
    def __init__(self, root: Element) -> None:
        self.tick_rate = _float(root.get(f"{{{TTP}}}tickRate"), 0.0)
        self.frame_rate = _float(root.get(f"{{{TTP}}}frameRate"), 30.0) or 30.0
        if not self.tick_rate:
            self.tick_rate = self.frame_rate  # TTML's default when tickRate is absent: the frame rate, else 1
        self.skipped: list[str] = []

    def seconds(self, value: str | None) -> float | None:
        """A TTML time expression in seconds, None when absent or unreadable (noted)."""
        if value is None:
            return None
        v = value.strip()
        m = _CLOCK.match(v)
        if m:
            h, mi, s, frames = m.groups()
            if int(mi) > 59 or float(s) >= 60:
                self.skipped.append(v)
                return None
            total = (int(h) if h else 0) * 3600 + int(mi) * 60 + float(s)
            return total + (float(frames) / self.frame_rate if frames else 0.0)
        m = _OFFSET.match(v)
        if m:
            number, unit = float(m.group(1)), m.group(2) or "s"
            scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "f": 1 / self.frame_rate, "t": 1 / self.tick_rate}
            result = number * scale[unit]
            if math.isfinite(result):
                return result
        self.skipped.append(v)
        return None


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value else default
    except ValueError:
        return default


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _absolute(root: Element, clock: _Clock) -> bool:
    """Whether nested times are absolute (Apple) rather than relative to the parent (TTML)."""
    if any(APPLE in (k + (v or "")) for el in root.iter() for k, v in el.attrib.items()):
        return True

    def check(el: Element, parent_begin: float) -> bool:
        begin = clock.seconds(el.get("begin"))
        if begin is not None and begin < parent_begin:
            return False
        return all(check(child, begin if begin is not None else parent_begin) for child in el)

    return check(root, 0.0)


def _words(el: Element, out: list[str], times: list[tuple[float | None, float | None]], clock: _Clock,
           base: float, absolute: bool) -> None:
    """The element's text as words (spans joined by spaces) and the times of its timed descendants."""
    begin = clock.seconds(el.get("begin"))
    end = clock.seconds(el.get("end"))
    if not absolute:
        begin = base + begin if begin is not None else None
        end = base + end if end is not None else None
    if begin is not None or end is not None:
        times.append((begin, end))
    if el.text and el.text.strip():
        out.extend(el.text.split())
    child_base = begin if (begin is not None and not absolute) else base
    for child in el:
        if _local(child.tag) in ("span", "p"):
            _words(child, out, times, clock, child_base, absolute)
        if child.tail and child.tail.strip():
            out.extend(child.tail.split())


def parse(text: str) -> list[Transcript]:
    """Parse TTML into one transcript: a cue per ``<p>``."""
    try:
        root = ElementTree.fromstring(text.lstrip("\ufeff").encode("utf-8"))
    except ElementTree.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise TranscriptError(f"not valid TTML XML: {exc}", line=line) from None
    except Exception as exc:  # noqa: BLE001 - defusedxml refuses entities and DTDs: say so
        raise TranscriptError(f"TTML refused: {type(exc).__name__}") from None
    if _local(root.tag) != "tt":
        raise TranscriptError("not TTML: the root element must be <tt>", line=1)
    clock = _Clock(root)
    absolute = _absolute(root, clock)
    names: dict[str, str] = {}
    for agent in root.iter(f"{{{TTM}}}agent"):
        name = agent.find(f"{{{TTM}}}name")
        agent_id = agent.get(f"{{{XML_NS}}}id")
        if agent_id and name is not None and (name.text or "").strip():
            names[agent_id] = name.text.strip()
    cues: list[Cue] = []

    def walk(el: Element, base: float) -> None:
        for child in el:
            tag = _local(child.tag)
            if tag == "p":
                words: list[str] = []
                times: list[tuple[float | None, float | None]] = []
                _words(child, words, times, clock, base, absolute)
                body = clean_text(join_words(words))
                if not body:
                    continue
                # A <p> without ttm:agent has no known speaker (agents do not carry over in TTML).
                agent = (child.get(f"{{{TTM}}}agent") or "").split()
                current = voice(names.get(agent[0], agent[0])) if agent else NOBODY
                starts = [b for b, _ in times if b is not None]
                ends = [e for _, e in times if e is not None]
                previous = cues[-1].voice if cues else (None, None)
                cues.append(Cue(
                    body, starts[0] if starts else None, max(ends) if ends else None,
                    speaker=current.speaker, label=current.label,
                    turn=current != NOBODY and previous != (current.speaker, current.label),
                ))
            elif tag in ("body", "div"):
                begin = clock.seconds(child.get("begin"))
                walk(child, base + begin if (begin is not None and not absolute) else base)

    body = next((el for el in root if _local(el.tag) == "body"), None)
    if body is None:
        raise TranscriptError("TTML without a <body>")
    begin = clock.seconds(body.get("begin"))
    walk(body, begin if (begin is not None and not absolute) else 0.0)
    transcript = Transcript(format=NAME, cues=cues, speakers=speakers_in(cues))
    if clock.skipped:
        transcript.warnings.append(
            f"skipped {len(clock.skipped)} unreadable time(s), e.g. {clock.skipped[0][:30]!r}"
        )
    return [transcript]
