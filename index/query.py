"""The query language, parsed once into a typed Query.

    export controls                 words (BM25)
    "export controls"               an exact phrase, checked against the segment text
    speaker:dylan  speaker:"Dylan Patel"
    episode:459    podcast:"latent space"   case-insensitive substring filters
    -china  -"cold war"             exclude a word or a phrase
    after:2025-01-01  before:2025-06-30     by the episode's published date
    tariffs OR sanctions            either side may match (each side is judged on its own)
    at:1:23:45 episode:459          the quote said at that moment of that episode

A filter alone (``speaker:dylan``) is a query: it lists that speaker's quotes. This module is the
grammar only; ``index/understand.py`` reads what a person meant (questions, names, typos).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

FILTERS = ("speaker", "episode", "podcast", "after", "before", "at")
MAX_QUERY_CHARS = 500


class QueryError(ValueError):
    """A malformed query; the message says how to fix it."""


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_words: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    speaker: str | None = None
    episode: str | None = None
    podcast: str | None = None
    after: dt.date | None = None
    before: dt.date | None = None
    at_s: float | None = None  # at:1:23:45, in seconds from the episode's start
    alternatives: tuple[tuple[str, ...], ...] = ()  # A OR B: each side's words and phrases
    text: str = field(default="", compare=False)

    @property
    def search_text(self) -> str:
        """What BM25 scores: the words and the phrases' words."""
        return " ".join(self.words + self.phrases)

    @property
    def has_filters(self) -> bool:
        return any(
            (self.speaker, self.episode, self.podcast, self.after, self.before,
             self.excluded_words, self.excluded_phrases)
        )

    @property
    def filters(self) -> list[str]:
        """The filters as typed back (``speaker:"Dylan Patel"``), for "drop a filter" advice."""
        out = []
        for key in ("speaker", "episode", "podcast", "after", "before"):
            value = getattr(self, key)
            if value:
                value = str(value)
                out.append(f'{key}:"{value}"' if " " in value else f"{key}:{value}")
        return out


# One piece of a query: [-]key:"value" | [-]key:value | [-]"phrase" | [-]word
_PIECE = re.compile(
    r'\s*(?P<neg>-)?(?:(?P<key>[A-Za-z]+):(?:"(?P<qvalue>[^"]*)"|(?P<value>[^\s"]*))'
    r'|"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))'
)
_CLOCK = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(\d{2})$|^(\d+)s?$")


def parse_query(text: str) -> Query:
    """Parse ``text`` (plain text: decode chat markup first, see ``index.markup``).

    Raises QueryError, whose message names what is wrong and shows the right form.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if text.count('"') % 2:
        raise QueryError(f'unclosed quote at character {text.rfind(chr(34)) + 1}: close it, as in "export controls"')
    parts: dict[str, list] = {k: [] for k in ("words", "phrases", "excluded_words", "excluded_phrases")}
    filters: dict[str, object] = {}
    sides: list[list[str]] = [[]]  # A OR B: the positive words and phrases of each side
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _PIECE.match(text, pos)
        if m is None or m.end() == pos:  # pragma: no cover - the pattern always advances
            raise QueryError(f"cannot read the query at character {pos + 1}")
        pos = m.end()
        negative = bool(m.group("neg"))
        if m.group("key") is not None:
            key = m.group("key").lower()
            value = m.group("qvalue") if m.group("qvalue") is not None else m.group("value")
            if key not in FILTERS:
                if key in ("http", "https"):  # a pasted link: a word of its own (index.understand reads it)
                    parts["words"].append(m.group(0).strip())
                    sides[-1].append(m.group(0).strip())
                    continue
                raise QueryError(
                    f"unknown filter '{key}:'; use one of: " + ", ".join(f"{f}:" for f in FILTERS)
                )
            if negative:
                raise QueryError(f"'-{key}:' is not supported; filters cannot be negated")
            if key in filters:
                raise QueryError(f"'{key}:' is given twice; give it once")
            value = value.strip()
            if not value:
                spaced = pos < len(text) and text[pos].isspace()
                raise QueryError(f"'{key}:' needs a value right after the colon"
                                 f"{' (no space)' if spaced else ''}, as in {key}:{_EXAMPLES[key]}{_MORE[key]}")
            filters[key] = _date(key, value) if key in ("after", "before") else _clock(value) if key == "at" else value
        elif m.group("phrase") is not None:
            phrase = " ".join(m.group("phrase").split())
            if not phrase:
                raise QueryError('an empty phrase ""; put words between the quotes')
            parts["excluded_phrases" if negative else "phrases"].append(phrase)
            if not negative:
                sides[-1].append(f'"{phrase}"')
        else:
            word = m.group("word")
            if negative and word == "-":
                continue
            if word == "OR" and not negative:
                sides.append([])
                continue
            parts["excluded_words" if negative else "words"].append(word)
            if not negative:
                sides[-1].append(word)
    at_s = filters.pop("at", None)
    alternatives = tuple(tuple(side) for side in sides if side) if len(sides) > 1 else ()
    query = Query(**{k: tuple(v) for k, v in parts.items()}, **filters, at_s=at_s,  # type: ignore[arg-type]
                  alternatives=alternatives if len(alternatives) > 1 else (), text=text)
    if at_s is not None and not query.episode:
        raise QueryError("'at:' needs an episode: add episode:NAME, as in at:1:23:45 episode:459")
    if not query.words and not query.phrases and not (query.speaker or query.episode or query.podcast):
        raise QueryError('add some words to search for, as in: export controls speaker:dylan')
    if query.after and query.before and query.after > query.before:
        raise QueryError("after: is later than before:; swap them")
    return query


_EXAMPLES = {
    "speaker": '"Dylan Patel"', "episode": "459", "podcast": '"latent space"',
    "after": "2025-01-01", "before": "2025-12-31", "at": "1:23:45",
}
_MORE = {
    "speaker": " or speaker:dylan (part of a name is enough)", "episode": " (a number or words of its title)",
    "podcast": "", "after": "", "before": "", "at": " episode:459 (hh:mm:ss into the episode)",
}


def _date(key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"'{key}:{value}' is not a date; write it as {key}:YYYY-MM-DD, as in {key}:2025-01-01"
        ) from None


def _clock(value: str) -> float:
    m = _CLOCK.match(value)
    if m is None or (m.group(2) and int(m.group(3)) > 59) or (m.group(1) and int(m.group(2)) > 59):
        raise QueryError(f"'at:{value}' is not a time; write it as at:h:mm:ss or at:mm:ss, as in at:1:23:45")
    if m.group(4) is not None:
        return float(m.group(4))
    return float(int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3)))
