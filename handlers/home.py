"""App Home: a search button; this workspace's digests and alerts, each with Edit and Remove; the
library at a glance; a short how-to. Published on ``app_home_opened`` and again, for the person
who made it, after any change to the subscriptions or alerts."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from . import cards, search_modal
from .actions import Click, Once, button
from .alerts import AlertExists, Alerts, check_query
from .digest import DigestInputError, Digests, Subscription, parse_time, parse_zone

if TYPE_CHECKING:
    from . import Quotes

log = logging.getLogger("quotebot.handlers")

SEARCH = "home_search"
DIGEST_EDIT, DIGEST_REMOVE = "home_digest_edit", "home_digest_remove"
ALERT_ADD, ALERT_EDIT, ALERT_REMOVE = "home_alert_add", "home_alert_edit", "home_alert_remove"
DIGEST_FORM, ALERT_FORM = "home_digest_form", "home_alert_form"
LISTED = 20  # subscriptions or alerts shown; the rest are counted (a Home tab holds 100 blocks)

HOW_TO = (
    "*How to*\n"
    "• `/quote export controls`: the best quote, only to you, with *Post to channel*\n"
    "• `@quotebot chips` in a thread: answers there\n"
    "• On any message: ⋯ → *Find quotes about this*\n"
    "• `/quote digest subscribe 09:00 Europe/Paris chips`: a daily digest in a channel\n"
    "• `/quote alert add export controls`: a post when a new episode talks about it\n"
    "• ⋯ on a quote: report a wrong speaker or a wrong time"
)


def _section(text: str, accessory: dict | None = None) -> dict:
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": cards.cut(text, cards.SECTION_LIMIT)}}
    if accessory:
        block["accessory"] = accessory
    return block


def _edit_remove(block_id: str, edit: str, remove: str, value: str, what: str) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": [
        cards.button("Edit", edit, value),
        {**cards.button("Remove", remove, value, style="danger"), "confirm": {
            "title": {"type": "plain_text", "text": "Remove it?"},
            "text": {"type": "plain_text", "text": cards.cut(f"Remove {what}?", 300)},
            "confirm": {"type": "plain_text", "text": "Remove"}, "deny": {"type": "plain_text", "text": "Keep"}}},
    ]}


def home_view(quotes: Quotes, digests: Digests | None, alerts: Alerts | None, team_id: str) -> dict:
    """The Home tab for a workspace."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Quotebot"}},
        _section("Quote the podcasts and talks your team follows.",
                 cards.button("Search quotes", SEARCH, "open", style="primary")),
    ]
    o = quotes.overview()
    newest = (f"newest: *{cards.escape(cards.cut(o.newest.title or o.newest.id, 120))}*"
              + (f" ({o.newest.published:%d %b %Y})" if o.newest.published else "")) if o.newest else "empty"
    blocks += [{"type": "divider"}, _section(
        f"*The library*\n{o.episodes} episodes · {o.hours:.1f} hours of audio · {o.segments} quotes · "
        f"{o.speaker_share:.0%} with a speaker\n{newest}")]
    if digests is not None:
        subs = digests.subscriptions(team_id)
        blocks += [{"type": "divider"}, _section("*Daily digests*" + ("" if subs else
                   "\nNone yet. In a channel: `/quote digest subscribe 09:00 Europe/Paris chips`"))]
        for sub in subs[:LISTED]:
            where = f"<#{cards.slack_id(sub.channel_id)}>"
            blocks.append(_section(f"{where}: {sub.describe()}"))
            blocks.append(_edit_remove(f"digest_{sub.channel_id}_{_stamp(sub.created_at)}", DIGEST_EDIT,
                                       DIGEST_REMOVE, sub.channel_id,
                                       "this channel's digest"))
        if len(subs) > LISTED:
            blocks.append(_context(f"…and {len(subs) - LISTED} more: `/quote digest list`"))
    if alerts is not None:
        found = alerts.alerts(team_id)
        blocks += [{"type": "divider"}, _section(
            "*Keyword alerts*" + ("" if found else "\nNone yet: a post when a new episode talks about a query."),
            cards.button("Add an alert", ALERT_ADD, "new"))]
        for alert in found[:LISTED]:
            blocks.append(_section(alert.describe()))
            blocks.append(_edit_remove(f"alert_{alert.id}_{_stamp(alert.created_at)}", ALERT_EDIT,
                                       ALERT_REMOVE, str(alert.id),
                                       f"alert #{alert.id}"))
        if len(found) > LISTED:
            blocks.append(_context(f"…and {len(found) - LISTED} more: `/quote alert list`"))
    blocks += [{"type": "divider"}, _section(HOW_TO)]
    return {"type": "home", "blocks": blocks}


