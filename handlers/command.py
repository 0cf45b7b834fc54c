"""The /quote slash command: ack at once, answer through respond() with an ephemeral card."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from . import cards
from .answers import answer, apologise


def register(app: App, quotes) -> None:
    @app.command("/quote")
    def quote(ack: Ack, command: dict, respond: Respond) -> None:
        ack()
        text = (command.get("text") or "").strip()
        try:
            if not text or text.lower() in ("help", "?", "-h", "--help"):
                respond(response_type="ephemeral", **cards.message(cards.HELP))
                return
            answer(quotes, respond, text)
        except Exception:  # noqa: BLE001 - logged, and the user hears about it
            apologise(lambda **kw: respond(response_type="ephemeral", **kw), "/quote")
