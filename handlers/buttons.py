"""The card's buttons: Post to channel, Post to thread, Next, Previous, Show context, More; Open is a link.

Each goes through ``actions.button`` (ack, value decoded inside the guard, "expired" for a bad
value); **Post to channel** and **Post to thread** write, so they act once per card however often
they are clicked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack, App

from . import cards
from .actions import Click, Expired, Once, button
from .answers import PAGE_LIMIT, answer

if TYPE_CHECKING:
    from index.search import Hit

    from . import Quotes


def register(app: App, quotes: Quotes, once: Once) -> None:
    def nth(state: cards.State) -> tuple[Hit, int]:
        hits = quotes.search(state.query, limit=PAGE_LIMIT)
        if not hits:
            raise Expired("That quote is no longer in the library. Run /quote again.")
        index = max(0, min(state.index, len(hits) - 1))
        return hits[index], len(hits)

    @button(app, once, cards.POST, "post to channel", writes=True)
    def post(state: cards.State, click: Click) -> None:
        hit, _ = nth(state)
        click.respond(delete_original=True)
        click.respond(response_type="in_channel", replace_original=False, unfurl_links=False, unfurl_media=False,
                      **cards.shared_card(hit, click.user_id))

    @button(app, once, cards.POST_THREAD, "post to thread", writes=True)
    def post_thread(state: cards.State, click: Click) -> None:
        hit, _ = nth(state)
        if not state.thread:
            raise Expired()
        click.client.chat_postMessage(channel=click.channel_id, thread_ts=state.thread, unfurl_links=False,
                                      unfurl_media=False, **cards.shared_card(hit, click.user_id))
        click.respond(delete_original=True)

    def page(state: cards.State, click: Click) -> None:
        answer(quotes, click.respond, state.query, state.index, replace=True, post_thread=state.thread)

    button(app, once, cards.NEXT, "next", writes=False)(page)
    button(app, once, cards.PREVIOUS, "previous", writes=False)(page)

    @button(app, once, cards.MORE, "more", writes=False)
    def more(state: cards.State, click: Click) -> None:
        answer(quotes, click.respond, state.query, state.index)

    @button(app, once, cards.CONTEXT, "show context", writes=False)
    def context(state: cards.State, click: Click) -> None:
        hit, total = nth(state)
        card = cards.search_card(hit, state.query, min(state.index, total - 1), total)
        around = quotes.context(hit.segment_id, 1, 1)
        card["blocks"] = card["blocks"][:-2] + cards.context_blocks(around, hit.segment_id) + card["blocks"][-2:]
        click.respond(response_type="ephemeral", replace_original=True, **card)

    def open_link(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL; the click still needs an ack

    app.action(cards.OPEN)(open_link)
    app.action(cards.EPISODE)(open_link)
