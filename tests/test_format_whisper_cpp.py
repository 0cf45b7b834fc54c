"""whisper.cpp text output (seed 002): times, noise tags, ``>>`` turns, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.formats import whisper_cpp

from .fuzzing import EDITS, FUZZ, edit_lines

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"
SEED = next(SAMPLES.glob("002_*.txt"))
TEXT = SEED.read_text(encoding="utf-8")
TIMED = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\]\s*(.*)$")


@pytest.fixture(scope="module")
def seed():
    [transcript] = whisper_cpp.parse(TEXT)
    return transcript


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def test_detected_and_only_002_claimed():
    assert formats.detect(TEXT).NAME == "whisper-cpp"
    for other in SAMPLES.glob("00[0134]_*.txt"):
        assert not whisper_cpp.sniff(other.read_text(encoding="utf-8")), other.name


def test_no_noise_tag_left(seed):
    assert seed.cues
    for cue in seed.cues:
        for bad in ("[", "]", "(upbeat", "MUSIC", "BLANK_AUDIO", "AUDIO OUT", ">>"):
            assert bad not in cue.text, (bad, cue)
        assert cue.text == cue.text.strip() and "  " not in cue.text


def test_text_is_the_source_text_without_tags(seed):
    # Independent reading of the source: every timed line's text, noise tags
    # and turn marks removed, in order, equals the cues' text.
    words = []
    for line in TEXT.splitlines():
        m = TIMED.match(line)
        if m:
            body = re.sub(r"\[[A-Z_ ]+\]|\(upbeat music\)|>>", " ", m.group(9))
            words.extend(body.split())
    assert " ".join(c.text for c in seed.cues).split() == words
    assert len(words) > 13_000


def test_noise_only_lines_give_no_cue(seed):
    noise_lines = [n for n, line in enumerate(TEXT.splitlines(), 1)
                   if re.fullmatch(r"\[[^\]]+\]\s+[\[(][^\])]*[\])]\s*", line)]
    assert noise_lines == [2, 679, 1613, 1614]
    assert not {c.line for c in seed.cues} & set(noise_lines)
    timed = sum(1 for line in TEXT.splitlines() if TIMED.match(line))
    mid_line_turns = sum(1 for line in TEXT.splitlines() if re.search(r"\S\s*>>", line.split("]", 1)[-1]))
    assert len(seed.cues) == timed - len(noise_lines) + mid_line_turns


def test_turns_from_turn_marks(seed):
    turns = [c for c in seed.cues if c.turn]
    assert len(turns) == TEXT.count(">>") == 13
    assert max(c.start_s for c in turns) <= 81  # only in the first ~1:21
    # One line, two turns: ">> Yeah, yeah. >> And obviously,"
    line13 = [c for c in seed.cues if c.line == 13]
    assert [(c.text, c.turn) for c in line13] == [("Yeah, yeah.", True), ("And obviously,", True)]
    assert {(c.start_s, c.end_s) for c in line13} == {(31.42, 32.14)}
    # A turn mark after text: "But this is a mooncake- >> Nice."
    line19 = [c for c in seed.cues if c.line == 19]
    assert [(c.text, c.turn) for c in line19] == [("But this is a mooncake-", False), ("Nice.", True)]
    assert all(c.speaker is None for c in seed.cues)


def test_times_of_specific_lines(seed):
    by_line = {c.line: c for c in seed.cues}
    assert by_line[3].text == "Hey everyone, welcome to the Latent Space Podcast."
    assert (by_line[3].start_s, by_line[3].end_s) == (6.5, 9.24)
    for number, line in enumerate(TEXT.splitlines(), 1):
        m = TIMED.match(line)
        if m and number in by_line:
            assert by_line[number].start_s == pytest.approx(_seconds(*m.group(1, 2, 3, 4)))
            assert by_line[number].end_s == pytest.approx(_seconds(*m.group(5, 6, 7, 8)))
    last = seed.cues[-1]
    assert last.text == "because I think it will be poorly taken."
    assert (last.start_s, last.end_s) == (4057.26, 4059.18)


def test_duration_and_metadata(seed):
    assert seed.duration_s == pytest.approx(1 * 3600 + 7 * 60 + 59.82)  # last [BLANK_AUDIO] end
    assert seed.title is None and seed.url is None and seed.podcast is None
    assert seed.warnings == []
    assert seed.format == "whisper-cpp"


def test_fixture_variants():
    text = (
        "\n"
        "[00:00.000 --> 00:02.500]   (gentle music)\n"
        "[00:02.500 --> 00:05.000]   Hello caf\u221a\u00a9 world. [MUSIC]\n"
        "\n"
        "[01:00:01,250 --> 01:00:02,000]  >> Bye.\n"
    )
    [t] = whisper_cpp.parse(text)
    assert [(c.text, c.start_s, c.end_s, c.turn) for c in t.cues] == [
        ("Hello café world.", 2.5, 5.0, False),
        ("Bye.", 3601.25, 3602.0, True),
    ]
    assert t.duration_s == 3602.0
    assert whisper_cpp.sniff(text)


@pytest.mark.parametrize("bad", ["00:7x:10.000", "00:00:61.000", "00:61:00.000", "1:2:3:4"])
def test_malformed_timestamp_names_the_line(bad):
    text = f"[00:00:00.000 --> 00:00:01.000]   ok\n[{bad} --> 00:00:09.000]   text\n"
    with pytest.raises(TranscriptError) as info:
        whisper_cpp.parse(text)
    assert info.value.line == 2
    assert "timestamp" in str(info.value)
    # Still detected as whisper.cpp, so detection does not hide the error.
    broken = f"[{bad} --> 00:00:09.000]   text\n"
    assert formats.detect(broken).NAME == "whisper-cpp"
    with pytest.raises(TranscriptError) as info:
        formats.parse(broken)
    assert info.value.line == 1


def test_stray_lines_are_skipped_with_a_warning():
    text = (
        "whisper_print_timings: total time = 1234.5 ms\n"
        "[00:00:00.000 --> 00:00:01.000]   one\n"
        "[00:00:01.000 --> 00:00:02.000]   two\n"
    )
    [t] = whisper_cpp.parse(text)
    assert [c.text for c in t.cues] == ["one", "two"]
    assert len(t.warnings) == 1 and "line 1" in t.warnings[0]


def test_mostly_stray_lines_is_an_error():
    text = "Dear diary,\ntoday I wrote prose.\nIt was nice.\n[00:00:00.000 --> 00:00:01.000]   one\n"
    with pytest.raises(TranscriptError) as info:
        whisper_cpp.parse(text)
    assert info.value.line == 1


def test_not_claimed():
    assert not whisper_cpp.sniff("")
    assert not whisper_cpp.sniff("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello\n")
    assert not whisper_cpp.sniff("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    assert not whisper_cpp.sniff("[00:01] hello\n[00:02] there\n")


# --- fuzz: any input returns transcripts or raises TranscriptError ---------

EXCERPT = "\n".join(TEXT.splitlines()[:40])





def _check(text: str) -> None:
    try:
        result = whisper_cpp.parse(text)
    except TranscriptError:
        return
    assert isinstance(result, list)
    for cue in result[0].cues:
        assert cue.text and cue.start_s is not None


@FUZZ
@given(st.text(max_size=400))
def test_fuzz_random_text(text):
    _check(text)
    whisper_cpp.sniff(text)


@FUZZ
@given(
    st.lists(st.sampled_from(["[", "]", "-->", " ", "\n", ">>", "0", "9", ":", ".", ",", "(music)", "x"]), max_size=60)
)
def test_fuzz_timestamp_alphabet(tokens):
    _check("".join(tokens))


@FUZZ
@given(EDITS)
def test_fuzz_edited_seed(edits):
    _check(edit_lines(EXCERPT.splitlines(), edits))
