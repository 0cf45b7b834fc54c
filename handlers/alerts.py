"""Keyword alerts, the Slack side: ``/quote alert add|list|remove`` and the alert post.

Storage and the claims that post each (alert, episode) once are the bot's (``Alerts``,
``bot.alerts``); this module parses what users type and builds the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from index.search import Answer, EpisodeInfo, Hit

from . import cards
from .answers import Subcommand
from .digest import episode_line, quote_card

EVENT_TYPE = "quotebot_alert"  # the message metadata that marks an alert post
QUOTES_PER_EPISODE = 2
EPISODES_PER_POST = 8

USAGE = (
    "*Keyword alerts*: a post in this channel when a new episode says something about a query.\n"
    "• `/quote alert add QUERY`: e.g. `/quote alert add export controls speaker:dylan`\n"
    "• `/quote alert list`: this workspace's alerts, numbered\n"
    "• `/quote alert remove N`: stop alert N"
)


@dataclass(frozen=True)
class Alert:
    id: int
    team_id: str
    channel_id: str
    query: str
    created_by: str = ""
    created_at: dt.datetime | None = None

    def describe(self) -> str:
        """``#3 `export controls` in <#C1>``, escaped for mrkdwn."""
        return f"#{self.id} `{cards.escape(cards.cut(self.query, 200))}` in <#{cards.slack_id(self.channel_id)}>"


class AlertExists(Exception):
    """The channel already has an alert with this query (compared as stored, ignoring case: the
    search ignores it too), so a second one would post every match twice. ``alert`` is that one."""

    def __init__(self, alert: Alert) -> None:
        super().__init__(f"alert #{alert.id} already watches {alert.query!r} in {alert.channel_id}")
        self.alert = alert

    def text(self, where: str = "this channel") -> str:
        """``Alert #1 already watches `stargate` in this channel.``, escaped for mrkdwn."""
        return f"Alert #{self.alert.id} already watches `{cards.escape(cards.cut(self.alert.query, 200))}` in {where}."


class Alerts(Protocol):
    """What ``/quote alert`` and App Home ask of the bot."""

    def add(self, team_id: str, channel_id: str, query: str, user_id: str) -> Alert:
        """The new alert; AlertExists (nothing stored) when the channel has one with this query."""
        ...

    def update(self, team_id: str, alert_id: int, query: str) -> bool:
        """False when there is no such alert; AlertExists (nothing changed) when another alert of
        its channel has this query."""
        ...

    def remove(self, team_id: str, alert_id: int) -> bool: ...

    def alerts(self, team_id: str | None = None) -> list[Alert]: ...


def check_query(answer: Callable[[str], Answer], query: str) -> str | None:
    """Why ``query`` cannot be an alert (empty, malformed), or None. ``answer`` is the /quote entry
    point (``Library.answer``), so an alert reads its query as /quote does."""
    got = answer(query) if query.strip() else None
    if got is None or got.kind == "help":
        return "An alert needs a query: `/quote alert add export controls`."
    if got.kind == "error":
        return f"Cannot search that: {cards.escape(got.understanding.error or '')}"
    return None


def handle(alerts: Alerts, answer: Callable[[str], Answer], text: str, body: dict, respond: Callable,
           changed: Callable[[str, str], None] = lambda team, user: None) -> None:
    """Answer ``/quote alert <text>`` ephemerally; ``changed(team, user)`` after a change (App Home refresh)."""
    command = Subcommand.read(text, body, respond)
    verb, rest, team, channel, user, say = command

    if verb == "add":
        problem = check_query(answer, rest)
        if problem:
            say(f"{problem}\n\n{USAGE}")
            return
        try:
            alert = alerts.add(team, channel, rest.strip(), user)
        except AlertExists as exc:
            say(f"{exc.text()} `/quote alert list` shows the alerts; nothing was added.")
            return
        say(f"Alert {alert.describe()} added: new episodes that say something about it get one post here. "
            f"`/quote alert remove {alert.id}` stops it. In a private channel, invite me first: `/invite @quotebot`.")
        changed(team, user)
    elif verb == "list":
        found = alerts.alerts(team)
        if not found:
            say("No alerts in this workspace. `/quote alert add QUERY` starts one here.")
            return
        say(cards.cut("*Alerts in this workspace*\n" + "\n".join(f"• {a.describe()}" for a in found),
                      cards.SECTION_LIMIT))
    elif verb == "remove":
        number = rest.strip().lstrip("#")
        if not number.isdigit():
            say(f"Which alert? `/quote alert remove N`, with N from `/quote alert list`.\n\n{USAGE}")
        elif alerts.remove(team, int(number)):
            say(f"Alert #{int(number)} removed.")
            changed(team, user)
        else:
            say(f"There is no alert #{int(number)} in this workspace (`/quote alert list` shows them).")
    else:
        command.help("alert", USAGE)


def alert_message(alert: Alert, found: list[tuple[EpisodeInfo, list[Hit]]]) -> dict:
    """One post for an alert: each new episode that matched, with its best quotes; inside Slack's limits."""
    shown = found[:EPISODES_PER_POST]
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*New quotes for alert #{alert.id}* `{cards.escape(cards.cut(alert.query, 200))}` "
            f"in {len(found)} new episode{'s' if len(found) != 1 else ''}")}},
    ]
    for episode, hits in shown:
        blocks.append({"type": "divider"})
        blocks.append(episode_line(episode))
        for hit in hits[:QUOTES_PER_EPISODE]:
            blocks.extend(quote_card(hit, with_episode=False))
    if len(found) > len(shown):
        blocks.append(_context(f"…and {len(found) - len(shown)} more episodes: "
                               f"`/quote {cards.escape(cards.cut(alert.query, 100))}`"))
    blocks.append(_context(f"Alert #{alert.id}, added by <@{cards.slack_id(alert.created_by)}>. "
                           f"`/quote alert remove {alert.id}` stops it."))
    first = found[0][1][0]
    text = f"New quotes for alert #{alert.id} ({cards.cut(alert.query, 100)}): “{cards.cut(first.text, 200)}”"
    return {"text": cards.escape(text), "blocks": blocks}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
