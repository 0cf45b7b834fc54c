"""youtube-md: the YouTube/whisper markdown export (seed 000)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.formats import youtube_md
from index.model import Transcript

from .fuzzing import EDITS, FUZZ, edit_lines

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"
SEED = SAMPLES / "000_bcbdccec1200e6a3.txt"
OTHER_SEEDS = sorted(p for p in SAMPLES.glob("00[1-4]_*.txt"))
LABEL = re.compile(r"\[\[(\d\d):(\d\d):(\d\d)\]\(")


@pytest.fixture(scope="module")
def source() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed(source: str) -> Transcript:
    [transcript] = youtube_md.parse(source)
    return transcript


def _one(text: str) -> Transcript:
    [transcript] = youtube_md.parse(text)
    return transcript


# --- detection -------------------------------------------------------------


def test_sniff_claims_seed_000_only(source: str) -> None:
    assert youtube_md.sniff(source)
    for other in OTHER_SEEDS:
        assert not youtube_md.sniff(other.read_text(encoding="utf-8")), other.name


def test_registry_detects_seed_000(source: str) -> None:
    assert formats.detect(source) is youtube_md


def test_sniff_each_signature_alone() -> None:
    header = "---\nDate Generated: May 01, 2024\nLength: 10s\n---\n"
    channel = "# Some talk\n**Brain Inspired:** [March 01, 2024](https://www.youtube.com/watch?v=abc)\n"
    bullets = "".join(
        f"*  line {i} [[00:00:0{i}](https://www.youtube.com/watch?v=abc&t={i}.5s)]\n" for i in range(3)
    )
    assert youtube_md.sniff(header)
    assert youtube_md.sniff(channel)
    assert youtube_md.sniff(bullets)
    assert not youtube_md.sniff("# Title\n**Lex Fridman**\n\nSome text.\n")
    assert not youtube_md.sniff("*  a plain bullet\n*  another one\n*  a third\n")


# --- metadata --------------------------------------------------------------


def test_seed_metadata(seed: Transcript) -> None:
    assert seed.format == "youtube-md"
    assert seed.title == (
        "DeepSeek, China, OpenAI, NVIDIA, xAI, TSMC, Stargate, and AI Megaclusters | Lex Fridman Podcast #459"
    )
    assert seed.podcast == "Lex Fridman Podcast"
    assert seed.published == dt.date(2025, 2, 2)
    assert seed.url == "https://www.youtube.com/watch?v=_1f-o0nqpEI"
    assert seed.duration_s == 18378
    assert seed.warnings == []


def test_seed_chapters(seed: Transcript, source: str) -> None:
    outline = source[source.index("*OUTLINE:*"):source.index("*PODCAST LINKS:*")]
    assert len(seed.chapters) == len(re.findall(r"^\d[\d:]* - ", outline, re.M)) == 25
    by_title = {c.title: c.start_s for c in seed.chapters}
    assert by_title["Introduction"] == 0  # 0:00
    assert by_title["DeepSeek-R1 and DeepSeek-V3"] == 3 * 60 + 33  # 3:33
    assert by_title["Export controls on GPUs to China"] == 58 * 60 + 57  # 58:57
    assert by_title["AGI timeline"] == 3600 + 9 * 60 + 16  # 1:09:16
    assert by_title["Future of AI"] == 4 * 3600 + 54 * 60 + 30  # 4:54:30
    starts = [c.start_s for c in seed.chapters]
    assert starts == sorted(starts)
    assert starts[-1] < seed.duration_s


def test_channel_line_is_not_a_speaker(seed: Transcript) -> None:
    assert seed.speakers == []
    assert all(c.speaker is None and not c.turn for c in seed.cues)
    assert not any(c.text.startswith(("Lex Fridman:", "**")) for c in seed.cues)


def test_no_mojibake_or_markup_anywhere(seed: Transcript) -> None:
    fields = [seed.title or "", *(c.title for c in seed.chapters), *(c.text for c in seed.cues), *seed.warnings]
    for text in fields:
        assert "‚" not in text and "ù§" not in text
        assert "[[" not in text and "](http" not in text and "**" not in text


# --- cues ------------------------------------------------------------------


def test_every_body_line_is_a_cue_except_repeated_lines(seed: Transcript, source: str) -> None:
    body = [line for line in source.splitlines() if line.startswith("*  ")]
    assert len(body) == 7933
    # The notes count 7 places where whisper wrote the same line twice in a row.
    assert len(seed.cues) == len(body) - 7
    okay = [c for c in seed.cues if c.text == "Okay." and 10764 <= c.start_s <= 10766]
    assert [c.start_s for c in okay] == [10764.94]  # its repeat at 10765.78 is gone


def test_cue_times_come_from_t_and_agree_with_labels(seed: Transcript, source: str) -> None:
    lines = source.splitlines()
    for cue in seed.cues:
        h, m, s = map(int, LABEL.search(lines[cue.line - 1]).groups())
        assert int(cue.start_s) == h * 3600 + m * 60 + s, cue
    starts = [c.start_s for c in seed.cues]
    assert starts == sorted(starts)  # the source is monotonic
    first = seed.cues[0]
    assert (first.start_s, first.end_s) == (0.0, 4.66)  # label 00:00:04, t=4.66s
    assert seed.cues[-1].end_s is None


def test_specific_lines_land_on_the_right_second(seed: Transcript) -> None:
    by_text = {c.text: c for c in seed.cues}
    cue = by_text["reality must take precedence over public relations."]
    assert (cue.start_s, cue.end_s) == (18359.56, 18363.16)  # t=18359.559999999998s
    cue = by_text["From DeepSeq OpenAI, Google XAI, MetaAnthropic, to NVIDIA and TSMC,"]
    assert cue.start_s == 47.76  # t=47.760000000000005s
    assert by_text["To support this podcast,"].start_s == 18348.56


def test_cue_text_comes_from_its_own_line(seed: Transcript, source: str) -> None:
    lines = source.splitlines()
    for cue in seed.cues:
        line_words = set(lines[cue.line - 1].split())
        assert set(cue.text.split()) <= line_words, cue


def test_in_line_repeat_collapsed(seed: Transcript) -> None:
    [cue] = [c for c in seed.cues if c.start_s == 18342.0]
    assert cue.text == "Thanks for having us."  # source: "Thanks for having us. Thanks for having us."


FIXTURE = """---
Date Generated: March 02, 2024
Length: 95.5s
Video Description: A talk. Thank you for listening ‚ù§
*OUTLINE:*
0:00 - Intro ‚ù§
1:05 - Main part
Some other description line
9:99 - Not a real chapter
---

