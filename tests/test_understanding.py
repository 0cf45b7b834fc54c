"""Queries typed the way people type in Slack, through signed HTTP to the running app, asserted on the card.

One test per row of issue 13's table, then the forms around them: escaping, honest no-matches,
filters alone, OR, moments, and no-matches that help.
"""

from __future__ import annotations

import time

import pytest

from bot.localslack import event_body
from handlers import cards

from . import test_slack
from .test_slack import all_text, buttons_of, command, send

bot = test_slack.bot  # the running app on real HTTP (a module-scoped fixture), as tests/test_slack.py stands it up


def block(message: dict, block_id: str) -> str:
    found = next((b for b in message["blocks"] if b.get("block_id") == block_id), None)
    if found is None:
        return ""
    return found["text"]["text"] if "text" in found else found["elements"][0]["text"]


def quote_of(message: dict) -> str:
    return block(message, "quote_text")


def source_of(message: dict) -> str:
    return block(message, "quote_source")


def mention(url: str, slack, text: str, n: int) -> dict:
    slack.clear()
    ts = f"17000{n:05d}.000100"
    event = {"type": "app_mention", "user": "U123", "channel": "C42", "ts": ts, "text": text, "event_ts": ts}
    assert send(url, event_body(event, event_id=f"EvU13-{n}"), json_body=True).status_code == 200
    [post] = slack.wait_for("chat.postMessage", 1, timeout=10)
    return post.body


# --- the table ------------------------------------------------------------------------------

def test_channel_ping_is_dropped_and_export_controls_are_found(bot):
    url, slack, _ = bot
    message = command(url, slack, "<!channel> export controls")
    quote = quote_of(message).lower()
    assert "*export*" in quote and "*control" in quote
    assert "channel" not in block(message, "quote_count")  # echoed without the ping
    assert "<!channel>" not in all_text(message)


@pytest.mark.parametrize(("text", "word"), [
    ("*bold* taiwan", "taiwan"),
    (":thumbsup: GPT-4", "gpt-4"),
    ("<@U123|bob> `code` _tsmc_", "tsmc"),
])
def test_markup_emoji_and_mentions_search_the_words_meant(bot, text, word):
    url, slack, _ = bot
    message = command(url, slack, text)
    assert "No quote matched" not in message["text"]
    assert f"*{word}" in quote_of(message).lower()
    for raw in ("*bold*", ":thumbsup:", "<@U123", "`code`"):
        assert raw not in block(message, "quote_count")


def test_a_word_no_transcript_has_is_left_out_and_named(bot):
    url, slack, _ = bot
    message = command(url, slack, "taiwan zorblax")
    assert "*taiwan*" in quote_of(message).lower()
    notes = block(message, "quote_notes")
    assert "*zorblax*" in notes and "Left out" in notes


def test_typos_are_corrected_when_clear(bot):
    url, slack, _ = bot
    message = command(url, slack, "exprot contrls")
    notes = block(message, "quote_notes")
    assert "Showing results for *export controls*" in notes and "exprot" in notes and "contrls" in notes
    assert "*export*" in quote_of(message).lower()
    # the "search instead" keeps the words that were right, the typo quoted
    notes = block(command(url, slack, "tsmc taiwn"), "quote_notes")
    assert "Showing results for *tsmc taiwan*" in notes and 'search instead for *tsmc "taiwn"*' in notes
    # four letters are too few to correct, but two letters swapped are suggested
    no_match = command(url, slack, "tmsc")
    assert "Did you mean *tsmc*?" in no_match["text"]
    karpathy = command(url, slack, "karpaty")
    assert "No quote matched" not in karpathy["text"] and "karpathy" in block(karpathy, "quote_notes").lower()
    assert "Karpathy" in source_of(karpathy)


def test_a_question_names_its_speaker(bot):
    url, slack, _ = bot
    message = command(url, slack, "what did dylan say about tsmc and taiwan")
    assert source_of(message).startswith("*Dylan Patel*")
    quote = quote_of(message).lower()
    # the first card holds both words asked about, not one of them repeated
    assert "*tsmc*" in quote and "*taiwan*" in quote
    assert "Dylan Patel" in block(message, "quote_notes")


