"""The one way a button (or any interactive element) is handled: ``actions.button``.

Every listener registered through ``button`` gets, for free:

- **ack at once**, before any work (Slack wants it within 3 s);
- **its value decoded inside the error guard**: whatever ``decode`` raises as ``ValueError``
  (bad JSON, a list instead of an object, ``NaN``, ``Infinity``, 5,000 digits, a missing key: see
  ``cards.State.decode``) becomes "That button has expired. Run /quote again.", never a 404, a
  silent failure or the generic apology;
- **once only, for a button that writes** (``writes=True``: posts to a channel, subscribes,
  changes a digest, removes something). Before the work runs, a claim row keyed by the click's
  fingerprint (``click_key``: workspace, user, the message or view the button sits on, action id,
  block id and value) is inserted in the bot's database (``Once.first_time``). A second click on
  the same button of the same card, sent at once, 150 ms later, byte-identical, or to another
  replica, finds the row and does nothing. When the work fails the claim is released
  (``Once.forget``), so the user can try again after the apology;
- **one failure path**: ``Expired`` / ``ValueError`` / ``KeyError`` / ``QueryError`` → the
  "expired" message (or the exception's own ``user_message`` when it has one), anything else →
  logged (never the payload) and the apology, both ephemeral.

A new button is::

    @actions.button(app, once, cards.POST, "post to channel", writes=True)
    def post(state: cards.State, click: actions.Click) -> None:
        click.respond(response_type="in_channel", ...)

``decode`` defaults to ``cards.State.decode`` (``{"q": query, "i": index}``); pass another
function ``str -> T`` for other values (it must raise ``ValueError`` on a bad one). The value is
read from ``value`` (buttons), ``selected_option.value`` (overflow menus, selects) or
``selected_conversation`` (conversations selects).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from index.query import QueryError

from . import cards
from .answers import apologise

log = logging.getLogger("quotebot.handlers")

T = TypeVar("T")

EXPIRED = "That button has expired. Run /quote again."


class Once(Protocol):
    """Claim rows in the shared database: the first caller of a key wins, in every process.

    ``bot.events.EventLog`` is the implementation (table ``slack_events``, keys kept a day).
    """

    def first_time(self, key: str) -> bool:
        """Claim ``key``; False when it was claimed already (by any process). Raises on a database error."""

    def forget(self, key: str) -> None:
        """Release a claim, so the same key can be claimed again."""


class Expired(ValueError):
    """The button cannot do what it says any more (its card is stale); ``user_message`` says why."""

    def __init__(self, user_message: str = EXPIRED):
        super().__init__(user_message)
        self.user_message = user_message


@dataclass
class Click:
    """One click, as the work function sees it."""

    body: dict[str, Any]  # the whole block_actions payload
    respond: Respond  # answers through the click's response_url
    client: WebClient

    @property
    def user_id(self) -> str:
        return str((self.body.get("user") or {}).get("id", ""))

    @property
    def team_id(self) -> str:
        return str((self.body.get("team") or {}).get("id") or (self.body.get("user") or {}).get("team_id") or "")

    @property
    def channel_id(self) -> str:
        return str((self.body.get("channel") or {}).get("id") or (self.body.get("container") or {}).get("channel_id") or "")

    def say(self, text: str) -> None:
        """An ephemeral note to the clicker that leaves the card as it is."""
        self.respond(response_type="ephemeral", replace_original=False, **cards.message(text))


def action_value(body: dict[str, Any]) -> str:
    """The clicked element's value: a button's ``value``, a menu's ``selected_option.value`` or a
    conversations select's ``selected_conversation``.

    Raises ``Expired`` when the payload holds no action or no string value.
    """
    try:
        action = body["actions"][0]
        value = action.get("value")
        if value is None and isinstance(action.get("selected_option"), dict):
            value = action["selected_option"].get("value")
        if value is None:  # a conversations select: the channel picked
            value = action.get("selected_conversation")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise Expired() from None
    if not isinstance(value, str):
        raise Expired()
    return value


def click_key(body: dict[str, Any]) -> str:
    """The fingerprint of "this user pressed this button on this card", for the claim row.

    Two clicks on one button of one message (or view) by one user share it, whatever their
    timestamps, trigger ids or response URLs; another card (a new ``/quote``) or another user
    gets another key. The key is ``click:`` and a SHA-256, 70 characters.
    """
    action = (body.get("actions") or [{}])[0] if isinstance(body.get("actions"), list) else {}
    container: dict = body["container"] if isinstance(body.get("container"), dict) else {}
    view: dict = body["view"] if isinstance(body.get("view"), dict) else {}
    where = [container.get("channel_id"), container.get("message_ts"), container.get("view_id"),
             view.get("id") if not container.get("message_ts") else None]
    if not any(where):  # no container: the response URL is this card's own
        where = [body.get("response_url")]
    parts = [
        (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict) else None,
        (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None,
        *where,
        action.get("action_id") if isinstance(action, dict) else None,
        action.get("block_id") if isinstance(action, dict) else None,
        action_value(body) if isinstance(action, dict) and action else None,
    ]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return f"click:{digest}"


def button(
    app: App,
    once: Once,
    action_id: str,
    name: str,
    *,
    writes: bool,
    decode: Callable[[str], T] = cards.State.decode,  # type: ignore[assignment]
) -> Callable[[Callable[[T, Click], None]], Callable[[T, Click], None]]:
    """Register ``work(value, click)`` as the listener of ``action_id`` (see the module docstring).

    ``name`` is for the log. ``writes=True`` makes the button act once per card and user, across
    replicas. Returns a decorator that returns ``work`` unchanged.
    """

    def register(work: Callable[[T, Click], None]) -> Callable[[T, Click], None]:
        def listener(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
            ack()
            click = Click(body, respond, client)
            key: str | None = None
            try:
                value = _decoded(decode, action_value(body))
                if writes:
                    key = click_key(body)
                    if not once.first_time(key):
                        log.info("%s: a repeated click, ignored", name)
                        return
                work(value, click)
            except (Expired, QueryError, ValueError, KeyError) as exc:
                _release(once, key)
                message = exc.user_message if isinstance(exc, Expired) else EXPIRED
                click.say(message)
            except Exception:  # noqa: BLE001 - logged, and the user hears about it
                _release(once, key)
                apologise(lambda **kw: respond(response_type="ephemeral", replace_original=False, **kw), name)

        app.action(action_id)(listener)
        return work

    return register


def _decoded(decode: Callable[[str], T], value: str) -> T:
    """``decode(value)``, with every way a crafted value can break it turned into ``Expired``."""
    try:
        return decode(value)
    except Expired:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError):
        raise Expired() from None


def _release(once: Once, key: str | None) -> None:
    if key is None:
        return
    try:
        once.forget(key)
    except Exception:  # the claim then simply stays; logged
        log.exception("could not release a button claim")
