"""Every message and view the tests see is checked with slack_sdk's Block Kit models.

``Block.parse(...)`` must know each block (None for an unknown type), ``validate_json()`` enforces
Slack's per-field limits (section text 3,000, button value 2,000, option value 150, …), and the
round trip ``to_dict()`` must give the block back unchanged, so a misspelt or misplaced field (which
the models would drop) fails too. Surfaces: 50 blocks in a message, 100 in a modal or App Home
(``View.validate_json``: also title 24, private_metadata 3,000).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS = 50


def valid_blocks(blocks: list[dict[str, Any]]) -> None:
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), f"block ids repeat: {ids}"
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, f"unknown block: {raw}"
        block.validate_json()
        assert block.to_dict() == raw, f"Block Kit models do not read this block as written:\n{raw}\n{block.to_dict()}"


def valid_message(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` (a chat.postMessage / response_url body), checked; returned for chaining."""
    blocks = message.get("blocks") or []
    assert message.get("text"), "a message needs a fallback text"
    assert len(blocks) <= MESSAGE_BLOCKS
    valid_blocks(blocks)
    return message


def valid_view(view: dict[str, Any]) -> dict[str, Any]:
    """A modal or App Home view, checked; returned for chaining."""
    View(**view).validate_json()
    valid_blocks(view.get("blocks") or [])
    return view