def _stamp(moment: dt.datetime | None) -> str:
    """A creation time in a block id: a subscription or alert made again gets new buttons, so a
    Remove clicked on the old one (once only, see ``actions.button``) never blocks the new one."""
    return str(int(moment.timestamp() * 1_000_000)) if moment else "0"


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _input(block_id: str, label: str, element: dict, optional: bool = False, hint: str | None = None) -> dict:
    block: dict = {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
                   "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def digest_form(sub: Subscription) -> dict:
    """The modal that edits a channel's digest."""
    weekends = {"text": {"type": "plain_text", "text": "Also on Saturdays and Sundays"}, "value": "weekends"}
    days: dict = {"type": "checkboxes", "action_id": "v", "options": [weekends]}
    if sub.weekends:
        days["initial_options"] = [weekends]
    topics: dict = {"type": "plain_text_input", "action_id": "v"}
    if sub.topics:
        topics["initial_value"] = sub.topics
    return {"type": "modal", "callback_id": DIGEST_FORM, "private_metadata": sub.channel_id,
            "title": {"type": "plain_text", "text": "Edit the digest"},
            "submit": {"type": "plain_text", "text": "Save"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                _context(f"The daily digest of <#{cards.slack_id(sub.channel_id)}>"),
                _input("time", "Time",
                       {"type": "timepicker", "action_id": "v", "initial_time": f"{sub.post_at:%H:%M}"}),
                _input("tz", "Time zone", {"type": "plain_text_input", "action_id": "v", "initial_value": sub.tz},
                       hint="An IANA name, like Europe/Paris or America/New_York"),
                _input("topics", "Topics", topics, optional=True,
                       hint="A /quote query; empty: a strong quote of the day"),
                _input("days", "Days", days, optional=True),
            ]}


def alert_form(query: str = "", alert_id: int | None = None) -> dict:
    """The modal that adds (with a channel picker) or edits an alert."""
    field: dict = {"type": "plain_text_input", "action_id": "v",
                   "placeholder": {"type": "plain_text", "text": "export controls"}}
    if query:
        field["initial_value"] = query
    blocks = [_input("query", "Query", field, hint="A /quote query: words, \"a phrase\", speaker:NAME")]
    if alert_id is None:
        blocks.insert(0, _input("channel", "Post in", {"type": "conversations_select", "action_id": "v",
                                                       "filter": {"include": ["public", "private"]}}))
    return {"type": "modal", "callback_id": ALERT_FORM, "private_metadata": str(alert_id or ""),
            "title": {"type": "plain_text", "text": "Edit the alert" if alert_id else "Add an alert"},
            "submit": {"type": "plain_text", "text": "Save"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks}


def _value(view: dict, block: str) -> Any:
    fields: dict[str, dict[str, Any]] = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    element: dict[str, Any] = next(iter(fields.values()), {}) or {}
    for key in ("value", "selected_time", "selected_conversation"):
        if key in element:
            return element[key]
    if "selected_options" in element:
        return [o["value"] for o in element["selected_options"] or []]
    return None


def register(app: App, quotes: Quotes, once: Once, digests: Digests | None, alerts: Alerts | None) -> Refresh:
    """Wire the Home tab; returns ``refresh(client, team, user)``, which republishes it for one person."""
    def publish(client: WebClient, team_id: str, user_id: str) -> None:
        client.views_publish(user_id=user_id, view=home_view(quotes, digests, alerts, team_id))

    def team_of(body: dict) -> str:
        return str((body.get("team") or {}).get("id") or body.get("team_id")
                   or (body.get("user") or {}).get("team_id", ""))

    @app.event("app_home_opened")
    def opened(body: dict, event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        publish(client, body.get("team_id") or "", event["user"])

    @button(app, once, SEARCH, "home: search", writes=False, decode=str)
    def search(_: str, click: Click) -> None:
        search_modal.open_search(click.client, click.body["trigger_id"])

    @button(app, once, DIGEST_EDIT, "home: edit digest", writes=False, decode=str)
    def digest_edit(channel: str, click: Click) -> None:
        sub = digests.subscription(click.team_id, channel) if digests else None
        if sub is None:
            publish(click.client, click.team_id, click.user_id)  # gone meanwhile: show what is
            return
        click.client.views_open(trigger_id=click.body["trigger_id"], view=digest_form(sub))

    @button(app, once, DIGEST_REMOVE, "home: remove digest", writes=True, decode=str)
    def digest_remove(channel: str, click: Click) -> None:
        if digests is not None:
            digests.unsubscribe(click.team_id, channel)
        publish(click.client, click.team_id, click.user_id)

    @app.view(DIGEST_FORM)
    def digest_saved(ack: Ack, body: dict, client: WebClient) -> None:
        view, team = body["view"], team_of(body)
        old = digests.subscription(team, view["private_metadata"]) if digests else None
        errors = {}
        try:
            post_at = parse_time(_value(view, "time") or "")
        except DigestInputError as exc:
            errors["time"] = str(exc)
        try:
            tz = parse_zone((_value(view, "tz") or "").strip())
        except DigestInputError as exc:
            errors["tz"] = cards.cut(str(exc).replace("`", ""), 150)
        topics = (_value(view, "topics") or "").strip()
        if topics and (problem := check_query(quotes.answer, topics)):
            errors["topics"] = cards.cut(problem.replace("`", ""), 150)
        if errors or old is None or digests is None:
            ack(response_action="errors", errors=errors or {"time": "This digest was removed meanwhile."})
            return
        ack()
        weekends = "weekends" in (_value(view, "days") or [])
        digests.subscribe(Subscription(team, old.channel_id, post_at, tz, topics, weekends,
                                       old.created_by, old.created_at))
        publish(client, team, body["user"]["id"])

    @button(app, once, ALERT_ADD, "home: add alert", writes=False, decode=str)
    def alert_add(_: str, click: Click) -> None:
        click.client.views_open(trigger_id=click.body["trigger_id"], view=alert_form())

    @button(app, once, ALERT_EDIT, "home: edit alert", writes=False, decode=int)
    def alert_edit(alert_id: int, click: Click) -> None:
        found = next((a for a in alerts.alerts(click.team_id) if a.id == alert_id), None) if alerts else None
        if found is None:
            publish(click.client, click.team_id, click.user_id)
            return
        click.client.views_open(trigger_id=click.body["trigger_id"], view=alert_form(found.query, found.id))

    @button(app, once, ALERT_REMOVE, "home: remove alert", writes=True, decode=int)
    def alert_remove(alert_id: int, click: Click) -> None:
        if alerts is not None:
            alerts.remove(click.team_id, alert_id)
        publish(click.client, click.team_id, click.user_id)

    @app.view(ALERT_FORM)
    def alert_saved(ack: Ack, body: dict, client: WebClient) -> None:
        view, team, user = body["view"], team_of(body), body["user"]["id"]
        query = (_value(view, "query") or "").strip()
        problem = check_query(quotes.answer, query)
        if not problem and alerts is not None:
            try:  # before the ack, so that an alert the channel has already is said in the form
                if view.get("private_metadata"):
                    alerts.update(team, int(view["private_metadata"]), query)
                else:
                    alerts.add(team, _value(view, "channel"), query, user)
            except AlertExists as exc:
                problem = exc.text("that channel")
        if problem or alerts is None:
            why = cards.cut((problem or "Alerts are off.").replace("`", ""), 150)
            ack(response_action="errors", errors={"query": why})
            return
        ack()
        publish(client, team, user)

    def refresh(client: WebClient, team_id: str, user_id: str) -> None:
        """Publish the Home tab again for ``user_id`` (after a change made with a command)."""
        try:
            publish(client, team_id, user_id)
        except Exception:
            log.exception("could not refresh App Home")

    return refresh


Refresh = Callable[[WebClient, str, str], None]