# A talk about things
**Brain Inspired:** [March 01, 2024](https://www.youtube.com/watch?v=abc123)
*  Hello there [[00:00:00](https://www.youtube.com/watch?v=abc123&t=0.0s)]
*  I ‚ù§ this show [[00:00:04](https://www.youtube.com/watch?v=abc123&t=4.66s)]
*  Fallback to the label [[00:01:05](https://www.youtube.com/watch?v=abc123)]
*  Hours form [[00:01:10](https://www.youtube.com/watch?v=abc123&t=1m10s)]
"""


def test_fixture_metadata_and_times() -> None:
    t = _one(FIXTURE)
    assert t.title == "A talk about things"
    assert t.podcast == "Brain Inspired"  # no episode number in the title: the channel
    assert t.published == dt.date(2024, 3, 1)
    assert t.url == "https://www.youtube.com/watch?v=abc123"
    assert t.duration_s == 95.5
    assert [(c.start_s, c.title) for c in t.chapters] == [(0.0, "Intro ❤"), (65.0, "Main part")]
    assert any(w.startswith("line 9: chapter skipped") for w in t.warnings)
    assert [(c.text, c.start_s, c.end_s) for c in t.cues] == [
        ("Hello there", 0.0, 4.66),
        ("I ❤ this show", 4.66, 65.0),
        ("Fallback to the label", 65.0, 70.0),
        ("Hours form", 70.0, None),
    ]
    assert [c.line for c in t.cues] == [14, 15, 16, 17]


def test_fixture_without_timestamp_suffix_parses() -> None:
    text = (
        "# Another talk\n"
        "**Cognitive Revolution \"How AI Changes Everything\":** [June 5, 2024](https://www.youtube.com/watch?v=q)\n"
        "*  This might actually be something useful.\n"
        "*  And another line without a link.\n"
    )
    assert youtube_md.sniff(text)
    t = _one(text)
    assert t.podcast == 'Cognitive Revolution "How AI Changes Everything"'
    assert [(c.text, c.start_s, c.end_s) for c in t.cues] == [
        ("This might actually be something useful.", None, None),
        ("And another line without a link.", None, None),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("*  text [[00:7x:10](https://www.youtube.com/watch?v=a&t=1s)]", "malformed timestamp"),
        ("*  text [[00:00:61](https://www.youtube.com/watch?v=a&t=1s)]", "malformed timestamp"),
        ("*  text [[00:00:01](https://www.youtube.com/watch?v=a&t=abc)]", "malformed t= value"),
        ("*  text [[00:00:01](https://www.youtube.com/watch?v=a", "malformed timestamp link"),
    ],
)
def test_malformed_timestamp_names_the_line(line: str, message: str) -> None:
    text = "# T\n*  fine [[00:00:00](https://www.youtube.com/watch?v=a&t=0s)]\n" + line + "\n"
    with pytest.raises(TranscriptError) as info:
        youtube_md.parse(text)
    assert info.value.line == 3
    assert message in str(info.value)


def test_unclosed_header_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="never closed"):
        youtube_md.parse("---\nDate Generated: x\n*  hello\n")


# --- fuzz ------------------------------------------------------------------


def _parse_or_error(text: str) -> None:
    try:
        result = youtube_md.parse(text)
    except TranscriptError as exc:
        assert str(exc)
        return
    assert isinstance(result, list) and all(isinstance(t, Transcript) for t in result)
    youtube_md.sniff(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("*#-[]()&t=s.:0123456789 \nabc‚ù§_*")), max_size=400))
def test_fuzz_random_markdownish_text(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    _parse_or_error(text)


_EXCERPT = [
    *SEED.read_text(encoding="utf-8").splitlines()[:40],
    "---",
    "",
    *SEED.read_text(encoding="utf-8").splitlines()[85:120],
]


@FUZZ
@given(EDITS)
def test_fuzz_mutated_seed_excerpt(edits: list[tuple[int, int, str]]) -> None:
    _parse_or_error(edit_lines(_EXCERPT, edits))


def test_turn_marks_split_a_line() -> None:
    text = (
        "# A talk | Some Podcast #1\n"
        "*  Nathan, what is it? [[00:00:01](https://www.youtube.com/watch?v=x&t=1.0s)]\n"
        "*  >> It is a model. >> And who made it? [[00:00:04](https://www.youtube.com/watch?v=x&t=4.0s)]\n"
        "*  >> DeepSeek. [[00:00:09](https://www.youtube.com/watch?v=x&t=9.0s)]\n"
    )
    [t] = youtube_md.parse(text)
    assert [(c.turn, c.text, c.start_s, c.end_s) for c in t.cues] == [
        (False, "Nathan, what is it?", 1.0, 4.0),
        (True, "It is a model.", 4.0, 9.0),
        (True, "And who made it?", 4.0, 9.0),
        (True, "DeepSeek.", 9.0, None),
    ]
