"""Speaker-labelled transcripts (seed 003 and the plain ``Name:`` styles)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.formats import speaker_md

from .fuzzing import EDITS, FUZZ, edit_lines

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"
SEED = next(SAMPLES.glob("003_*.txt"))
TEXT = SEED.read_text(encoding="utf-8")
HEADING = re.compile(r"^(?:#{2,3} )?\*\*([A-Za-z ]+)\*\*\s*$")
MARKER = re.compile(r"\[inaudible (\d\d):(\d\d):(\d\d)\]")
TERMINAL = tuple(".?!…-\"”")


@pytest.fixture(scope="module")
def seed():
    [transcript] = speaker_md.parse(TEXT)
    return transcript


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def test_detected_and_only_003_claimed():
    assert formats.detect(TEXT).NAME == "speaker-md"
    for other in SAMPLES.glob("00[0124]_*.txt"):
        assert not speaker_md.sniff(other.read_text(encoding="utf-8")), other.name


def test_headings_become_turns(seed):
    headings = [m.group(1) for line in TEXT.splitlines() if (m := HEADING.match(line))]
    assert len(headings) == 790
    turns = [c for c in seed.cues if c.turn]
    assert len(turns) == 790
    assert [c.speaker for c in turns] == headings
    assert seed.speakers == list(dict.fromkeys(headings)) == ["Lex Fridman", "Nathan Lambert", "Dylan Patel"]
    assert {c.speaker for c in seed.cues} == {"Lex Fridman", "Nathan Lambert", "Dylan Patel"}


def test_title_is_metadata_not_a_speaker(seed):
    assert seed.title == (
        "Lex Fridman Podcast #459 - DeepSeek, China, OpenAI, NVIDIA, xAI, TSMC, Stargate, and AI Megaclusters"
    )
    assert seed.podcast == "Lex Fridman Podcast"
    assert seed.published == dt.date(2025, 2, 3)
    assert seed.title not in seed.speakers
    assert seed.cues[0].speaker == "Lex Fridman"
    assert seed.cues[0].text.startswith("The following is a conversation with Dylan Patel and Nathan Lambert.")
    for cue in seed.cues:
        for chrome in ("Transcribed by", "thepodtranscripts", "Published -", "**", "Megaclusters"):
            assert chrome not in cue.text, chrome
    assert seed.warnings == []


def test_text_is_every_body_word_once(seed):
    # Independent reading: body paragraphs minus headings, markers and markdown.
    body = TEXT.split("Transcribed by", 1)[1].split("\n", 1)[1]
    words = []
    for para in _paragraphs(body):
        if HEADING.match(para):
            continue
        para = re.sub(r"\s*" + MARKER.pattern, "", para)
        words.extend(para.replace("\\_", "_").replace("\\*", "*").replace("`", "").split())
    got = " ".join(c.text for c in seed.cues).split()
    assert len(words) > 55_000
    assert got == words
    assert any("the whole Q* rumors" in c.text for c in seed.cues)


def test_page_breaks_are_rejoined(seed):
    texts = [c.text for c in seed.cues]
    assert any("before these techniques of post-training. Most people" in t for t in texts)
    assert any("And then what DeepSeek did is they've done" in t for t in texts)
    assert any('Gemini 2.0 Flash Thinking said, "Humans are not just' in t for t in texts)
    # Every lowercase paragraph after an unfinished one (not a heading) in the
    # source starts mid-cue, never a cue of its own.
    paras = _paragraphs(TEXT)
    breaks = [b for a, b in itertools.pairwise(paras)
              if b[0].islower() and not HEADING.match(a) and not a.endswith(TERMINAL)]
    assert len(breaks) == 59  # the research notes said 48; 59 measured here
    starts = {t[:40] for t in texts}
    for b in breaks:
        head = MARKER.sub("", b)[:40]
        assert head not in starts
    for a, b in itertools.pairwise(seed.cues):
        if not b.turn:
            assert not (b.text[0].islower() and not a.text.endswith(TERMINAL)), (a.text[-40:], b.text[:40])


def test_inaudible_markers_are_anchors(seed):
    expected = [int(h) * 3600 + int(m) * 60 + int(s) for h, m, s in MARKER.findall(TEXT)]
    assert len(expected) == 16
    assert [s for _, s, _ in seed.anchors] == expected
    assert seed.anchors[0][1] == 4477.0  # 01:14:37
    assert seed.cues[seed.anchors[0][0]].text == "It's a physical constraint."
    for cue in seed.cues:
        assert "inaudible" not in cue.text and "[" not in cue.text
    # Each anchor points at the cue holding the words just before its marker.
    for (index, _, _), m in zip(seed.anchors, MARKER.finditer(TEXT)):
        before = TEXT[: m.start()].split()[-3:]
        assert " ".join(before).rstrip("[") in seed.cues[index].text
    indices = [i for i, _, _ in seed.anchors]
    assert indices == sorted(indices)


# --- plain styles -------------------------------------------------------------

COLON = """Interview notes

Alice: Hello there, welcome to the show.
Bob: Thanks for having me.

Alice: So, tell me about chips.
Bob: Well: it is complicated.
They are small and

they are everywhere.
"""

PAREN = """Alice (00:01:02): Hello there.
Bob (01:05): Hi, Alice.

