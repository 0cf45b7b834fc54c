"""Slack surfaces, one module each, on slack-bolt. They know nothing of storage.

``register(app, quotes, first_time, digests, alerts, feedback)`` wires every surface:
- ``quotes``: what the handlers ask of the library (``Quotes``);
- ``first_time(event_id) -> bool``: False for an event already handled, so a
  retried delivery never answers twice;
- ``digests``: subscriptions and previews for ``/quote digest`` (``Digests``);
- ``alerts``: keyword alerts for ``/quote alert`` and App Home (``Alerts``);
- ``feedback``: where the cards' "Wrong speaker" / "Wrong time" go (``Feedback``).
A surface whose store is None says it is not set up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from slack_bolt import App

from index.model import Segment
from index.search import EpisodeInfo, Hit, Overview

from . import buttons, command, feedback as feedback_menu, home, mentions, search_modal, shortcuts, unfurl
from .alerts import Alerts
from .digest import Digests
from .feedback import Feedback


class Quotes(Protocol):
    def search(self, query: str, limit: int = 10) -> list[Hit]: ...

    def context(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]: ...

    def moment(self, url: str) -> Hit | None: ...

    def speakers(self) -> list[str]: ...

    def episodes(self) -> list[EpisodeInfo]: ...

    def overview(self) -> Overview: ...


def register(app: App, quotes: Quotes, first_time: Callable[[str], bool], digests: Digests | None = None,
             alerts: Alerts | None = None, feedback: Feedback | None = None) -> None:
    refresh = home.register(app, quotes, digests, alerts)
    command.register(app, quotes, digests, alerts, refresh)
    buttons.register(app, quotes)
    mentions.register(app, quotes, first_time)
    unfurl.register(app, quotes, first_time)
    shortcuts.register(app, quotes)
    search_modal.register(app, quotes)
    feedback_menu.register(app, quotes, feedback)
