"""Segmentation: whole sentences, 15-60 words, turns respected, times and links right."""

from __future__ import annotations

from index.links import deep_link
from index.model import Chapter, Cue, Transcript
from index.segment import MAX_WORDS, segment

YT = "https://www.youtube.com/watch?v=abc123"


def sentence(n: int, tag: str) -> str:
    """A sentence of exactly n words, ending with a full stop."""
    words = [f"{tag}{i}" for i in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def test_segments_are_whole_sentences_within_bounds():
    sentences = [sentence(n, f"s{k}x") for k, n in enumerate([8, 12, 20, 9, 30, 14, 7, 25, 11])]
    cues = [Cue(s, start_s=i * 5.0, end_s=i * 5.0 + 5) for i, s in enumerate(sentences)]
    segs = segment(Transcript("test", cues), "ep")
    assert " ".join(s.text for s in segs) == " ".join(sentences)
    for s in segs:
        assert s.text.endswith("."), s.text
        assert 15 <= len(s.text.split()) <= MAX_WORDS


def test_a_sentence_is_never_cut_where_it_fits():
    text = "Dr. Smith met Mr. Jones at 3 p.m. in the U.S. office, e.g. near the lab. " + sentence(30, "b")
    segs = segment(Transcript("test", [Cue(text, 0.0, 10.0)]), "ep")
    assert segs[0].text.startswith("Dr. Smith met Mr. Jones at 3 p.m. in the U.S. office, e.g. near the lab.")


def test_long_unpunctuated_text_is_windowed_at_caption_boundaries():
    cues = [Cue(" ".join(f"w{c}_{i}" for i in range(8)), start_s=c * 3.0, end_s=c * 3.0 + 3) for c in range(40)]
    segs = segment(Transcript("test", cues), "ep")
    words = [w for s in segs for w in s.text.split()]
    assert words == [w for c in cues for w in c.text.split()]  # every word once, in order
    for s in segs:
        assert 15 <= len(s.text.split()) <= MAX_WORDS
        assert s.text.split()[0].endswith("_0")  # windows start at caption boundaries


def test_segments_never_cross_a_turn():
    cues = [
        Cue(sentence(20, "a"), 0.0, 5.0, speaker="Ann", turn=True),
        Cue(sentence(4, "b"), 5.0, 7.0, speaker="Bob", turn=True),
        Cue(sentence(20, "c"), 7.0, 12.0, speaker="Ann", turn=True),
        Cue(sentence(5, "d"), 12.0, 14.0, turn=True),
        Cue(sentence(5, "e"), 14.0, 16.0, turn=True),
    ]
    segs = segment(Transcript("test", cues), "ep")
    assert [(s.speaker, s.text) for s in segs] == [(c.speaker, c.text) for c in cues]


def test_separate_passages_are_never_joined():
    cues = [Cue(sentence(6, f"p{i}x")) for i in range(4)]
    segs = segment(Transcript("snippets", cues, separate_cues=True), "ep")
    assert [s.text for s in segs] == [c.text for c in cues]
    assert all(s.start_s is None and s.url is None for s in segs)


def test_times_links_and_chapters():
    cues = [
        Cue(sentence(20, "a"), 10.7, 15.0),
        Cue(sentence(20, "b"), 3725.9, 3730.0),
    ]
    t = Transcript("test", cues, chapters=[Chapter(0.0, "Intro"), Chapter(3600.0, "Second hour")])
    segs = segment(t, "ep", YT)
    assert [(s.start_s, s.chapter) for s in segs] == [(10.7, "Intro"), (3725.9, "Second hour")]
    assert segs[0].url == YT + "&t=10s" and segs[1].url == YT + "&t=3725s"
    assert segs[1].end_s == 3730.0


def test_backwards_timestamps_keep_their_own_time_as_a_segment_of_their_own():
    cues = [Cue(sentence(5, "a"), 50.0, 55.0, line=3), Cue(sentence(5, "b"), 40.0, 45.0, line=7),
            Cue(sentence(5, "c"), 60.0, line=11)]
    t = Transcript("test", cues)
    segs = segment(t, "ep")
    assert [(s.start_s, s.text) for s in segs] == [(50.0, cues[0].text), (40.0, cues[1].text), (60.0, cues[2].text)]
    assert t.warnings == ["line 7: starts at 40.000 s, before the cue of line 3 (50.000 s); "
                          "kept with its own time, as a segment of its own"]


def test_a_sentence_starting_mid_cue_gets_an_interpolated_time():
    cue = Cue(sentence(35, "a") + " " + sentence(35, "b"), 100.0, 110.0)
    segs = segment(Transcript("test", [cue]), "ep")
    assert segs[0].start_s == 100.0
    assert segs[1].start_s == 105.0  # 35 of 70 words in


def test_translation_keeps_the_cues_that_have_one():
    cues = [
        Cue("One two three four five six seven eight.", 0.0, 2.0, translation="一二三四五六七八。"),
        Cue("Nine ten eleven twelve thirteen fourteen fifteen sixteen.", 2.0, 4.0, translation="九十。"),
        Cue(sentence(20, "x"), 4.0, 8.0, turn=True, translation="甲"),
        Cue(sentence(20, "y"), 8.0, 12.0),
    ]
    segs = segment(Transcript("test", cues), "ep")
    assert segs[0].translation == "一二三四五六七八。九十。"
    assert segs[1].translation == "甲"  # the y cue has none: the x cue's is kept
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in s.text) for s in segs)


def test_deep_link_forms():
    assert deep_link(YT + "&t=99s", 12.9) == YT + "&t=12s"
    assert deep_link("https://youtu.be/abc", 61.2) == "https://youtu.be/abc?t=61s"
    assert deep_link("https://example.com/ep.mp3", 61.2) == "https://example.com/ep.mp3#t=61"
    assert deep_link(None, 5.0) is None
    assert deep_link("https://example.com/ep", None) == "https://example.com/ep"
