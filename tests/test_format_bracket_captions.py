"""bracket-captions: ``[mm:ss] text`` caption lines with translations and rolling captions (seed 001)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.formats import bracket_captions
from index.model import Transcript
from index.text import is_cjk, norm_word, parse_clock, squash

from .fuzzing import EDITS, FUZZ, edit_lines

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"
SEED = SAMPLES / "001_81e8968b19920830.txt"
OTHER_SEEDS = sorted(p for p in SAMPLES.glob("00[02-4]_*.txt"))
CLOCK = re.compile(r"^\[([\d:]+)\]")


@pytest.fixture(scope="module")
def source() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lines(source: str) -> list[str]:
    return source.splitlines()


@pytest.fixture(scope="module")
def seed(source: str) -> Transcript:
    [transcript] = bracket_captions.parse(source)
    return transcript


def _one(text: str) -> Transcript:
    [transcript] = bracket_captions.parse(text)
    return transcript


def _words(text: str) -> list[str]:
    return [norm_word(w) for w in text.split() if norm_word(w)]


# --- detection and metadata ------------------------------------------------


def test_sniff_claims_seed_001_only(source: str) -> None:
    assert bracket_captions.sniff(source)
    for other in OTHER_SEEDS:
        assert not bracket_captions.sniff(other.read_text(encoding="utf-8")), other.name


def test_registry_detects_seed_001(source: str) -> None:
    assert formats.detect(source) is bracket_captions


def test_seed_metadata(seed: Transcript) -> None:
    assert seed.format == "bracket-captions"
    assert seed.title == "Andrej Karpathy — “We’re summoning ghosts, not building animals”"
    assert seed.url == "https://www.youtube.com/watch?v=lXUZvyajciY"
    assert seed.podcast is None  # the title names no podcast
    assert seed.speakers == []


# --- cue text and times ----------------------------------------------------


def test_total_words_after_dedupe(seed: Transcript, lines: list[str]) -> None:
    raw = sum(len(re.sub(r">{2,3}", " ", ln.split("]", 1)[1]).split()) for ln in lines if CLOCK.match(ln))
    total = sum(len(c.text.split()) for c in seed.cues)
    assert raw > 60_000  # every word of the rolling part is there twice
    assert abs(total - 33_705) / 33_705 < 0.05  # the notes' measurement of the same dedupe


def test_no_cjk_and_no_marks_in_text(seed: Transcript) -> None:
    for cue in seed.cues:
        assert not any(is_cjk(ch) for ch in cue.text), cue
        assert ">>" not in cue.text and cue.text == squash(cue.text) and cue.text


def test_cue_starts_are_their_lines_clocks(seed: Transcript, lines: list[str]) -> None:
    for cue in seed.cues:
        assert cue.start_s == parse_clock(CLOCK.match(lines[cue.line - 1]).group(1)), cue
    starts = [c.start_s for c in seed.cues]
    assert starts == sorted(starts)  # the source is monotonic
    for this, nxt in zip(seed.cues, seed.cues[1:]):
        if this.line != nxt.line:
            assert this.end_s == nxt.start_s


def test_every_cue_word_comes_from_its_own_line(seed: Transcript, lines: list[str]) -> None:
    for cue in seed.cues:
        assert set(_words(cue.text)) <= set(_words(lines[cue.line - 1])), cue


def test_no_rolling_duplication(seed: Transcript, lines: list[str]) -> None:
    """A cue never starts with the previous cue's last 3 words, unless the speaker repeated them."""
    repeats = 0
    for prev, cue in zip(seed.cues, seed.cues[1:]):
        tail, head = _words(prev.text)[-3:], _words(cue.text)[:3]
        if len(tail) == 3 and tail == head:
            repeats += 1
            # Real speech ("that's just uh that's just uh"): the source line itself says it twice.
            src = " ".join(_words(lines[cue.line - 1].replace(">>", " ")))
            assert src.count(" ".join(head)) >= 2, (prev, cue)
    assert repeats <= 3


def test_rolling_passage_reads_once(seed: Transcript) -> None:
    # [51:04] the analogy of like this thing is. >> Yeah, I do think that that we're missing
    # [51:06] >> Yeah, I do think that that we're missing some aspects there. So as an example,
    joined = " ".join(c.text for c in seed.cues)
    assert joined.count("Yeah, I do think that that we're missing") == 1
    passage = " ".join(c.text for c in seed.cues if 3062 <= c.start_s <= 3066)
    assert (
        passage
        == "the analogy of like this thing is. Yeah, I do think that that we're missing some aspects there. So as an example,"
    )
    [turn] = [c for c in seed.cues if c.text.startswith("Yeah, I do think that that")]
    assert turn.turn and turn.start_s == 51 * 60 + 4


