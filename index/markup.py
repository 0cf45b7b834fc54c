"""Chat markup read as the person meant it: Slack's text format, decoded once, before a query is understood.

Slack is one input format of a query, as a transcript file is one input format of a cue: this module
knows its text markup, nothing else of Slack. What it does (Slack's "Formatting text for app
surfaces" and "Basic formatting with mrkdwn", https://api.slack.com/reference/surfaces/formatting):

- ``<!channel>``, ``<!here>``, ``<!everyone>`` and user-group mentions are dropped (never searched,
  never echoed as a ping); ``<!date^…|fallback>`` becomes its fallback text;
- ``<@U123|bob>`` becomes ``bob``, ``<@U123>`` is dropped; channel links ``<#C123|general>`` are dropped;
- ``<https://url|label>`` becomes its label, ``<https://url>`` the URL (a timestamped link is a query);
- ``&amp;``, ``&lt;``, ``&gt;``, which Slack sends for the ``&``, ``<`` and ``>`` a person typed, become
  those characters again (after the ``<…>`` entities above are read, so typed brackets stay text);
- ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, fenced code and ``>`` quote markers lose their
  markers; ``:emoji:`` codes (``:thumbsup:``, ``:+1::skin-tone-2:``) are dropped;
- curly quotes ``“ ” „ « »`` become ``"``; ``‘ ’ ‚`` become ``'``; non-breaking and zero-width spaces become
  plain spaces or nothing.
"""

from __future__ import annotations

import re

_ENTITY = re.compile(r"<([^<>\n]*)>")
_EMOJI = re.compile(r"(?<![\w:]):[a-z0-9_+'-]*[a-z+][a-z0-9_+'-]*:(?:(?<=:):[a-z0-9_'-]+:)*(?![\w])", re.I)
_FENCE = re.compile(r"```")
_QUOTE_MARK = re.compile(r"(?m)^\s*(?:&gt;|>)+\s?")
# a marker pair around words: *bold*, _italic_, ~strike~, `code` (not inside a word: snake_case stays)
_WRAPPED = re.compile(r"(?<![\w*_~`])([*_~`])(?=\S)(.+?)(?<=\S)\1(?![\w*_~`])")
_QUOTES = str.maketrans({
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
})


def plain_text(text: str) -> str:
    """The words a person typed in a Slack message, without Slack's markup (see the module docstring).

    Idempotent on plain text without markup; whitespace is collapsed to single spaces.
    """
    text = _ENTITY.sub(_entity, text or "")
    text = _QUOTE_MARK.sub(" ", text)  # before &gt; becomes ">": a typed ">" mid-line stays
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _FENCE.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    for _ in range(3):  # nested: *_both_*
        unwrapped = _WRAPPED.sub(r"\2", text)
        if unwrapped == text:
            break
        text = unwrapped
    return " ".join(text.translate(_QUOTES).split())


def _entity(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        return f" {label} " if target.startswith("!date") and label else " "
    if target.startswith("@"):
        return f" {label.lstrip('@')} " if label else " "
    if target.startswith("#"):
        return " "
    if re.match(r"(?:https?|mailto|tel):", target):
        return f" {label or target} "
    return match.group(0)  # not Slack's: a "<" the person typed and a client left unescaped
