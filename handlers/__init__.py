"""Slack surfaces, one module each, on slack-bolt. They know nothing of storage.

``register(app, quotes, once, digests, alerts, feedback)`` wires every surface:
- ``quotes``: what the handlers ask of the library (``Quotes``);
- ``once``: claim rows in the shared database (``actions.Once``), so a button
  that writes acts once per card however often it is clicked, on any replica.
  Every button goes through ``actions.button`` (see its docstring): new ones
  get the ack, the guarded decoding and the once-only claim for free;
- ``digests``: subscriptions and previews for ``/quote digest`` (``Digests``);
- ``alerts``: keyword alerts for ``/quote alert`` and App Home (``Alerts``);
- ``feedback``: where the cards' "Wrong speaker" / "Wrong time" go (``Feedback``);
- ``installations``: told when a workspace uninstalls the app or revokes its
  tokens (``lifecycle.Installations``).
A surface whose store is None says it is not set up.

Retried events and replayed requests are dropped before any handler runs
(``bot.events.once_per_request``), so handlers need not check for them.
"""

from __future__ import annotations

from typing import Protocol

from slack_bolt import App

from index.model import Segment
from index.search import Answer, EpisodeInfo, Hit, Overview

from . import buttons, command, home, lifecycle, mentions, search_modal, shortcuts, unfurl
from . import feedback as feedback_menu
from .actions import Once
from .alerts import Alerts
from .digest import Digests
from .feedback import Feedback
from .lifecycle import Installations


class Quotes(Protocol):
    """What the handlers ask of the library (``index.search.Library``)."""

    def answer(self, text: str, limit: int = 10) -> Answer:
        """The one entry point for what a person typed (Slack markup and all): hits and notes."""
        ...

    def search(self, query: str, limit: int = 10) -> list[Hit]: ...

    def context(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]: ...

    def moment(self, url: str) -> Hit | None: ...

    def speakers(self) -> list[str]: ...

    def episodes(self) -> list[EpisodeInfo]: ...

    def overview(self) -> Overview: ...


def register(app: App, quotes: Quotes, once: Once, digests: Digests | None = None,
             alerts: Alerts | None = None, feedback: Feedback | None = None,
             installations: Installations | None = None) -> None:
    refresh = home.register(app, quotes, once, digests, alerts)
    command.register(app, quotes, digests, alerts, refresh)
    buttons.register(app, quotes, once)
    mentions.register(app, quotes)
    unfurl.register(app, quotes)
    shortcuts.register(app, quotes)
    search_modal.register(app, quotes, once)
    feedback_menu.register(app, quotes, once, feedback)
    if installations is not None:
        lifecycle.register(app, installations)
