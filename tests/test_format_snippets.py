"""Scraped "podcast appearances" pages (seed 004): chrome, de-duplication, no speaker."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.formats import snippets

from .fuzzing import EDITS, FUZZ, edit_lines

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"
SEED = next(SAMPLES.glob("004_*.txt"))
TEXT = SEED.read_text(encoding="utf-8")
EPISODE = "#459 – DeepSeek, China, OpenAI, NVIDIA, xAI, TSMC, Stargate, and AI Megaclusters"


@pytest.fixture(scope="module")
def seed():
    return snippets.parse(TEXT)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def test_detected_and_only_004_claimed():
    assert formats.detect(TEXT).NAME == "snippets"
    for other in SAMPLES.glob("00[0123]_*.txt"):
        assert not snippets.sniff(other.read_text(encoding="utf-8")), other.name


def test_one_episode_with_374_unique_snippets(seed):
    [t] = seed
    assert t.podcast == "Lex Fridman Podcast"
    assert t.title == EPISODE and t.title.startswith("#459")
    assert len(t.cues) == 374
    assert len({_norm(c.text) for c in t.cues}) == 374
    assert t.separate_cues


def test_every_snippet_of_the_page_is_kept_once_in_page_order(seed):
    # Independent reading: the paragraph after each episode line.
    lines = TEXT.splitlines()
    found = [lines[i + 2].strip() for i, line in enumerate(lines) if line == EPISODE]
    assert len(found) == 1122  # each snippet three times on the page
    first_seen = list(dict.fromkeys(_norm(s) for s in found))
    assert [_norm(c.text) for c in seed[0].cues] == first_seen


def test_no_chrome_no_speaker_no_times(seed):
    [t] = seed
    for cue in t.cues:
        for chrome in ("Sign In", "👤", "appearances", "Podcast Appearances", "Menu"):
            assert chrome not in cue.text
        assert cue.text not in ("Dylan Patel", "Lex Fridman Podcast", EPISODE)
        assert cue.speaker is None and cue.start_s is None and cue.end_s is None and not cue.turn
    assert t.speakers == []
    assert any("'Dylan Patel' is not used as speaker" in w for w in t.warnings)


def test_lowercase_copies_kept_as_written(seed):
    # Some snippets come from another transcription, all lowercase.
    assert any(c.text.startswith("for your kv cache") for c in seed[0].cues)


PAGE = """Menu
Sign In Search Podcasts

Jane Doe

👤 Person
7 appearances

Podcast Appearances

Show One
Ep 1 – Hello

First snippet about chips.

Show One
Ep 1 – Hello

first   snippet about CHIPS.

Show Two
#12 – Other things

A snippet from the second show.

Show One
Ep 1 – Hello

Second snippet of show one.

Show Two
#12 – Other things

A snippet from the second show.

Show One
Ep 2 – Again

A snippet from episode two.
"""


def test_fixture_two_podcasts():
    assert snippets.sniff(PAGE)
    ts = snippets.parse(PAGE)
    assert [(t.podcast, t.title) for t in ts] == [
        ("Show One", "Ep 1 – Hello"), ("Show Two", "#12 – Other things"), ("Show One", "Ep 2 – Again"),
    ]
    assert [c.text for c in ts[0].cues] == ["First snippet about chips.", "Second snippet of show one."]
    assert [c.text for c in ts[1].cues] == ["A snippet from the second show."]
    assert [c.text for c in ts[2].cues] == ["A snippet from episode two."]
    assert all(c.speaker is None for t in ts for c in t.cues)
    assert "Jane Doe" in " ".join(ts[0].warnings)


def test_not_claimed():
    assert not snippets.sniff("")
    assert not snippets.sniff("Just one paragraph.\n\nAnd another one.\n")
    # A two-line heading repeated twice is not a page of snippets.
    assert not snippets.sniff("A\nB\n\ntext\n\nA\nB\n\nmore\n\nprose\n\nprose\n\nprose\n\nprose\n")
    # "Name / text" paragraphs, one of them repeated, are a transcript, not snippets.
    dialogue = "".join(f"Alice\nPoint {i}, and\nmore.\n\nBob\nYeah.\n\n" for i in range(5))
    assert not snippets.sniff(dialogue)


def test_no_blocks_is_an_error():
    with pytest.raises(TranscriptError):
        snippets.parse("Menu\nSign In\n\nNobody\n")


# --- fuzz: any input returns transcripts or raises TranscriptError ---------

EXCERPT = "\n".join(TEXT.splitlines()[:60])



def _check(text: str) -> None:
    snippets.sniff(text)
    try:
        result = snippets.parse(text)
    except TranscriptError:
        return
    assert result
    for t in result:
        assert all(c.speaker is None and c.text for c in t.cues)
        keys = [_norm(c.text) for c in t.cues]
        assert len(keys) == len(set(keys))


@FUZZ
@given(st.text(max_size=400))
def test_fuzz_random_text(text):
    _check(text)


@FUZZ
@given(st.lists(st.sampled_from(["A", "B", "\n", "\n\n", "x y", "👤 Person", "3 appearances", " "]), max_size=60))
def test_fuzz_block_alphabet(tokens):
    _check("".join(tokens))


@FUZZ
@given(EDITS)
def test_fuzz_edited_seed(edits):
    _check(edit_lines(EXCERPT.splitlines(), edits))

