"""A pasted YouTube link with ``t=`` for an indexed episode unfurls into the quote said then."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient

from . import cards

if TYPE_CHECKING:
    from . import Quotes

log = logging.getLogger("quotebot.handlers")


def register(app: App, quotes: Quotes) -> None:
    @app.event("link_shared")
    def link_shared(event: dict, client: WebClient) -> None:
        unfurls = {}
        for link in event.get("links", [])[:5]:
            url = link.get("url", "")
            hit = quotes.moment(url)
            if hit is not None:
                unfurls[url] = {"blocks": cards.quote_blocks(hit)}
        if not unfurls:
            return
        try:
            if event.get("unfurl_id") and event.get("source"):
                client.chat_unfurl(unfurl_id=event["unfurl_id"], source=event["source"], unfurls=unfurls)
            else:
                client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=unfurls)
        except Exception:
            log.exception("chat.unfurl failed")
