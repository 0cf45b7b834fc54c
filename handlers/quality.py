"""What a quote posted unasked (a quote of the day, "new this week", an alert) must pass.

Someone who asked with ``/quote`` sees what they asked for; a post nobody asked for must be fit
for any channel: no profanity (better-profanity's maintained word list, with its leetspeak and
spacing variants), and never two neighbouring segments of one episode in one post, which read as
one quote cut in two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from better_profanity import profanity

from index.model import Segment
from index.search import Hit

_load = threading.Lock()
_loaded = False


def profane(text: str) -> bool:
    """True when ``text`` holds a word on better-profanity's list ("holy shit": True)."""
    global _loaded
    if not _loaded:
        with _load:
            if not _loaded:
                profanity.load_censor_words()  # the library's bundled list, read once
                _loaded = True
    return bool(profanity.contains_profanity(text))


class Neighbours(Protocol):
    def context(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]: ...


class Picks:
    """The quotes chosen for one post: each clean, none a neighbour (or a repeat) of another.

    ``key`` gives a quote's identity for the repeat test (a digest's ``quote_key``); ``seen`` are
    keys that may not be used (what the channel got lately).
    """

    def __init__(self, library: Neighbours, key: Callable[[Hit], str], seen: Iterable[str] = ()):
        self.library = library
        self.key = key
        self.used: set[str] = set(seen)
        self.near: set[int] = set()  # the chosen segments and their neighbours

    def allows(self, hit: Hit) -> bool:
        return self.key(hit) not in self.used and hit.segment_id not in self.near and not profane(
            hit.text + " " + (hit.speaker or ""))

    def take(self, hit: Hit) -> Hit:
        self.used.add(self.key(hit))
        self.near.add(hit.segment_id)
        self.near.update(int(s.id) for s in self.library.context(hit.segment_id, 1, 1) if s.id is not None)
        return hit

    def first(self, hits: Iterable[Hit]) -> Hit | None:
        """The first hit allowed, taken; None when none is."""
        return next((self.take(h) for h in hits if self.allows(h)), None)