def test_a_person_named_with_a_topic_keeps_the_topic(bot):
    """Karpathy's turns are mostly unnamed in the seeds, so "what does karpathy think about
    reinforcement learning" finds nothing said by him: it falls back to his own episode's quotes on
    the topic (saying so), not to segments that merely mention his name."""
    url, slack, _ = bot
    for text in ("what does karpathy think about reinforcement learning", "karpathy reinforcement learning"):
        message = command(url, slack, text)
        quote = quote_of(message).lower()
        assert "*reinforcement*" in quote and "*learning*" in quote, text
        assert "*karpathy*" not in quote
        notes = block(message, "quote_notes")
        assert "Nothing from *Andrej Karpathy* matched; these are from *Andrej Karpathy" in notes, notes
        assert "summoning ghosts" in source_of(message)
    # a topic his episode lacks: anyone's quotes on it, said so
    message = command(url, slack, "what does karpathy think about export controls")
    assert "*export controls*" in quote_of(message).lower() or "*export*" in quote_of(message).lower()
    assert "these are from anyone" in block(message, "quote_notes")


def test_a_request_finds_what_was_said_about_it(bot):
    url, slack, _ = bot
    message = command(url, slack, "help me find scaling laws")
    quote = quote_of(message)
    assert "*scaling*" in quote.lower() and "scaling law shirt" not in quote
    assert "*help*" not in quote.lower() and "*find*" not in quote.lower()


def test_export_controls_gives_a_statement_worth_posting(bot):
    url, slack, _ = bot
    quote = quote_of(command(url, slack, "export controls"))
    assert "*export controls*" in quote.lower() or ("*export*" in quote.lower() and "*controls*" in quote.lower())
    assert not quote.rstrip().endswith("?") and "Can we take this actual tangent" not in quote


def test_curly_quotes_from_a_phone_work_as_straight_ones(bot):
    url, slack, _ = bot
    curly = command(url, slack, "speaker:“Dylan Patel” tsmc")
    straight = command(url, slack, 'speaker:"Dylan Patel" tsmc')
    assert source_of(curly).startswith("*Dylan Patel*")
    assert curly["blocks"][0] == straight["blocks"][0]


def test_emoji_alone_say_what_to_type(bot):
    """An emoji code, an emoji or punctuation alone: one clear answer, the same for each."""
    url, slack, _ = bot
    for text in (":fire:", "🔥", "??? !!!", "<!here>"):
        message = command(url, slack, text)
        assert "Cannot search that: emoji, punctuation and mentions are not searched; type a few words" in (
            message["text"]
        ), text
    assert "No quote matched" not in command(url, slack, "🔥 tsmc")["text"]


def test_mention_help_answers_with_the_help(bot):
    url, slack, _ = bot
    for n, text in enumerate(["<@U0QUOTEBOT> help", "<@U0QUOTEBOT>"]):
        post = mention(url, slack, text, n)
        assert "speaker:" in post["text"] and "Quote the podcasts" in post["text"]
        assert not any(b.get("block_id") == "quote_text" for b in post["blocks"])


def test_a_filter_with_no_value_says_how_to_write_it(bot):
    url, slack, _ = bot
    message = command(url, slack, "speaker:")
    assert "No quote matched" not in message["text"]
    assert "speaker:dylan" in message["text"] and "Dylan Patel" in message["text"]


# --- markup and escaping -----------------------------------------------------------------------

def test_an_ampersand_is_read_and_echoed_escaped_once(bot):
    url, slack, _ = bot
    message = command(url, slack, "tsmc &amp; intel")
    assert "*intel*" in quote_of(message).lower() or "*tsmc*" in quote_of(message).lower()
    assert "tsmc &amp; intel" in block(message, "quote_count") and "&amp;amp;" not in all_text(message)
    nothing = command(url, slack, "zorblax &amp; quuxly &lt;!channel&gt;")
    assert "&amp;amp;" not in nothing["text"] and "<!channel>" not in nothing["text"]
    assert "zorblax &amp; quuxly &lt;!channel&gt;" in nothing["text"]  # what was typed, escaped once


def test_mention_reads_markup_too(bot):
    url, slack, _ = bot
    post = mention(url, slack, "<@U0QUOTEBOT> <!here> *what did nathan say about RLHF?*", 7)
    assert source_of(post).startswith("*Nathan Lambert*") and "*rlhf*" in quote_of(post).lower()


# --- the honest no-match --------------------------------------------------------------------

ABSENT = [
    "what is the best pizza in naples",
    "<!here> wedding dress alterations",
    "sourdough starter recipe",
    "how do i change a car tire",
    "best hiking trails in colorado",
    "knitting patterns for beginners",
    "what did dylan say about knitting",
    "taylor swift concert tickets",
    "gluten free bread recipe",
    "quotes about gardening tomatoes",
    "is it true that cats purr?",
    "volcano eruption iceland",
    "medieval castle architecture",
    "recipe for lasagna",
    "the history of jazz music",
    "help me find crochet tips",
    "what does nathan think about ballet",
    "divorce lawyer fees",
    "scuba diving certification",
    "*moon landing hoax*",
    ":pizza: best margherita in naples",
    "who makes the best espresso machines",
]


