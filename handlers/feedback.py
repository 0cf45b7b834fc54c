"""Feedback on cards: the overflow menu's "Wrong speaker" and "Wrong time", stored and acknowledged
only to the person who chose it. The menu goes through ``actions.button`` (``writes=True``): the
same choice on the same card twice is one report, also across replicas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from slack_bolt import App

from index.model import Segment
from index.text import format_clock

from . import cards
from .actions import Click, Expired, Once, button

if TYPE_CHECKING:
    from . import Quotes


class Feedback(Protocol):
    def report(self, team_id: str, user_id: str, kind: str, segment: Segment) -> bool:
        """Store the report; False when this user had made it already."""


def parse(value: str) -> tuple[str, int]:
    """``"speaker:123"`` -> ("speaker", 123). Raises ValueError for anything else."""
    kind, _, segment = value.partition(":")
    if kind not in cards.FEEDBACK_KINDS or not segment.isdigit() or len(segment) > 12:
        raise ValueError(f"bad feedback value {value!r}")
    return kind, int(segment)


def register(app: App, quotes: Quotes, once: Once, feedback: Feedback | None) -> None:
    @button(app, once, cards.FEEDBACK, "feedback", writes=True, decode=parse)
    def chosen(choice: tuple[str, int], click: Click) -> None:
        if feedback is None:
            click.say("Feedback is not set up in this deployment.")
            return
        kind, segment_id = choice
        segment = next((s for s in quotes.context(segment_id, 0, 0) if s.id == segment_id), None)
        if segment is None:
            raise Expired("That quote is no longer in the library (its episode was updated). Thanks all the same.")
        new = feedback.report(click.team_id, click.user_id, kind, segment)
        what = cards.FEEDBACK_KINDS[kind].lower()
        where = f" at {format_clock(segment.start_s)}" if segment.start_s is not None else ""
        said = cards.escape(cards.cut(segment.text, 80))
        click.say(f"Thanks: reported *{what}* for “{said}”{where}. The library's keepers will look at it."
                  if new else f"You had already reported *{what}* for this quote; it is on the list.")
