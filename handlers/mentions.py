"""@quotebot in a channel or thread: the best card, replied in the thread.

A bare mention inside a thread searches with the thread's root message; ``@quotebot help``, or a bare
mention outside a thread, answers with the help. The text goes to ``quotes.answer`` as Slack sent it.
Slack retries an event it did not see answered in time; the retry is dropped
before it gets here (``bot.events.once_per_request``), so nobody gets two replies.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient

from . import cards
from .answers import PAGE_LIMIT, apologise

if TYPE_CHECKING:
    from . import Quotes

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def query_of(text: str) -> str:
    """The message without user mentions (the bot's own included)."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def register(app: App, quotes: Quotes) -> None:
    @app.event("app_mention")
    def mention(event: dict, client: WebClient) -> None:
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]

        def say(**message: Any) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                    **message)

        try:
            query = query_of(event.get("text", ""))
            if not query and event.get("thread_ts"):
                replies = client.conversations_replies(channel=channel, ts=event["thread_ts"], limit=1)
                root = (replies.get("messages") or [{}])[0]
                query = query_of(root.get("text", ""))[:400]
            if not query:
                say(**cards.message(cards.HELP))
                return
            say(**cards.answer_card(quotes.answer(query, limit=PAGE_LIMIT), thread=True))
        except Exception:  # noqa: BLE001 - logged, and the thread hears about it
            apologise(lambda **kw: say(**kw), "app_mention")
