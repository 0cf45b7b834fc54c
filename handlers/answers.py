"""Answering a query with a card: shared by the slash command and the buttons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

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
