"""How text becomes search terms: lowercase, accents folded, model names kept whole."""

from __future__ import annotations

import re
import unicodedata

# Words, with inner apostrophes, hyphens and dots kept: don't, o3-mini, gpt-4, u.s
_TOKEN = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")


def fold(text: str) -> str:
    """Lowercase with accents removed (café → cafe)."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def tokenize(text: str) -> list[str]:
    return [t.replace("’", "'") for t in _TOKEN.findall(fold(text))]
