"""The query language, parsed once into a typed Query.

    export controls                 words (BM25)
    "export controls"               an exact phrase, checked against the segment text
    speaker:dylan  speaker:"Dylan Patel"
    episode:459    podcast:"latent space"   case-insensitive substring filters
    -china  -"cold war"             exclude a word or a phrase
    after:2025-01-01  before:2025-06-30     by the episode's published date
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

FILTERS = ("speaker", "episode", "podcast", "after", "before")
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


# One piece of a query: [-]key:"value" | [-]key:value | [-]"phrase" | [-]word
_PIECE = re.compile(
    r'\s*(?P<neg>-)?(?:(?P<key>[A-Za-z]+):(?:"(?P<qvalue>[^"]*)"|(?P<value>[^\s"]+))'
    r'|"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))'
)


def parse_query(text: str) -> Query:
    """Parse ``text``; QueryError names what is wrong and shows the right form."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if text.count('"') % 2:
        raise QueryError(f'unclosed quote at character {text.rfind(chr(34)) + 1}: close it, as in "export controls"')
    parts: dict[str, list] = {k: [] for k in ("words", "phrases", "excluded_words", "excluded_phrases")}
    filters: dict[str, object] = {}
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
                if key in ("http", "https"):  # a pasted link: search its words
                    parts["words"].append(m.group(0).strip())
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
                raise QueryError(f"'{key}:' needs a value, as in {key}:{_EXAMPLES[key]}")
            filters[key] = _date(key, value) if key in ("after", "before") else value
        elif m.group("phrase") is not None:
            phrase = " ".join(m.group("phrase").split())
            if not phrase:
                raise QueryError('an empty phrase ""; put words between the quotes')
            parts["excluded_phrases" if negative else "phrases"].append(phrase)
        else:
            word = m.group("word")
            if negative and word == "-":
                continue
            parts["excluded_words" if negative else "words"].append(word)
    query = Query(**{k: tuple(v) for k, v in parts.items()}, **filters, text=text)
    if not query.words and not query.phrases:
        raise QueryError('add some words to search for, as in: export controls speaker:dylan')
    if query.after and query.before and query.after > query.before:
        raise QueryError("after: is later than before:; swap them")
    return query


_EXAMPLES = {
    "speaker": '"Dylan Patel"', "episode": "459", "podcast": '"latent space"',
    "after": "2025-01-01", "before": "2025-12-31",
}


def _date(key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"'{key}:{value}' is not a date; write it as {key}:YYYY-MM-DD, as in {key}:2025-01-01") from None
