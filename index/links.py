"""Deep links that open a recording at a given second."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

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


def video_id(url: str | None) -> str | None:
    """The YouTube video a link points to, or None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.hostname == "youtu.be":
        return parts.path.strip("/") or None
    if parts.hostname in _YOUTUBE_HOSTS:
        return next(iter(parse_qs(parts.query).get("v") or []), None)
    return None


_T_VALUE = re.compile(r"^(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,9})(?:\.\d+)?s?)?$")


def link_time(url: str | None) -> float | None:
    """The second a link opens at (``t=123``, ``t=123s``, ``t=1h2m3s``, ``#t=123``), or None."""
    if not url:
        return None
    parts = urlsplit(url)
    value = next(iter(parse_qs(parts.query).get("t") or parse_qs(parts.fragment).get("t") or []), None)
    if not value:
        return None
    m = _T_VALUE.match(value.strip())
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return float(h * 3600 + mi * 60 + s)
