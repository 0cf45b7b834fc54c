"""The global shortcut "Search quotes": a modal with a query field, speaker and episode pickers
(external selects with type-ahead over the library), date pickers; the results page through
inside the modal (``views.update``), each with "Post to channel" (a conversations select).

The form becomes a /quote query (``words speaker:"…" episode:"…" after:… before:…``) and goes
through the same entry point as /quote (``quotes.answer``). The modal's ``private_metadata`` keeps the query and page.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from index.search import Hit
from index.tokens import fold

from . import cards
from .actions import Click, Expired, Once, button
from .answers import PAGE_LIMIT

if TYPE_CHECKING:
    from . import Quotes

log = logging.getLogger("quotebot.handlers")

SHORTCUT = "search_quotes"  # the global shortcut's callback_id (manifest.json)
CALLBACK = "quote_search"  # the modal's callback_id
SPEAKER = "quote_speaker"  # external select action ids
EPISODE = "quote_episode_pick"
CHANNEL = "quote_modal_post"  # a result's conversations select
PAGE = "quote_modal_page"
PER_PAGE = 5
OPTIONS = 100  # Slack shows at most 100 options


def text(value: str) -> dict:
    return {"type": "plain_text", "text": value}


def form(values: dict[str, Any] | None = None) -> list[dict]:
    """The form's input blocks, filled with ``values`` (q, speaker, episode: (value, label), after, before)."""
    values = values or {}
    query: dict = {"type": "plain_text_input", "action_id": "q", "placeholder": text("export controls")}
    if values.get("q"):
        query["initial_value"] = values["q"]
    speaker: dict = {"type": "external_select", "action_id": SPEAKER, "placeholder": text("Any speaker"),
                     "min_query_length": 0}
    episode: dict = {"type": "external_select", "action_id": EPISODE, "placeholder": text("Any episode"),
                     "min_query_length": 0}
    for element, key in ((speaker, "speaker"), (episode, "episode")):
        if values.get(key):
            value, label = values[key]
            element["initial_option"] = {"text": text(cards.cut(label, 75)), "value": value}
    after: dict = {"type": "datepicker", "action_id": "after", "placeholder": text("Any date")}
    before: dict = {"type": "datepicker", "action_id": "before", "placeholder": text("Any date")}
    for element, key in ((after, "after"), (before, "before")):
        if values.get(key):
            element["initial_date"] = values[key]
    return [
        {"type": "input", "block_id": "q", "label": text("Words"), "element": query},
        {"type": "input", "block_id": "speaker", "optional": True, "label": text("Said by"), "element": speaker},
        {"type": "input", "block_id": "episode", "optional": True, "label": text("In the episode"), "element": episode},
        {"type": "input", "block_id": "after", "optional": True, "label": text("Published after"), "element": after},
        {"type": "input", "block_id": "before", "optional": True, "label": text("Published before"), "element": before},
    ]


def modal(blocks: list[dict], meta: dict | None = None) -> dict:
    view: dict = {"type": "modal", "callback_id": CALLBACK, "title": text("Search quotes"),
                  "submit": text("Search"), "close": text("Close"), "blocks": blocks}
    if meta is not None:
        view["private_metadata"] = json.dumps(meta, separators=(",", ":"))
    return view


def values_of(view: dict) -> dict[str, Any]:
    """What the form holds, from a view's ``state``."""
    state = (view.get("state") or {}).get("values") or {}

    def element(block: str) -> dict:
        return next(iter((state.get(block) or {}).values()), {}) or {}

    picked = {k: element(k).get("selected_option") for k in ("speaker", "episode")}
    return {
        "q": (element("q").get("value") or "").strip(),
        **{k: (o["value"], o["text"]["text"]) if o else None for k, o in picked.items()},
        "after": element("after").get("selected_date"),
        "before": element("before").get("selected_date"),
    }


def query_of(values: dict[str, Any]) -> str:
    """The form as a /quote query."""
    parts = [values.get("q") or ""]
    if values.get("speaker"):
        parts.append(f'speaker:"{values["speaker"][0].replace(chr(34), "")}"')
    if values.get("episode"):
        parts.append(f'episode:"{values["episode"][0].replace(chr(34), "")}"')
    for key in ("after", "before"):
        if values.get(key):
            parts.append(f"{key}:{values[key]}")
    return " ".join(p for p in parts if p)


