"""Block Kit quote cards, and the mrkdwn escaping that keeps transcript text inert.

Transcript text is untrusted: ``&``, ``<`` and ``>`` are escaped everywhere it
appears, so ``<!channel>`` in a transcript never pings anyone, and links are
only built from http(s) URLs with their control characters encoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from index.search import Answer, Hit
from index.text import format_clock
from index.tokens import term_spans

SECTION_LIMIT = 3000  # Slack's limit for a section's text
QUOTE_LIMIT = 2600  # the quote's own share of it, before markup
VALUE_LIMIT = 2000  # a button value

# Actions: one home for their ids.
POST = "quote_post"
NEXT = "quote_next"
PREVIOUS = "quote_previous"
CONTEXT = "quote_context"
OPEN = "quote_open"
EPISODE = "quote_episode"
MORE = "quote_more"
POST_THREAD = "quote_post_thread"  # the message shortcut's card: reply under the message
FEEDBACK = "quote_feedback"  # the overflow menu on every card: "Wrong speaker", "Wrong time"
FEEDBACK_KINDS = {"speaker": "Wrong speaker", "time": "Wrong time"}


def escape(text: str) -> str:
    """Text made inert for mrkdwn: only &, < and > are special (Slack's own rule)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_id(value: str) -> str:
    """A Slack id (``C0123``, ``U0123``) fit for ``<#…>`` and ``<@…>``: letters and digits only."""
    return "".join(ch for ch in value if ch.isalnum())


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for ``<url|label>`` and button URLs, or None."""
    if not url or len(url) > 3000:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?&=#%+@,;~*'()!$[]-._")


def cut(text: str, limit: int) -> str:
    """``text`` cut at a word boundary with "…" when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head[: head.rfind(" ")]
    return head.rstrip(" ,;:") + "…"


def highlighted(text: str, matched: list[str]) -> str:
    """Escaped mrkdwn with the matched words in bold."""
    spans = term_spans(text, set(matched))
    out, last = [], 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append(f"*{escape(text[start:end])}*")
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


@dataclass(frozen=True)
class State:
    """What a button needs to redo its search: the query, the hit's place, and the thread (a message
    shortcut's message ts) a "Post to thread" replies in."""

    query: str
    index: int
    thread: str | None = None

    def encode(self) -> str:
        data: dict = {"q": self.query, "i": self.index}
        if self.thread:
            data["t"] = self.thread
        value = json.dumps(data, separators=(",", ":"))
        if len(value) > VALUE_LIMIT:  # the query parser caps queries far below this
            raise ValueError("button state over Slack's 2,000-character limit")
        return value

    @classmethod
    def decode(cls, value: str) -> State:
        """The state a button carries, checked: ``{"q": str, "i": int, "t"?: str}`` with 0 <= i < ``INDEX_LIMIT``.

        Raises ValueError for anything else (not JSON, another shape, NaN, Infinity, a bool, a
        huge number, an over-long value): a crafted or stale value, never trusted.
        """
        if not isinstance(value, str) or len(value) > VALUE_LIMIT:
            raise ValueError("button value missing or over Slack's limit")
        try:
            data = json.loads(value, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError("button value nests too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("button value is not an object")
        query, index = data.get("q"), data.get("i")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("button value has no query")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < INDEX_LIMIT:
            raise ValueError("button value has no valid position")
        thread = data.get("t")
        if thread is not None and not (isinstance(thread, str) and len(thread) <= 40):
            raise ValueError("button value has a bad thread")
        return cls(query=query, index=index, thread=thread or None)


INDEX_LIMIT = 10_000  # far above any page of hits


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a position")


def attribution(hit: Hit) -> str:
    """The context line: speaker, linked timestamp, episode, podcast, date, chapter."""
    parts = [f"*{escape(hit.who)}*" if hit.who else "Unknown speaker"]
    if hit.start_s is not None:
        clock = format_clock(hit.start_s)
        link = safe_url(hit.url)
        parts.append(f"<{link}|{clock}>" if link else clock)
    for value in (hit.episode, hit.podcast, hit.published, hit.chapter):
        if value:
            parts.append(escape(cut(str(value), 200)))
    return " · ".join(parts)


def quoted(text: str, matched: list[str], limit: int = QUOTE_LIMIT) -> str:
    """``> text`` with matches in bold, cut at a word so that markup and all fit a section."""
    while True:
        out = "> " + highlighted(cut(text, limit), matched)
        if len(out) <= SECTION_LIMIT:
            return out
        limit -= len(out) - SECTION_LIMIT + 10


def feedback_menu(segment_id: int) -> dict:
    """The card's overflow menu: report a wrong speaker or a wrong time (value ``kind:segment id``)."""
    return {"type": "overflow", "action_id": FEEDBACK, "options": [
        {"text": {"type": "plain_text", "text": label}, "value": f"{kind}:{segment_id}"}
        for kind, label in FEEDBACK_KINDS.items()]}


def quote_blocks(hit: Hit, limit: int = QUOTE_LIMIT, *, feedback: bool = True) -> list[dict]:
    """The quote itself (with the feedback menu), its translation when the match came through it, and
    the context line."""
    blocks: list[dict] = [{
        "type": "section",
        "block_id": "quote_text",
        "text": {"type": "mrkdwn", "text": quoted(hit.text, hit.matched, limit), "verbatim": True},
    }]
    if feedback:
        blocks[0]["accessory"] = feedback_menu(hit.segment_id)
    if (
        hit.translation
        and _matched_through(hit.translation, hit.matched)
        and not _matched_through(hit.text, hit.matched)
    ):
        blocks.append(
            {
                "type": "section",
                "block_id": "quote_translation",
                "text": {"type": "mrkdwn", "text": quoted(hit.translation, hit.matched, limit), "verbatim": True},
            }
        )
    blocks.append(
        {
            "type": "context",
            "block_id": "quote_source",
            "elements": [{"type": "mrkdwn", "text": attribution(hit), "verbatim": True}],
        }
    )
    return blocks


def _matched_through(text: str, matched: list[str]) -> bool:
    return bool(term_spans(text, set(matched)))


def fallback(hit: Hit) -> str:
    """The plain-text version, for notifications and screen readers."""
    who = hit.who or "Unknown speaker"
    when = f" at {format_clock(hit.start_s)}" if hit.start_s is not None else ""
    where = f", {hit.episode}" if hit.episode else ""
    # the fallback is mrkdwn too: escaped like every other transcript string
    return escape(cut(f"“{hit.text}” — {who}{where}{when}", 2900))


def button(
    text: str, action_id: str, value: str | None = None, url: str | None = None, style: str | None = None
) -> dict:
    element: dict = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text[:75]}}
    if value is not None:
        element["value"] = value
    if url is not None:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def typed(text: str) -> str:
    """A typed word or phrase in a note: bold, escaped once, cut."""
    return f"*{escape(cut(text, 200))}*"


def notes_blocks(answer: Answer) -> list[dict]:
    """A context block of what was understood ("Showing results for …", words left out), or nothing."""
    notes = answer.notes(typed)
    if not notes:
        return []
    return [{"type": "context", "block_id": "quote_notes",
             "elements": [{"type": "mrkdwn", "text": cut(" ".join(notes), 2900), "verbatim": True}]}]


def answer_card(answer: Answer, index: int = 0, *, thread: bool = False, post_thread: str | None = None) -> dict:
    """The message for an ``Answer``: the help, a fix for a malformed query, an honest no-match that
    helps, or the ``index``-th hit's card (ephemeral, or a thread's with ``thread``), with notes.
    ``post_thread``: the ts of the message a shortcut was used on (the card gets "Post to thread")."""
    u = answer.understanding
    if answer.kind == "help":
        return message(HELP)
    if answer.kind == "error":
        return message(f"Cannot search that: {escape(u.error or '')}\n\n{SYNTAX}")
    if answer.kind == "none":
        return no_match(answer)
    index = max(0, min(index, len(answer.hits) - 1))
    hit, total = answer.hits[index], len(answer.hits)
    card = thread_card(hit, u.text, total) if thread else search_card(hit, u.text, index, total, thread=post_thread)
    card["blocks"] = notes_blocks(answer) + card["blocks"]
    return card


def search_card(hit: Hit, query: str, index: int, total: int, *, shareable: bool = True,
                thread: str | None = None) -> dict:
    """The ephemeral answer to /quote: the card, its buttons and "n of N". With ``thread`` (the ts of
    the message a shortcut was used on) it also has "Post to thread"."""
    state = State(query, index, thread)
    buttons = []
    if thread:
        buttons.append(button("Post to thread", POST_THREAD, state.encode(), style="primary"))
    if shareable:
        buttons.append(button("Post to channel", POST, state.encode(), style=None if thread else "primary"))
    if index > 0:
        buttons.append(button("Previous", PREVIOUS, State(query, index - 1, thread).encode()))
    if index + 1 < total:
        buttons.append(button("Next", NEXT, State(query, index + 1, thread).encode()))
    buttons.append(button("Show context", CONTEXT, state.encode()))
    link = safe_url(hit.url)
    if link and hit.start_s is not None:
        buttons.append(button(f"Open at {format_clock(hit.start_s)}", OPEN, url=link))
    blocks = [
        *quote_blocks(hit),
        {"type": "actions", "block_id": "quote_buttons", "elements": buttons},
        {
            "type": "context",
            "block_id": "quote_count",
            "elements": [
                {"type": "mrkdwn", "text": f"{index + 1} of {total} · {escape(cut(query, 200))}", "verbatim": True}
            ],
        },
    ]
    return {"text": fallback(hit), "blocks": blocks}


def shared_card(hit: Hit, user_id: str) -> dict:
    """The card as posted to the channel, saying who shared it."""
    blocks = [
        *quote_blocks(hit),
        {
            "type": "context",
            "block_id": "quote_shared",
            "elements": [{"type": "mrkdwn", "text": f"Shared by <@{slack_id(user_id)}> with /quote"}],
        },
    ]
    link = safe_url(hit.url)
    if link and hit.start_s is not None:
        blocks.insert(-1, {"type": "actions", "block_id": "quote_buttons",
                           "elements": [button(f"Open at {format_clock(hit.start_s)}", OPEN, url=link)]})
    return {"text": fallback(hit), "blocks": blocks}


def thread_card(hit: Hit, query: str, total: int) -> dict:
    """The reply to a mention: the best card and a More button."""
    blocks = quote_blocks(hit)
    elements = []
    if total > 1:
        elements.append(button(f"More ({total - 1})", MORE, State(query, 1).encode()))
    link = safe_url(hit.url)
    if link and hit.start_s is not None:
        elements.append(button(f"Open at {format_clock(hit.start_s)}", OPEN, url=link))
    if elements:
        blocks.append({"type": "actions", "block_id": "quote_buttons", "elements": elements})
    return {"text": fallback(hit), "blocks": blocks}


def context_blocks(segments: list, hit_id: int) -> list[dict]:
    """The segments around a hit, the hit itself marked."""
    lines = []
    for seg in segments:
        clock = format_clock(seg.start_s) if seg.start_s is not None else ""
        who = escape(seg.who) if seg.who else "Unknown speaker"
        text = escape(cut(seg.text, 900))
        mark = "▶ " if seg.id == hit_id else ""
        lines.append(f"{mark}*{who}* {clock}\n{text}")
    return [{"type": "section", "block_id": "quote_context",
             "text": {"type": "mrkdwn", "text": cut("\n\n".join(lines), SECTION_LIMIT), "verbatim": True}}]


def message(text: str) -> dict:
    """A short plain message (help, no match, errors), escaped."""
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


SYNTAX = (
    "• `/quote export controls`, or ask: `/quote what did dylan say about tsmc?`\n"
    "• `/quote \"export controls\"`: that exact phrase\n"
    "• `/quote chips speaker:dylan`, `speaker:\"Dylan Patel\"`: by a speaker; `speaker:dylan` alone lists theirs\n"
    "• `/quote chips episode:459`, `podcast:\"latent space\"`: from an episode or podcast\n"
    "• `/quote chips -china`, `after:2025-01-01`: leave words out, newer episodes only\n"
    "• `/quote tariffs OR sanctions`: either one\n"
    "• `/quote at:1:23:45 episode:459`, or paste a link with `t=`: what was said at that moment"
)
HELP = (
    "*Quote the podcasts your team cares about.*\n" + SYNTAX + "\n"
    "Mention me in a thread (`@quotebot export controls`) to answer there.\n"
    "`/quote digest help`: a daily digest of quotes in this channel."
)


def no_match(answer: Answer) -> dict:
    """An honest no-match that helps: which words matched nothing, a correction, a filter to drop."""
    text = f"No quote matched `{escape(cut(answer.understanding.text, 200))}`."
    notes = answer.notes(typed)
    return message(cut(" ".join([text, *notes]), SECTION_LIMIT))