@pytest.mark.parametrize("text", ABSENT)
def test_absent_topics_get_an_honest_no_match(bot, text):
    url, slack, _ = bot
    message = command(url, slack, text)
    assert message["text"].startswith("No quote matched")
    assert not any(b.get("block_id") == "quote_text" for b in message["blocks"])


# --- filters and forms ----------------------------------------------------------------------

def test_a_filter_alone_lists_that_speakers_quotes(bot):
    url, slack, _ = bot
    message = command(url, slack, "speaker:dylan")
    assert source_of(message).startswith("*Dylan Patel*")
    # it opens on a timed quote-length segment: untimed and shorter turns come after such ones
    assert buttons_of(message)[cards.OPEN]["text"]["text"].startswith("Open at ")
    assert 20 <= len(quote_of(message).removeprefix("> ").split()) <= 80, quote_of(message)
    assert block(message, "quote_count").startswith("1 of ")
    second = buttons_of(message)[cards.NEXT]
    assert second  # pages like any search


def test_or_finds_either_side(bot):
    url, slack, lib = bot
    both = lib.search("huawei OR lithography", limit=20)
    assert any("huawei" in h.text.lower() for h in both) and any("lithograph" in h.text.lower() for h in both)
    message = command(url, slack, "huawei OR lithography")
    assert "*huawei*" in quote_of(message).lower() or "*lithograph" in quote_of(message).lower()


def test_at_a_moment_of_an_episode_and_a_pasted_link(bot):
    url, slack, _ = bot
    message = command(url, slack, "at:1:23:45 episode:459")
    assert "01:23:" in source_of(message) or "01:22:" in source_of(message)
    link = command(url, slack, "https://www.youtube.com/watch?v=_1f-o0nqpEI&amp;t=3537s")
    assert "00:58:" in source_of(link) or "00:59:" in source_of(link)
    unknown = command(url, slack, "at:1:00:00 episode:zzzz")
    assert unknown["text"].startswith("No quote matched")
    past_end = command(url, slack, "at:99:00:00 episode:459")  # the episode lasts about 5 h
    assert past_end["text"].startswith("No quote matched")


def test_every_no_match_helps(bot):
    url, slack, _ = bot
    emptied = command(url, slack, "export controls speaker:swyx")
    assert "No quote matched" in emptied["text"] and "Without *speaker:swyx*" in emptied["text"]
    absent = command(url, slack, "lasagna")
    assert "*lasagna*" in absent["text"]
    vague = command(url, slack, "zzzz")
    assert "No quote matched" in vague["text"] and "*zzzz*" in vague["text"]


def test_buttons_page_through_what_the_query_meant(bot):
    url, slack, _ = bot
    first = command(url, slack, "exprot contrls")
    reply = slack.response_url()
    from bot.localslack import block_actions_body

    nxt = buttons_of(first)[cards.NEXT]
    send(url, block_actions_body(nxt["action_id"], nxt["value"], user_id="U1", response_url=reply))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not [c for c in slack.calls("response_url") if reply.endswith(c.path)]:
        time.sleep(0.02)
    [second] = [c.body for c in slack.calls("response_url") if reply.endswith(c.path)]
    assert block(second, "quote_count").startswith("2 of ") and "*export" in quote_of(second).lower()


def test_a_cards_own_link_finds_that_card(bot):
    """A link floors a segment's start (t=3778 for 3778.4 s): pasting it, or ``at:`` that second,
    gives the segment that starts inside that second, never the one before it."""
    url, slack, lib = bot
    hits = [h for h in lib.search("export controls", limit=10) if h.url and "youtube" in h.url]
    assert hits
    for hit in hits[:3]:
        pasted = command(url, slack, hit.url.replace("&", "&amp;"))
        assert " ".join(hit.text.split()[:6]) in quote_of(pasted).replace("*", ""), (hit.url, hit.text)
    for episode in lib.store.episodes():
        timed = [s for s in lib.store.segments_of(episode.id) if s.start_s is not None]
        starts = {int(s.start_s) for s in timed}
        for seg in timed[:: max(1, len(timed) // 200)]:
            found = lib.store.segment_at(episode.id, int(seg.start_s))
            assert found is not None and int(found.start_s) == int(seg.start_s), (episode.id, seg.start_s)
        assert starts  # every sampled second found a segment starting in it