def results_view(values: dict[str, Any], hits: list[Hit], page: int, note: str | None = None) -> dict:
    """The form, then one page of results, each with a "Post to channel" select, then paging."""
    query = query_of(values)
    blocks = [*form(values), {"type": "divider"}]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    if not hits:
        if not note:
            said = f"No quote matched `{cards.escape(cards.cut(query, 200))}`."
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": said}})
        return modal(blocks, {"v": values, "p": 0})
    page = max(0, min(page, (len(hits) - 1) // PER_PAGE))
    first = page * PER_PAGE
    shown = hits[first:first + PER_PAGE]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f"{first + 1}–{first + len(shown)} of {len(hits)} · `{cards.escape(cards.cut(query, 150))}`")}]})
    for n, hit in enumerate(shown):
        for block in cards.quote_blocks(hit, limit=700, feedback=False):
            blocks.append({**block, "block_id": f"{block['block_id']}_{n}"})
        blocks.append({"type": "actions", "block_id": f"post_{first + n}", "elements": [{
            "type": "conversations_select", "action_id": CHANNEL, "placeholder": text("Post to channel…"),
            "filter": {"include": ["public", "private"], "exclude_bot_users": True}}]})
    paging = []
    if page > 0:
        paging.append(cards.button("Previous page", PAGE, str(page - 1)))
    if first + len(shown) < len(hits):
        paging.append(cards.button("Next page", PAGE, str(page + 1)))
    if paging:
        blocks.append({"type": "actions", "block_id": "paging", "elements": paging})
    return modal(blocks, {"v": values, "p": page})


def open_search(client: WebClient, trigger_id: str) -> None:
    """Open the empty search modal (the shortcut, and App Home's "Search quotes" button)."""
    client.views_open(trigger_id=trigger_id, view=modal(form(), {"v": {}, "p": 0}))


def register(app: App, quotes: Quotes, once: Once) -> None:
    def search(values: dict[str, Any]) -> tuple[list[Hit], str | None]:
        """The /quote entry point's hits for the form, and what to tell the person (a fix, or notes)."""
        got = quotes.answer(query_of(values), limit=PAGE_LIMIT)
        if got.kind == "error":
            return [], f"Cannot search that: {cards.escape(got.understanding.error or '')}"
        if got.kind == "none":
            return [], cards.no_match(got)["text"]
        return got.hits, cards.cut(" ".join(got.notes(cards.typed)), 2000) or None

    @app.shortcut(SHORTCUT)
    def shortcut(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        open_search(client, body["trigger_id"])

    @app.view(CALLBACK)
    def submitted(ack: Ack, body: dict, client: WebClient) -> None:
        view = body["view"]
        values = values_of(view)
        if not values["q"]:
            ack(response_action="errors", errors={"q": "Type a few words to search for."})
            return
        if values["after"] and values["before"] and values["after"] >= values["before"]:
            ack(response_action="errors", errors={"before": "Pick a date after the “published after” date."})
            return
        searching = {"type": "context", "elements": [{"type": "mrkdwn", "text": "Searching…"}]}
        ack(response_action="update", view=modal([*form(values), searching], {"v": values, "p": 0}))
        hits, problem = search(values)
        client.views_update(view_id=view["id"], view=results_view(values, hits, 0, problem))

    @button(app, once, PAGE, "modal: page", writes=False, decode=int)
    def page(number: int, click: Click) -> None:
        view = click.body["view"]
        meta = json.loads(view.get("private_metadata") or "{}")
        values = meta.get("v", {})
        hits, problem = search(values)
        click.client.views_update(view_id=view["id"], hash=view.get("hash"),
                                  view=results_view(values, hits, number, problem))

    @button(app, once, CHANNEL, "modal: post to channel", writes=True, decode=str)
    def post(channel: str, click: Click) -> None:
        view = click.body["view"]
        meta = json.loads(view.get("private_metadata") or "{}")
        values, page_no = meta.get("v", {}), int(meta.get("p", 0))
        index = int(click.body["actions"][0]["block_id"].removeprefix("post_"))
        hits, _problem = search(values)
        if index >= len(hits):
            raise Expired()
        try:
            click.client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False,
                                          **cards.shared_card(hits[index], click.user_id))
            note = f"Posted quote {index + 1} to <#{cards.slack_id(channel)}>."
        except SlackApiError as exc:
            error = exc.response.get("error")
            note = (f"I am not in <#{cards.slack_id(channel)}>: invite me there first (`/invite @quotebot`)."
                    if error in ("not_in_channel", "channel_not_found") else f"Could not post there ({error}).")
        click.client.views_update(view_id=view["id"], view=results_view(values, hits, page_no, note))

    @app.options(SPEAKER)
    def speakers(ack: Ack, body: dict) -> None:
        typed = fold(body.get("value") or "")
        names = [n for n in quotes.speakers() if typed in fold(n) and len(n) <= 150]
        ack(options=[{"text": text(cards.cut(n, 75)), "value": n} for n in sorted(names)[:OPTIONS]])

    @app.options(EPISODE)
    def episodes(ack: Ack, body: dict) -> None:
        typed = fold(body.get("value") or "")
        found = [e for e in quotes.episodes() if typed in fold(f"{e.title or ''} {e.podcast or ''} {e.id}")
                 and len(e.id) <= 150]
        ack(options=[{"text": text(cards.cut(e.title or e.id, 75)), "value": e.id} for e in found[:OPTIONS]])