Alice (1:02:03.5): Bye now.
"""

BRACKET = """[00:01:23] Alice: Hello.
[00:01:30] Bob: Hi.
[01:00:00] Alice: Bye.
"""


def _rows(text: str) -> list[tuple[str | None, float | None, bool, str]]:
    [t] = speaker_md.parse(text)
    # Otter's "Speaker 1" is a diarization label (Cue.label), shown as it is written.
    return [(c.speaker or c.label, c.start_s, c.turn, c.text) for c in t.cues]


def test_name_colon_lines():
    assert speaker_md.sniff(COLON)
    assert _rows(COLON) == [
        (None, None, False, "Interview notes"),
        ("Alice", None, True, "Hello there, welcome to the show."),
        ("Bob", None, True, "Thanks for having me."),
        ("Alice", None, True, "So, tell me about chips."),
        ("Bob", None, True, "Well: it is complicated. They are small and they are everywhere."),
    ]


def test_name_time_colon_lines():
    assert speaker_md.sniff(PAREN)
    assert _rows(PAREN) == [
        ("Alice", 62.0, True, "Hello there."),
        ("Bob", 65.0, True, "Hi, Alice."),
        ("Alice", 3723.5, True, "Bye now."),
    ]


def test_bracket_time_name_lines():
    assert speaker_md.sniff(BRACKET)
    assert _rows(BRACKET) == [
        ("Alice", 83.0, True, "Hello."),
        ("Bob", 90.0, True, "Hi."),
        ("Alice", 3600.0, True, "Bye."),
    ]


def test_otter_and_bold_inline_styles():
    otter = "Speaker 1  0:00\nHello there.\n\nSpeaker 2  0:05\nHi.\n\nSpeaker 1  1:10\nBye.\n"
    assert _rows(otter) == [("Speaker 1", 0.0, True, "Hello there."), ("Speaker 2", 5.0, True, "Hi."),
                            ("Speaker 1", 70.0, True, "Bye.")]
    bold = "**Alice:** Hello.\n\n**Bob:** Hi.\n\n**Alice:** Bye *now*.\n"
    assert _rows(bold) == [("Alice", None, True, "Hello."), ("Bob", None, True, "Hi."),
                           ("Alice", None, True, "Bye now.")]


def test_prose_colon_is_not_a_speaker():
    prose = "Note: the thing is important.\n\nThis is a story. Another: sentence.\n\nAlso: fine.\n"
    assert not speaker_md.sniff(prose)
    [t] = speaker_md.parse(prose)
    assert t.speakers == [] and all(c.speaker is None for c in t.cues)
    assert t.cues[0].text == "Note: the thing is important."


def test_one_off_labels_are_never_guessed():
    text = (
        "**My Show: Episode Two**\n\n**Alice Smith**\n\nHello and welcome.\n\n**Introduction**\n\n"
        "We start here.\n\n**Bob Jones**\n\nHi.\n\n**Alice Smith**\n\nBye.\n"
    )
    [t] = speaker_md.parse(text)
    assert t.title == "My Show: Episode Two"
    assert [(c.speaker, c.text) for c in t.cues] == [
        ("Alice Smith", "Hello and welcome."), (None, "We start here."), ("Bob Jones", "Hi."), ("Alice Smith", "Bye."),
    ]
    assert t.speakers == ["Alice Smith", "Bob Jones"]
    assert any("section title" in w for w in t.warnings)
    # "Carol:" once in a labelled file: the speaker becomes unknown, not Bob.
    rows = _rows("Alice: a.\nBob: b.\nAlice: c.\nBob: d.\nCarol: e.\nmore.\n")
    assert rows[-1] == (None, None, True, "Carol: e. more.")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Alice (00:7x:10): hi\nBob (00:01): yo\nAlice (00:02): x\n", 1),
        ("[00:01] Alice: hi\n[00:61] Bob: yo\n", 2),
        ("**A B**\n\nhi\n\n**A B**\n\nyo [inaudible 01:61:00] there\n", 7),
    ],
)
def test_malformed_time_names_the_line(text, line):
    with pytest.raises(TranscriptError) as info:
        speaker_md.parse(text)
    assert info.value.line == line


def test_not_claimed():
    assert not speaker_md.sniff("")
    assert not speaker_md.sniff("Just prose.\n\nMore prose: with a colon.\n")
    assert not speaker_md.sniff("[00:01] hello\n[00:02] there\n[00:03] again\n")


# --- fuzz: any input returns transcripts or raises TranscriptError ---------

EXCERPT = "\n".join(TEXT.splitlines()[:40] + TEXT.splitlines()[660:672])



def _check(text: str) -> None:
    speaker_md.sniff(text)
    try:
        [t] = speaker_md.parse(text)
    except TranscriptError:
        return
    assert t.cues and all(c.text for c in t.cues)
    assert all(0 <= i < len(t.cues) and 0 <= w <= len(t.cues[i].text.split()) for i, _, w in t.anchors)
    assert all(c.speaker is None or c.speaker in t.speakers for c in t.cues)


@FUZZ
@given(st.text(max_size=400))
def test_fuzz_random_text(text):
    _check(text)


@FUZZ
@given(st.lists(st.sampled_from(
    ["**", "Alice", "Bob Ray", ":", " ", "\n", "\n\n", "## ", "(", ")", "[", "]", "01:02", "7x", "inaudible ", "a."]
), max_size=60))
def test_fuzz_label_alphabet(tokens):
    _check("".join(tokens))


@FUZZ
@given(EDITS)
def test_fuzz_edited_seed(edits):
    _check(edit_lines(EXCERPT.splitlines(), edits))
