"""Answering a query with a card: shared by the slash command and the buttons; and reading a
``/quote <group> <verb> …`` subcommand (``digest``, ``alert``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from . import cards

if TYPE_CHECKING:
    from . import Quotes

PAGE_LIMIT = 20  # the hits a search pages through
APOLOGY = "Sorry, something went wrong on my side while answering. Please try again in a moment."

log = logging.getLogger("quotebot.handlers")


def answer(quotes: Quotes, respond: Callable[..., object], query: str, index: int = 0, *, replace: bool = False,
           post_thread: str | None = None) -> None:
    """Respond with the ``index``-th hit for ``query`` as an ephemeral card, or say why not
    (the query as typed in Slack: ``quotes.answer`` reads its markup, questions, names and typos).
    ``post_thread``: the message a shortcut was used on, for the card's "Post to thread"."""
    respond(response_type="ephemeral", replace_original=replace,
            **cards.answer_card(quotes.answer(query, limit=PAGE_LIMIT), index, post_thread=post_thread))


def apologise(say: Callable, where: str) -> None:
    """Log the failure (never the payload: it may carry tokens) and tell the user."""
    log.exception("handler failed: %s", where)  # noqa: LOG004 - called from the callers' except blocks
    try:
        say(text=APOLOGY)
    except Exception:
        log.exception("could not send the apology: %s", where)


class Subcommand(NamedTuple):
    """A ``/quote <group> <verb> <rest>`` request (``/quote alert add export controls``), read once.

    ``verb``: the first word after the group, lower-cased ("" when none); ``rest``: what follows it,
    as typed; ``team``, ``channel``, ``user``: the ids from the slash command's body ("" when absent);
    ``say(message)``: respond ephemerally with a short plain message (``cards.message``).
    """

    verb: str
    rest: str
    team: str
    channel: str
    user: str
    say: Callable[[str], None]

    @classmethod
    def read(cls, text: str, body: dict, respond: Callable[..., object]) -> Subcommand:
        """Read ``text`` (what follows the group's name) and the command's ``body``; ``say`` goes
        through ``respond``."""
        verb, _, rest = text.strip().partition(" ")

        def say(message: str) -> None:
            respond(response_type="ephemeral", **cards.message(message))

        return cls(verb.lower(), rest, body.get("team_id", ""), body.get("channel_id", ""),
                   body.get("user_id", ""), say)

    def help(self, group: str, usage: str) -> None:
        """Say ``usage`` for an empty verb or ``help``; otherwise name the unknown verb (escaped), then ``usage``."""
        self.say(usage if self.verb in ("", "help")
                 else f"Unknown {group} command `{cards.escape(self.verb)}`.\n\n{usage}")
