"""Posting what nobody asked for right then (digests, alerts): into a channel, and finding it again.

``post`` joins a public channel the bot is not in yet and posts again. ``posted_before`` reads the
channel's recent history for a post of ours whose message metadata ``matches``: how a process that
takes over a dead holder's claim learns whether the post went out before the holder died.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("quotebot.posting")


def post(client: WebClient, channel: str, message: dict[str, Any], metadata: dict[str, Any]) -> str:
    """chat.postMessage without unfurls, with ``metadata``; the message's ts. Raises SlackApiError."""
    kwargs = dict(channel=channel, unfurl_links=False, unfurl_media=False, metadata=metadata, **message)
    try:
        return str(client.chat_postMessage(**kwargs)["ts"])
    except SlackApiError as exc:
        if exc.response.get("error") != "not_in_channel":
            raise
        client.conversations_join(channel=channel)  # a public channel: join it, then post
        return str(client.chat_postMessage(**kwargs)["ts"])


def posted_before(client: WebClient, channel: str, event_type: str, matches: Callable[[dict], bool]) -> str | None:
    """The ts of a recent post in ``channel`` whose metadata has ``event_type`` and a payload that
    ``matches``, or None (also when the history cannot be read: then posting again is the lesser harm)."""
    try:
        history = client.conversations_history(channel=channel, limit=50, include_all_metadata=True)
    except SlackApiError as exc:
        log.warning("could not read %s's history to look for an earlier post (%s); posting",
                    channel, exc.response.get("error"))
        return None
    messages: list[dict[str, Any]] = history.get("messages") or []
    for message in messages:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == event_type and matches(meta.get("event_payload") or {}):
            return message.get("ts")
    return None
