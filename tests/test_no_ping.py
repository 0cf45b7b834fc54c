"""Transcript text and query text never ping anyone, on every surface that shows them: the card,
Show context, the shared post, a thread reply, and the messages that echo a query."""

from __future__ import annotations

import json

from bot.localslack import event_body
from handlers import cards

from .test_slack import bot, buttons_of, click, command, send  # noqa: F401 - bot is the fixture

RAW = ["<!channel>", "<!here>", "<!everyone>", "<@U999>", "<https://evil.example"]


def shown(node) -> list[str]:
    """Every string Slack renders (texts, not button values, which no one sees)."""
    if isinstance(node, dict):
        return [s for k, v in node.items() if k != "value" for s in ([v] if k == "text" and isinstance(v, str)
                                                                     else shown(v))]
    if isinstance(node, list):
        return [s for item in node for s in shown(item)]
    return []


def inert(message: dict) -> bool:
    text = "\n".join(shown(message))
    assert text.strip()
    return not any(raw in text for raw in RAW)


def test_no_surface_pings(bot):
    url, slack, _ = bot
    card = command(url, slack, "zanzibar llamas attention")
    assert "zanzibar" in card["text"].lower() and inert(card)
    [context] = click(url, slack, buttons_of(card)[cards.CONTEXT])
    assert "quote_context" in json.dumps(context) and inert(context)
    shared = click(url, slack, buttons_of(card)[cards.POST], user="U555")[-1]
    assert shared["response_type"] == "in_channel" and inert(shared)
    for query in ["<!channel> zanzibar llamas", "<!here> <!everyone> sourdough starter", '"<@U999>',
                  "speaker:<!channel>"]:
        assert inert(command(url, slack, query)), query
    slack.clear()
    for n, text in enumerate(["<@U0QUOTEBOT> zanzibar llamas keepers", "<@U0QUOTEBOT> <!channel> sourdough"]):
        ts = f"1700007000.00010{n}"
        send(url, event_body({"type": "app_mention", "user": "U1", "channel": "C77", "ts": ts, "event_ts": ts,
                              "text": text}), json_body=True)
    replies = slack.wait_for("chat.postMessage", 2, timeout=10)
    assert all(inert(r.body) for r in replies)
    assert "zanzibar" in json.dumps(replies[0].body).lower() or "zanzibar" in json.dumps(replies[1].body).lower()
