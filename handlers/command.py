"""The /quote slash command: ack at once, answer through respond() with an ephemeral card.

``/quote digest …`` manages the channel's daily digest (``digest.handle``), ``/quote alert …`` the
keyword alerts (``alerts.handle``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from . import alerts, cards, digest
from .answers import answer, apologise

if TYPE_CHECKING:
    from . import Quotes

log = logging.getLogger("quotebot.handlers")


def register(app: App, quotes: Quotes, digests: digest.Digests | None = None, alerts_: alerts.Alerts | None = None,
             refresh: Callable[[WebClient, str, str], None] = lambda client, team, user: None) -> None:
    """``refresh(client, team, user)`` republishes App Home after a change made with the command."""

    @app.command("/quote")
    def quote(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        text = (command.get("text") or "").strip()

        def changed(team: str, user: str) -> None:
            refresh(client, team, user)

        try:
            if not text or text.lower() in ("help", "?", "-h", "--help"):
                respond(response_type="ephemeral", **cards.message(cards.HELP))
                return
            first, _, rest = text.partition(" ")
            if first.lower() == "digest":
                if digests is None:
                    respond(response_type="ephemeral", **cards.message("Digests are not set up in this deployment."))
                    return
                digest.handle(digests, rest, command, respond, lambda user: user_zone(client, user), changed)
                return
            if first.lower() == "alert":
                if alerts_ is None:
                    respond(response_type="ephemeral", **cards.message("Alerts are not set up in this deployment."))
                    return
                alerts.handle(alerts_, quotes.answer, rest, command, respond, changed)
                return
            answer(quotes, respond, text)
        except Exception:  # noqa: BLE001 - logged, and the user hears about it
            apologise(lambda **kw: respond(response_type="ephemeral", **kw), "/quote")


def user_zone(client: WebClient, user_id: str) -> str | None:
    """The user's time zone from users.info, or None when Slack does not say."""
    try:
        zone = client.users_info(user=user_id)["user"].get("tz")
        return zone if isinstance(zone, str) else None
    except (SlackApiError, KeyError, TypeError):
        log.warning("users.info gave no time zone for the user; using UTC")
        return None