def test_in_line_repeat_collapsed(seed: Transcript) -> None:
    # [17:14] "... works, but I actually think that it's works, but I actually think that it's probably ..."
    joined = " ".join(c.text for c in seed.cues)
    assert "works, but I actually think that it's probably doing" in joined
    assert "it's works, but" not in joined


def test_new_words_keep_their_own_lines_start(seed: Transcript) -> None:
    # [16:04] >>> Uh which is kind of magical and just falls out from internet ...
    # [16:06] falls out from internet just because there's a lot of patterns. I will say that ...
    [cue] = [c for c in seed.cues if c.text.startswith("that there have been some papers")]
    assert cue.start_s == 16 * 60 + 6


def test_turns(seed: Transcript, lines: list[str]) -> None:
    turns = [c for c in seed.cues if c.turn]
    assert len(turns) > 300
    for cue in turns:
        assert ">>" in lines[cue.line - 1]
        assert cue.speaker is None
    pieces = [c for c in seed.cues if c.line == 189]  # [02:35] I >> there's no like prior ...
    assert [(c.text[:12], c.turn, c.start_s) for c in pieces] == [("I", False, 155.0), ("there's no l", True, 155.0)]


# --- translations ----------------------------------------------------------


def test_early_translations_kept(seed: Transcript) -> None:
    first = seed.cues[0]
    assert (first.text, first.start_s, first.translation) == ("Reinforcement learning is terrible.", 0.0, "强化学习很糟糕。")
    by_line = {c.line: c for c in seed.cues}
    assert by_line[75].translation == "我想今天我正在和Andre Karpathy交谈。"  # Latin name inside the zh line
    assert by_line[192].translation == "为什么是十年？"
    # A line with a turn: each piece gets its piece of the translation.
    assert [c.translation for c in seed.cues if c.line == 189] == [
        "我",
        "我没有像这样的先验知识，比如这是一个应该花费 5 年、 10 年、 50 年的项目。",
    ]


def test_kept_translations_are_pieces_of_their_lines_translation(seed: Transcript, lines: list[str]) -> None:
    kept = [c for c in seed.cues if c.translation]
    assert 150 <= len(kept) <= 373  # 373 translated lines in the source; measured 190 kept
    for cue in kept:
        zh = lines[cue.line].strip()  # the indented line under the caption
        assert any(is_cjk(ch) for ch in zh)
        assert cue.translation.replace(" ", "") in zh.replace(" ", "")


def test_no_translation_on_rolled_lines(seed: Transcript, lines: list[str]) -> None:
    # [08:06] repeats [08:03]'s tail "the world and they just have to make"; its zh line
    # translates the whole line, so it is not kept for the new words.
    [cue] = [c for c in seed.cues if c.start_s == 8 * 60 + 6]
    assert cue.text == "sense of everything without any labels."
    assert lines[cue.line].strip().startswith("世界")
    assert cue.translation is None


def test_no_translation_after_the_drift(seed: Transcript, lines: list[str]) -> None:
    drift_start = 19 * 60 + 31  # [19:31]: its zh line already holds [19:34]'s text
    translated_after = [i for i, ln in enumerate(lines) if ln.startswith("  ") and i > 1085]
    assert len(translated_after) >= 10  # the source does translate those lines ...
    assert all(c.translation is None for c in seed.cues if c.start_s >= drift_start)  # ... we do not keep them
    last = max((c for c in seed.cues if c.translation), key=lambda c: c.start_s)
    assert (last.start_s, last.translation) == (19 * 60 + 30, "模糊的记忆，关于你")
    # [19:53]'s zh line translates [20:08]: dropped.
    [cue] = [c for c in seed.cues if c.start_s == 19 * 60 + 53]
    assert cue.translation is None
    assert any("drift" in w and "line 1086" in w for w in seed.warnings)




def test_fixture_header_hours_and_turns() -> None:
    t = _one(
        "# Lex Fridman Podcast #12 - A guest\n\nhttps://example.com/v\nTranslation: zh-CN\n\n"
        "[00:59] hello there >> hi >>> how are you\n"
        "[01:00:02] later on [Music]\n"
        "[Music]\n"
    )
    assert (t.title, t.podcast, t.url) == (
        "Lex Fridman Podcast #12 - A guest",
        "Lex Fridman Podcast",
        "https://example.com/v",
    )
    assert [(c.text, c.start_s, c.turn) for c in t.cues] == [
        ("hello there", 59.0, False),
        ("hi", 59.0, True),
        ("how are you", 59.0, True),
        ("later on", 3602.0, False),
    ]
    assert [c.end_s for c in t.cues] == [3602.0, 3602.0, 3602.0, None]


