"""The /quote slash command: ack at once, answer through respond() with an ephemeral card.

``/quote digest …`` manages the channel's daily digest (``digest.handle``).
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from . import cards, digest
from .answers import answer, apologise

log = logging.getLogger("quotebot.handlers")


def register(app: App, quotes, digests: digest.Digests | None = None) -> None:
    @app.command("/quote")
    def quote(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        text = (command.get("text") or "").strip()
        try:
            if not text or text.lower() in ("help", "?", "-h", "--help"):
                respond(response_type="ephemeral", **cards.message(cards.HELP))
                return
            first, _, rest = text.partition(" ")
            if first.lower() == "digest":
                if digests is None:
                    respond(response_type="ephemeral", **cards.message("Digests are not set up in this deployment."))
                    return
                digest.handle(digests, rest, command, respond, lambda user: user_zone(client, user))
                return
            answer(quotes, respond, text)
        except Exception:  # noqa: BLE001 - logged, and the user hears about it
            apologise(lambda **kw: respond(response_type="ephemeral", **kw), "/quote")


def user_zone(client: WebClient, user_id: str) -> str | None:
    """The user's time zone from users.info, or None when Slack does not say."""
    try:
        return client.users_info(user=user_id)["user"].get("tz")
    except (SlackApiError, KeyError, TypeError):
        log.warning("users.info gave no time zone for the user; using UTC")
        return None
