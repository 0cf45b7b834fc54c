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
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from ..errors import TranscriptError
from ..labels import NOBODY, voice
from ..model import Cue, Transcript, speakers_in
from ..text import clean_text, parse_clock, repair_mojibake, squash

NAME = "podcast-html"

_HTML_START = re.compile(r"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL)
_BLOCK_TAGS = re.compile(r"</(?:p|cite)\s*>", re.IGNORECASE)
_SKIPPED = (Comment, Declaration, Doctype, ProcessingInstruction, CData)
_DROP = ["script", "style", "noscript", "template", "svg"]
_BLANK_LINES = re.compile(r"\n\s*\n")
# html.parser (3.11) is quadratic on start tags that never close ("<v <v <v",
# '<a b="' ...). A '<' that cannot start a complete tag is text: escape it first.
_UNCLOSED = re.compile(r"<(?=[^<>\"']*(?:<|$))")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_TAG_LIMIT = 4000  # no tag in a transcript page is longer than this


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


def _defuse(text: str) -> str:
    """Escape each '<' that has no '>' to close it (within _TAG_LIMIT characters)."""
    text = _UNCLOSED.sub("&lt;", text)
    out: list[str] = []
    pos = 0
    for m in _TAG_START.finditer(text):
        i = m.start()
        if text.find(">", i, i + _TAG_LIMIT) < 0:
            out.append(text[pos:i])
            out.append("&lt;")
            pos = i + 1
    out.append(text[pos:])
    return "".join(out)


def _clean(raw: str) -> str:
    return clean_text(raw)


def _short_text(el: Tag, limit: int = 64) -> str:
    """The text of a cite or time, up to ``limit`` nodes, leaving out paragraphs,
    cites and times inside it (an unclosed ``<time>`` swallows what follows)."""
    parts: list[str] = []
    stack = list(reversed(el.contents))
    while stack and limit > 0:
        node = stack.pop()
        limit -= 1
        if isinstance(node, Tag):
            if node.name not in ("p", "cite", "time"):
                stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, _SKIPPED):
            parts.append(str(node))
    return squash(" ".join(parts))


def _speaker(cite: Tag) -> str | None:
    name = _short_text(cite).rstrip(":").strip()
    if name and not name.isascii():
        name = repair_mojibake(name)
    return name or None


def _time(el: Tag) -> float | None:
    label = _short_text(el)
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
        self.voice = NOBODY
        self.time: float | None = None

    def cite(self, el: Tag) -> None:
        self.voice = voice(_speaker(el))  # index.labels: placeholders, diarization labels

    def set_time(self, el: Tag) -> None:
        self.time = _time(el)

    def emit(self, parts: list[str], line: int | None) -> None:
        text = _clean("".join(parts))
        parts.clear()
        if not text:
            return
        v = self.voice
        turn = v != NOBODY and (not self.cues or self.cues[-1].voice != (v.speaker, v.label))
        self.cues.append(Cue(text=text, start_s=self.time, speaker=v.speaker, label=v.label, turn=turn, line=line))
        self.time = None

    def paragraph(self, p: Tag) -> list[Tag]:
        """A paragraph's own text; a cite or time inside it splits it there.

        Returns the paragraphs nested in it, to be read next."""
        parts: list[str] = []
        nested: list[Tag] = []
        stack = list(reversed(p.contents))
        while stack:
            node = stack.pop()
            if isinstance(node, Tag):
                if node.name == "cite":
                    self.emit(parts, p.sourceline)
                    self.cite(node)
                elif node.name == "time":
                    self.emit(parts, p.sourceline)
                    self.set_time(node)
                elif node.name == "br":
                    parts.append(" ")
                elif node.name == "p":
                    nested.append(node)
                else:
                    stack.extend(reversed(node.contents))
            elif isinstance(node, NavigableString) and not isinstance(node, _SKIPPED):
                parts.append(str(node))
        self.emit(parts, p.sourceline)
        return nested


def _read(soup: BeautifulSoup) -> tuple[str | None, list[Cue]]:
    for el in soup.find_all(_DROP):
        el.decompose()
    title_el = soup.find("title")
    title = squash(title_el.get_text(" ")) if title_el else None
    if title_el:
        title_el.decompose()
    reader = _Reader()
    # One pass in document order, without recursion (pages can nest deeply).
    stack = list(reversed(soup.contents))
    while stack:
        node = stack.pop()
        if not isinstance(node, Tag):
            continue
        if node.name == "p":
            stack.extend(reversed(reader.paragraph(node)))
        elif node.name in ("cite", "time"):
            if node.name == "cite":
                reader.cite(node)
            else:
                reader.set_time(node)
            # Paragraphs inside an unclosed cite or time are still read.
            stack.extend(reversed([c for c in node.contents if isinstance(c, Tag)]))
        else:
            stack.extend(reversed(node.contents))
    cues = reader.cues
    if not cues:
        # No paragraphs at all: the page's text, one cue per blank-line block.
        body = soup.body or soup
        for block in _BLANK_LINES.split(body.get_text("\n")):
            cleaned = _clean(block)
            if cleaned:
                cues.append(Cue(text=cleaned))
    return title, cues


def parse(text: str) -> list[Transcript]:
    """Parse an HTML transcript into one transcript."""
    try:
        with warnings.catch_warnings():
            # A short text that looks like a URL or file name is still a transcript here.
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(_defuse(text), "html.parser")
        title, cues = _read(soup)
    except TranscriptError:
        raise
    except RecursionError:
        raise TranscriptError("HTML nested too deeply") from None
    except Exception as exc:  # the HTML parser on garbage: report it, never crash
        raise TranscriptError(f"unreadable HTML ({type(exc).__name__}: {exc})") from None
    speakers = speakers_in(cues)
    if title and not title.isascii():
        title = repair_mojibake(title)
    return [Transcript(format=NAME, cues=cues, title=title or None, speakers=speakers)]
