"""How text becomes search terms. Documents and queries go through the same code.

- Unicode-aware, lowercase, accents folded ("café" → "cafe").
- Model names and contractions stay whole: ``o3-mini``, ``gpt-4``, ``h100``,
  ``don't``. A hyphenated word also yields its parts, so "o3 mini" and
  "o3-mini" find each other; in a document, also its joined form, so that the
  query "pretraining" finds "pre-training". A possessive ``'s`` is dropped.
- Light stemming (Snowball English, through PyStemmer) of plain words, so that
  "exporting" finds "export" and "H100s" finds "H100".
- Chinese, Japanese and Korean runs become character bigrams, so that a
  Chinese query finds a quote through its translation.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import groupby

import Stemmer

from .text import is_cjk

# Words, with inner apostrophes, hyphens and dots kept: don't, o3-mini, gpt-4, u.s
_TOKEN = re.compile(r"[^\W_]+(?:['\-.][^\W_]+)*")
_PLAIN = re.compile(r"[a-z0-9]+")
_NUMBERED_PLURAL = re.compile(r"[a-z0-9]*[0-9]s")
_STEMMER = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Lowercase with accents removed (café → cafe) and curly apostrophes made straight."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@lru_cache(maxsize=1 << 18)
def _terms(token: str, joined: bool = False) -> tuple[str, ...]:
    if any(is_cjk(ch) for ch in token):
        return tuple(_cjk_terms(token))
    if token.endswith("'s"):
        token = token[:-2]
    if _PLAIN.fullmatch(token):
        if _NUMBERED_PLURAL.fullmatch(token):  # h100s, a100s, 1990s
            return (token[:-1],)
        return (_STEMMER.stemWord(token),)
    if "-" in token:
        parts = [p for p in token.split("-") if p]
        whole = "".join(parts)  # a document's pre-training is also found as pretraining
        extra = _terms(whole) if joined and _PLAIN.fullmatch(whole) else ()
        return tuple(dict.fromkeys((token, *(t for p in parts for t in _terms(p)), *extra)))
    return (token,)


def _cjk_terms(token: str) -> list[str]:
    """Bigrams of each CJK run; the words between runs as usual."""
    out: list[str] = []
    for cjk, chars in groupby(token, key=is_cjk):
        run = "".join(chars)
        if cjk:
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
        else:
            out.extend(t for word in _TOKEN.findall(run) for t in _terms(word))
    return out


def tokenize(text: str, *, document: bool = False) -> list[str]:
    """The search terms of ``text``, in order. A ``document`` also gives its hyphenated words
    joined up (not a query: a joined form no document holds would make the query look hopeless)."""
    return [term for token in _TOKEN.findall(fold(text)) for term in _terms(token, document)]


def term_spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """(start, end) of each word in ``text`` that yields one of ``terms``: what to bold."""
    spans = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        folded = fold(word)
        if folded and len(folded) == len(word) and any(is_cjk(ch) for ch in word):
            # CJK: bold each bigram that matched
            for i in range(len(word) - 1):
                if word[i:i + 2] in terms:
                    spans.append((m.start() + i, m.start() + i + 2))
            continue
        if terms.intersection(_terms(folded, True)):
            spans.append((m.start(), m.end()))
    return _merge_spans(spans)


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
