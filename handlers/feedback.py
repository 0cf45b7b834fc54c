"""Feedback on cards: the overflow menu's "Wrong speaker" and "Wrong time", stored and acknowledged
only to the person who chose it."""

from __future__ import annotations

import logging
from typing import Protocol

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from index.model import Segment
from index.text import format_clock

from . import cards
from .answers import apologise

log = logging.getLogger("quotebot.handlers")


class Feedback(Protocol):
    def report(self, team_id: str, user_id: str, kind: str, segment: Segment) -> bool:
        """Store the report; False when this user had made it already."""


def parse(value: str) -> tuple[str, int]:
    """``"speaker:123"`` -> ("speaker", 123). Raises ValueError for anything else."""
    kind, _, segment = value.partition(":")
    if kind not in cards.FEEDBACK_KINDS or not segment.isdigit():
        raise ValueError(f"bad feedback value {value!r}")
    return kind, int(segment)


def register(app: App, quotes, feedback: Feedback | None) -> None:
    @app.action(cards.FEEDBACK)
    def chosen(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        channel = (body.get("channel") or {}).get("id")

        def tell(text: str) -> None:
            if body.get("response_url"):
                respond(response_type="ephemeral", replace_original=False, **cards.message(text))
            elif channel:
                client.chat_postEphemeral(channel=channel, user=user, **cards.message(text))

        if feedback is None:
            tell("Feedback is not set up in this deployment.")
            return
        try:
            kind, segment_id = parse(body["actions"][0]["selected_option"]["value"])
            segment = next((s for s in quotes.context(segment_id, 0, 0) if s.id == segment_id), None)
            if segment is None:
                tell("That quote is no longer in the library (its episode was updated). Thanks all the same.")
                return
            new = feedback.report(team, user, kind, segment)
            what = cards.FEEDBACK_KINDS[kind].lower()
            where = f" at {format_clock(segment.start_s)}" if segment.start_s is not None else ""
            said = cards.escape(cards.cut(segment.text, 80))
            tell(f"Thanks: reported *{what}* for “{said}”{where}. The library's keepers will look at it."
                 if new else f"You had already reported *{what}* for this quote; it is on the list.")
        except (ValueError, KeyError):
            tell("That menu has expired. Run /quote again.")
        except Exception:  # noqa: BLE001 - logged, and the user hears about it
            apologise(lambda **kw: tell(kw["text"]), "feedback")
