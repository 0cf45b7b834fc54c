"""The message shortcut "Find quotes about this": searches with the message's text through the
/quote entry point (``quotes.answer``: Slack markup, questions, typos, honest no-match) and answers,
only to the person who used it, in the message's thread, with the usual buttons and "Post to thread"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from . import cards
from .answers import PAGE_LIMIT, apologise
from .mentions import query_of

if TYPE_CHECKING:
    from . import Quotes

FIND = "find_quotes"  # the message shortcut's callback_id (manifest.json)
QUERY_LIMIT = 400  # characters of the message searched with


def register(app: App, quotes: Quotes) -> None:
    @app.shortcut(FIND)
    def find(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        message = body.get("message") or {}
        channel, user = body["channel"]["id"], body["user"]["id"]
        thread = message.get("thread_ts") or message.get("ts")

        def say(**card: Any) -> None:
            try:
                client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread, **card)
            except SlackApiError:  # the bot is not in the channel: the shortcut's response_url still works
                respond(response_type="ephemeral", replace_original=False, thread_ts=thread, **card)

        try:
            query = query_of(message.get("text", ""))[:QUERY_LIMIT]
            if not query:
                say(**cards.message("That message has no words to search with."))
                return
            say(**cards.answer_card(quotes.answer(query, limit=PAGE_LIMIT), post_thread=thread))
        except Exception:  # noqa: BLE001 - logged, and the user hears about it
            apologise(lambda **kw: say(**kw), "message shortcut")