def test_fixture_rolling_lines_emit_only_new_words() -> None:
    t = _one(
        "[00:01] we are building a thing\n"
        "[00:02] building a thing that works well\n"
        "[00:04] that works well >> yes it does\n"
        "[00:05] >>> yes it does indeed\n"
        "[00:06] yes it does indeed\n"
    )
    assert [(c.text, c.start_s, c.turn) for c in t.cues] == [
        ("we are building a thing", 1.0, False),
        ("that works well", 2.0, False),
        ("yes it does", 4.0, True),
        ("indeed", 5.0, False),
    ]


def test_fixture_one_word_echo_is_kept() -> None:
    # Overlaps of one word are real speech ("no. no."), not rolling.
    t = _one("[00:01] I said no\n[00:02] no that is wrong\n")
    assert [c.text for c in t.cues] == ["I said no", "no that is wrong"]


GOOD = [("I am happy today.", "我今天很高兴。"), ("This is fine.", "这很好。"), ("We like tea.", "我们喜欢茶。")]
DRIFTED = [
    ("so when you go", "大型语言模型通常会给你一些大致正确的信息，但如果你给它整个章节并问它问题"),
    ("and you ask it", "你将获得更好的结果因为现在它已经被加载到模型的工作记忆中了所以我基本同意"),
    ("about some book", "回过头来看我们最没能用这些模型复制的人类智能的哪一部分呢真的很难说清楚吧"),
    ("that is all right", "好的。"),
]


def _captions(pairs: list[tuple[str, str]]) -> str:
    return "Translation: zh-CN\n\n" + "".join(
        f"[00:{i:02d}] {en}\n  {zh}\n\n" for i, (en, zh) in enumerate(pairs)
    )


def test_fixture_translations_kept_until_they_drift() -> None:
    t = _one(_captions(GOOD + DRIFTED))
    assert [c.translation for c in t.cues] == [zh for _, zh in GOOD] + [None] * len(DRIFTED)
    assert any("drift" in w for w in t.warnings)


def test_fixture_one_odd_translation_is_not_drift() -> None:
    pairs = [*GOOD, DRIFTED[0], *GOOD]
    t = _one(_captions(pairs))
    assert [c.translation for c in t.cues] == [zh for _, zh in GOOD] + [None] + [zh for _, zh in GOOD]
    assert t.warnings == []


def test_fixture_undeclared_translation_in_another_script() -> None:
    t = _one("[00:01] Good morning everyone.\n  Доброе утро всем.\n[00:03] Next line\n")
    assert [(c.text, c.translation) for c in t.cues] == [
        ("Good morning everyone.", "Доброе утро всем."),
        ("Next line", None),
    ]


def test_fixture_wrapped_english_line_joins_its_caption() -> None:
    t = _one("[00:01] a caption that\ngoes on here\n[00:03] next\n")
    assert [c.text for c in t.cues] == ["a caption that goes on here", "next"]


@pytest.mark.parametrize("stamp", ["00:7x:10", "00:61", "1:2:3:4", "12:"])
def test_malformed_timestamp_names_the_line(stamp: str) -> None:
    text = f"# T\n\n[00:00] fine\n[{stamp}] broken\n"
    with pytest.raises(TranscriptError) as info:
        bracket_captions.parse(text)
    assert info.value.line == 4
    assert "malformed timestamp" in str(info.value)


# --- fuzz ------------------------------------------------------------------


def _parse_or_error(text: str) -> None:
    try:
        result = bracket_captions.parse(text)
    except TranscriptError as exc:
        assert str(exc)
        return
    assert isinstance(result, list) and all(isinstance(t, Transcript) for t in result)
    for cue in result[0].cues:
        assert cue.text and ">>" not in cue.text
    bracket_captions.sniff(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]:0123456789 >\n\tab强学。#&;xy")), max_size=400))
def test_fuzz_random_captionish_text(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    _parse_or_error(text)


_SEED_LINES = SEED.read_text(encoding="utf-8").splitlines()
_EXCERPT = _SEED_LINES[:60] + _SEED_LINES[1060:1130] + _SEED_LINES[3170:3190]


@FUZZ
@given(EDITS)
def test_fuzz_mutated_seed_excerpt(edits: list[tuple[int, int, str]]) -> None:
    _parse_or_error(edit_lines(_EXCERPT, edits))


def test_a_short_turn_rolled_onto_the_next_line_stays_one_turn() -> None:
    # seed 001 at 08:59: "… do. >> Yeah." then ">> Yeah. >> Um, …": one "Yeah." turn, not two
    [t] = bracket_captions.parse(
        "[08:57] an extremely complicated thing to do. >> Yeah.\n"
        "[08:59] >> Yeah. >> Um, that's not reinforcement learning.\n"
        "[09:01] >> Um, that's not reinforcement learning. That's baked in.\n"
    )
    assert [(c.turn, c.text) for c in t.cues] == [
        (False, "an extremely complicated thing to do."),
        (True, "Yeah."),
        (True, "Um, that's not reinforcement learning."),
        (False, "That's baked in."),
    ]
