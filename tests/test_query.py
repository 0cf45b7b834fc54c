"""The query language: every form parses into the typed Query; every mistake gets a clear message."""

from __future__ import annotations

import datetime as dt

import pytest

from index.query import MAX_QUERY_CHARS, Query, QueryError, parse_query


def test_words_phrases_filters_and_exclusions():
    q = parse_query('export "cold war" speaker:"Dylan Patel" episode:459 podcast:"latent space" '
                    '-china -"trade war" after:2025-01-01 before:2025-12-31')
    assert q == Query(
        words=("export",), phrases=("cold war",), excluded_words=("china",), excluded_phrases=("trade war",),
        speaker="Dylan Patel", episode="459", podcast="latent space",
        after=dt.date(2025, 1, 1), before=dt.date(2025, 12, 31),
    )
    assert q.search_text == "export cold war"
    assert q.has_filters


def test_filter_keys_are_case_insensitive_and_words_may_hold_colons():
    q = parse_query("Speaker:dylan 10:30 GPT-4 o3-mini")
    assert q.speaker == "dylan" and q.words == ("10:30", "GPT-4", "o3-mini")
    assert parse_query("https://youtu.be/x?t=3 hello").words == ("https://youtu.be/x?t=3", "hello")


@pytest.mark.parametrize(
    ('text', 'message'),
    [
        ('"export controls', "unclosed quote"),
        ("foo:bar chips", "unknown filter 'foo:'"),
        ("chips after:yesterday", "after:YYYY-MM-DD"),
        ("chips before:2025-13-01", "before:YYYY-MM-DD"),
        ('chips speaker:""', "'speaker:' needs a value"),
        ("chips speaker:a speaker:b", "given twice"),
        ("chips -speaker:dylan", "cannot be negated"),
        ("after:2025-01-01", "add some words"),
        ("speaker:", "'speaker:' needs a value right after the colon"),
        ("speaker: dylan", "(no space)"),
        ("at:1:23:45", "'at:' needs an episode"),
        ("at:1:77:00 episode:459", "at:h:mm:ss"),
        ("-china", "add some words"),
        ('""', "empty phrase"),
        ("chips after:2025-06-01 before:2025-01-01", "swap them"),
        ("x" * (MAX_QUERY_CHARS + 1), "too long"),
    ],
)
def test_malformed_queries_say_what_to_do(text, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_query(text)


def test_a_filter_alone_or_and_at_are_queries():
    assert parse_query("speaker:dylan").speaker == "dylan"
    q = parse_query('tariffs OR "export controls" china')
    assert q.alternatives == (("tariffs",), ('"export controls"', "china"))
    assert parse_query("tariffs or sanctions").alternatives == ()  # only a capital OR
    assert parse_query("at:1:23:45 episode:459").at_s == 5025.0
    assert parse_query("at:83:05 episode:459").at_s == 83 * 60 + 5
