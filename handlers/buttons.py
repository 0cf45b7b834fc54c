"""The card's buttons: Post to channel, Post to thread, Next, Previous, Show context, More; Open is a link."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from index.query import QueryError

from . import cards
from .answers import PAGE_LIMIT, answer, apologise


def register(app: App, quotes) -> None:
    def state_of(body: dict) -> cards.State:
        return cards.State.decode(body["actions"][0]["value"])

    def nth(state: cards.State):
        hits = quotes.search(state.query, limit=PAGE_LIMIT)
        if not hits:
            return None, 0
        index = max(0, min(state.index, len(hits) - 1))
        return hits[index], len(hits)

    def guarded(name: str, respond: Respond, work) -> None:
        try:
            work()
        except (QueryError, ValueError, KeyError):
            respond(response_type="ephemeral", replace_original=False,
                    **cards.message("That button has expired. Run /quote again."))
        except Exception:  # noqa: BLE001 - logged, and the user hears about it
            apologise(lambda **kw: respond(response_type="ephemeral", replace_original=False, **kw), name)

    @app.action(cards.POST)
    def post(ack: Ack, body: dict, respond: Respond) -> None:
        ack()

        def work() -> None:
            hit, _ = nth(state_of(body))
            if hit is None:
                raise ValueError("no hit")
            respond(delete_original=True)
            respond(response_type="in_channel", replace_original=False, unfurl_links=False, unfurl_media=False,
                    **cards.shared_card(hit, body["user"]["id"]))

        guarded("post to channel", respond, work)

    @app.action(cards.POST_THREAD)
    def post_thread(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        ack()

        def work() -> None:
            state = state_of(body)
            hit, _ = nth(state)
            if hit is None or not state.thread:
                raise ValueError("no hit")
            client.chat_postMessage(channel=body["channel"]["id"], thread_ts=state.thread, unfurl_links=False,
                                    unfurl_media=False, **cards.shared_card(hit, body["user"]["id"]))
            respond(delete_original=True)

        guarded("post to thread", respond, work)

    def page(ack: Ack, body: dict, respond: Respond) -> None:
        ack()

        def work() -> None:
            state = state_of(body)
            answer(quotes, respond, state.query, state.index, replace=True, thread=state.thread)

        guarded("page", respond, work)

    app.action(cards.NEXT)(page)
    app.action(cards.PREVIOUS)(page)

    @app.action(cards.MORE)
    def more(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        state = state_of(body)
        guarded("more", respond, lambda: answer(quotes, respond, state.query, state.index))

    @app.action(cards.CONTEXT)
    def context(ack: Ack, body: dict, respond: Respond) -> None:
        ack()

        def work() -> None:
            state = state_of(body)
            hit, total = nth(state)
            if hit is None:
                raise ValueError("no hit")
            card = cards.search_card(hit, state.query, min(state.index, total - 1), total)
            around = quotes.context(hit.segment_id, 1, 1)
            card["blocks"] = card["blocks"][:-2] + cards.context_blocks(around, hit.segment_id) + card["blocks"][-2:]
            respond(response_type="ephemeral", replace_original=True, **card)

        guarded("show context", respond, work)

    def open_link(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL; the click still needs an ack

    app.action(cards.OPEN)(open_link)
    app.action(cards.EPISODE)(open_link)
