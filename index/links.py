"""Deep links that open a recording at a given second."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be"}


def deep_link(url: str | None, start_s: float | None) -> str | None:
    """``url`` opened at ``start_s`` (rounded down to whole seconds).

    YouTube links get ``t=<s>s`` (replacing any ``t`` already there); other
    links get a media fragment ``#t=<s>``. No URL gives None; no time gives the
    URL unchanged.
    """
    if not url:
        return None
    if start_s is None:
        return url
    second = max(0, math.floor(start_s))
    parts = urlsplit(url)
    if parts.hostname in _YOUTUBE_HOSTS:
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "t"]
        query.append(("t", f"{second}s"))
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(fragment=f"t={second}"))
