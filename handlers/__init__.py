"""Slack surfaces, one module each, on slack-bolt. They know nothing of storage.

``register(app, quotes, first_time, digests)`` wires every surface:
- ``quotes``: what the handlers ask of the library (``Quotes``);
- ``first_time(event_id) -> bool``: False for an event already handled, so a
  retried delivery never answers twice;
- ``digests``: subscriptions and previews for ``/quote digest`` (``Digests``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from slack_bolt import App

from index.model import Segment
from index.search import Answer, Hit

from . import buttons, command, mentions, unfurl
from .digest import Digests


class Quotes(Protocol):
    """What the handlers ask of the library (``index.search.Library``)."""

    def answer(self, text: str, limit: int = 10) -> Answer:
        """The one entry point for what a person typed (Slack markup and all): hits and notes."""
        ...

    def search(self, query: str, limit: int = 10) -> list[Hit]: ...

    def context(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]: ...

    def moment(self, url: str) -> Hit | None: ...


def register(app: App, quotes: Quotes, first_time: Callable[[str], bool], digests: Digests | None = None) -> None:
    command.register(app, quotes, digests)
    buttons.register(app, quotes)
    mentions.register(app, quotes, first_time)
    unfurl.register(app, quotes, first_time)
