"""Podcasting 2.0 HTML transcripts (``text/html``, "low fidelity").

Each monologue is a speaker, a start time and a paragraph::

    <cite>Kevin:</cite>
    <time>0:00</time>
    <p>We have an update planned ...</p>
    <cite>Alban :</cite>
    <time>0:09</time>
    <p>You're triggering Tom right now ...</p>

A ``<cite>`` names the speaker of the paragraphs that follow until the next
one (the trailing ``:`` is dropped); a ``<time>`` (``m:ss`` or ``h:mm:ss``, or
its ``datetime`` attribute) times the paragraph that follows it. ``<cite>`` and
``<time>`` inside a ``<p>`` work the same way. Without any ``<cite>``/``<time>``
the page is read generically: each ``<p>`` is a cue without a time. Scripts and
styles are dropped; the ``<title>`` is the title. Read with beautifulsoup4 and
the standard library's ``html.parser``.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction, CData

from ..errors import TranscriptError
from ..model import Cue, Transcript
from ..text import parse_clock, repair_mojibake, squash, strip_noise

NAME = "podcast-html"

_HTML_START = re.compile(r"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL)
_BLOCK_TAGS = re.compile(r"</(?:p|cite)\s*>", re.IGNORECASE)
_SKIPPED = (Comment, Declaration, Doctype, ProcessingInstruction, CData)
_DROP = ["script", "style", "noscript", "template", "svg"]
_BLANK_LINES = re.compile(r"\n\s*\n")


def sniff(text: str) -> bool:
    """An HTML document, or a fragment led by tags with ``</p>``/``</cite>`` in it."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("<"):
        return False
    if _HTML_START.match(head[:4000]):
        return True
    if head[:5].lower() == "<?xml":
        return False
    return bool(_BLOCK_TAGS.search(text))


def _clean(raw: str) -> str:
    text = strip_noise(raw)
    if not text.isascii():
        text = repair_mojibake(text)
    return squash(text)


def _owner(node: Tag | NavigableString) -> Tag | None:
    return node.find_parent(["p", "cite", "time"])


def _speaker(cite: Tag) -> str | None:
    name = squash(cite.get_text(" ")).rstrip(":").strip()
    if name and not name.isascii():
        name = repair_mojibake(name)
    return name or None


def _time(el: Tag) -> float | None:
    label = squash(el.get_text(" "))
    attr = el.get("datetime")
    for value in (label, attr if isinstance(attr, str) else ""):
        if value:
            try:
                return parse_clock(value)
            except TranscriptError:
                continue
    if not label and not attr:
        return None
    raise TranscriptError(f"malformed <time> {(label or attr)!s:.40}; expected m:ss or h:mm:ss", line=el.sourceline)


class _Reader:
    """Walks cite/time/p in document order and builds cues."""

    def __init__(self) -> None:
        self.cues: list[Cue] = []
        self.speaker: str | None = None
        self.time: float | None = None

    def cite(self, el: Tag) -> None:
        self.speaker = _speaker(el)

    def set_time(self, el: Tag) -> None:
        self.time = _time(el)

    def emit(self, parts: list[str], line: int | None) -> None:
        text = _clean("".join(parts))
        parts.clear()
        if not text:
            return
        previous = self.cues[-1].speaker if self.cues else None
        turn = self.speaker is not None and (not self.cues or previous != self.speaker)
        self.cues.append(Cue(text=text, start_s=self.time, speaker=self.speaker, turn=turn, line=line))
        self.time = None

    def paragraph(self, p: Tag) -> None:
        parts: list[str] = []
        for node in p.descendants:
            if isinstance(node, Tag):
                if node.name in ("cite", "time") and _owner(node) is p:
                    self.emit(parts, p.sourceline)
                    if node.name == "cite":
                        self.cite(node)
                    else:
                        self.set_time(node)
                elif node.name == "br":
                    parts.append(" ")
            elif isinstance(node, NavigableString) and not isinstance(node, _SKIPPED):
                if _owner(node) is p:
                    parts.append(str(node))
        self.emit(parts, p.sourceline)


def parse(text: str) -> list[Transcript]:
    """Parse an HTML transcript into one transcript."""
    try:
        soup = BeautifulSoup(text, "html.parser")
        for el in soup.find_all(_DROP):
            el.decompose()
        title_el = soup.find("title")
        title = squash(title_el.get_text(" ")) if title_el else None
        if title_el:
            title_el.decompose()
        elements = soup.find_all(["cite", "time", "p"])
    except TranscriptError:
        raise
    except RecursionError:
        raise TranscriptError("HTML nested too deeply") from None
    except Exception as exc:  # the HTML parser on garbage: report it, never crash
        raise TranscriptError(f"unreadable HTML ({type(exc).__name__}: {exc})") from None

    structured = any(el.name in ("cite", "time") for el in elements)
    reader = _Reader()
    for el in elements:
        if el.find_parent("p") is not None:
            continue  # handled with the paragraph that holds it
        if el.name == "p":
            reader.paragraph(el)
        elif structured and el.name == "cite":
            reader.cite(el)
        elif structured and el.name == "time":
            reader.set_time(el)
    cues = reader.cues
    if not cues:
        # No paragraphs at all: the page's text, one cue per blank-line block.
        body = soup.body or soup
        for block in _BLANK_LINES.split(body.get_text("\n")):
            cleaned = _clean(block)
            if cleaned:
                cues.append(Cue(text=cleaned))
    speakers: list[str] = []
    for cue in cues:
        if cue.speaker and cue.speaker not in speakers:
            speakers.append(cue.speaker)
    if title and not title.isascii():
        title = repair_mojibake(title)
    return [Transcript(format=NAME, cues=cues, title=title or None, speakers=speakers)]
