"""The standard transcript formats: WebVTT, SRT, Podcasting 2.0 JSON and HTML, plain text.

Fixtures live in tests/data/standard_*; the expected values below were read
off those files (and the Podcasting 2.0 spec examples), not off parser output.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import TranscriptError
from index.formats import detect, plain, podcast_html, podcast_json, srt_format, vtt
from index.model import Transcript

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"
SEEDS = sorted(SAMPLES.glob("00[0-4]_*.txt"))
MODULES = [vtt, srt_format, podcast_json, podcast_html, plain]

FIXTURES = {
    "standard_voices.vtt": "vtt",
    "standard_youtube.vtt": "vtt",
    "standard_speakers.srt": "srt",
    "standard_words.json": "podcast-json",
    "standard_whisper.json": "podcast-json",
    "standard_transcript.html": "podcast-html",
    "standard_generic.html": "podcast-html",
    "standard_timecoded.txt": "plain",
    "standard_otter.txt": "plain",
    "standard_transistor.txt": "plain",
}
BY_NAME = {m.NAME: m for m in MODULES}
# Otter's "Name  0:00" headers are also speaker-md's, which detection tries before plain.
DETECTED_AS = {**FIXTURES, "standard_otter.txt": "speaker-md"}


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def cues_of(module, text: str):
    transcripts = module.parse(text)
    assert len(transcripts) == 1
    assert transcripts[0].format == module.NAME
    return transcripts[0], transcripts[0].cues


def find(cues, fragment: str):
    hits = [c for c in cues if fragment in c.text]
    assert len(hits) == 1, (fragment, [c.text for c in cues])
    return hits[0]


def raises_at(module, text: str) -> TranscriptError:
    with pytest.raises(TranscriptError) as info:
        module.parse(text)
    return info.value


# --- detection -------------------------------------------------------------------------


def test_seed_files_present():
    assert len(SEEDS) == 5


@pytest.mark.parametrize(("name", "fmt"), sorted(DETECTED_AS.items()))
def test_registry_detects_each_fixture(name, fmt):
    text = read(name)
    assert fmt == detect(text).NAME
    assert BY_NAME[FIXTURES[name]].sniff(text)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_no_standard_sniff_claims_a_seed(module, seed):
    assert not module.sniff(seed.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "fmt"), sorted(FIXTURES.items()))
def test_only_the_right_standard_sniff_claims_each_fixture(name, fmt):
    text = read(name)
    claimed = [m.NAME for m in MODULES if m.sniff(text)]
    assert claimed == [fmt]


PROSE = (
    "Welcome to my blog.\n\nToday I want to talk about podcasts. Note: this is prose.\n"
    "At 10:30 we met for coffee, and at 11:45 we left.\n\n12:00 was lunch.\n"
)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_prose_is_claimed_by_no_standard_sniff(module):
    assert not module.sniff(PROSE)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_cue_text_is_clean_display_text(name):
    module = BY_NAME[FIXTURES[name]]
    _, cues = cues_of(module, read(name))
    assert cues
    for cue in cues:
        assert cue.text == cue.text.strip() and "  " not in cue.text
        assert "&amp;" not in cue.text and "&lt;" not in cue.text and "&#39;" not in cue.text
        assert not re.search(r"</?(?:v|c|i|b|font|p|cite|time)\b", cue.text), cue.text
        assert not re.search(r"\[(?:MUSIC|Music|APPLAUSE)\]|\(laughs\)|\[laughter\]", cue.text)
        assert "\ufeff" not in cue.text
        if cue.start_s is not None:
            assert isinstance(cue.start_s, float)


# --- WebVTT ----------------------------------------------------------------------------


def test_vtt_voices_carry_forward_and_entities_unescaped():
    transcript, cues = cues_of(vtt, read("standard_voices.vtt"))
    assert transcript.title == "Rookie Mistakes & How to Avoid Them"
    assert transcript.speakers == ["Travis Albritton", "Sarah"]
    # The [MUSIC]-only cue gives no cue at all.
    first = cues[0]
    assert first.text == "Welcome back to Podcasting Q&A, the show where you learn the best tips."
    assert (first.start_s, first.end_s, first.speaker, first.turn) == (4.25, 9.5, "Travis Albritton", True)
    # No <v> on the next cue: Travis carries forward, and the two lines join.
    carried = find(cues, "café")
    assert carried.text == "Today we're talking about the café microphones we bought for under $100."
    assert carried.speaker == "Travis Albritton" and carried.turn is False
    # <v.guest Sarah> is a voice with a class; &lt;!channel&gt; is text, not a tag.
    sarah = find(cues, "channel")
    assert sarah.text == "Honestly, I'd tell everyone <!channel> to start small."
    assert sarah.speaker == "Sarah" and sarah.turn is True and sarah.start_s == 13.12
    # (laughs) dropped without leaving a space before the full stop; the repeat is merged.
    closet = find(cues, "closet")
    assert closet.text == "Even a closet works as a studio."
    assert closet.speaker == "Sarah" and closet.turn is False
    assert (closet.start_s, closet.end_s) == (16.0, 19.76)
    # Two voices inside one cue: two cues, each a new turn, with the cue's times.
    exactly, naive = find(cues, "Exactly."), find(cues, "Naïve")
    assert (exactly.speaker, exactly.turn, exactly.start_s) == ("Travis Albritton", True, 19.76)
    assert (naive.speaker, naive.turn, naive.start_s) == ("Sarah", True, 19.76)
    assert naive.text.endswith("Thank you ❤")  # MacRoman mojibake ‚ù§ repaired
    # >> marks an unnamed new speaker: the voice no longer carries.
    last = cues[-1]
    assert last.text == "A new voice nobody named." and last.speaker is None and last.turn is True
    assert last.start_s == 62.005 and last.end_s == 65.0


def test_vtt_cue_lines_point_at_their_timing_lines():
    text = read("standard_voices.vtt")
    lines = text.splitlines()
    _, cues = cues_of(vtt, text)
    for cue in cues:
        timing = lines[cue.line - 1]
        assert "-->" in timing
        h, m, s = timing.split("-->")[0].strip().split(":")
        assert int(h) * 3600 + int(m) * 60 + float(s) == pytest.approx(cue.start_s)


def test_vtt_spec_snippet_voice_carries_forward():
    text = (
        "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n<v John>Podcasting 2.0 is really changing the game.\n\n"
        "00:00:05.000 --> 00:00:10.000\n<v Tom>Yeah, absolutely. The new features are incredible.\n\n"
        "00:00:10.000 --> 00:00:15.000\nIt's amazing how it's empowering creators like never before.\n\n"
        "00:00:20.000 --> 00:00:25.000\n<v John>Exactly, Tom. It's revolutionizing the industry.\n"
    )
    _, cues = cues_of(vtt, text)
    assert [(c.speaker, c.turn) for c in cues] == [("John", True), ("Tom", True), ("Tom", False), ("John", True)]


def test_vtt_youtube_rolling_captions_keep_each_word_once():
    _, cues = cues_of(vtt, read("standard_youtube.vtt"))
    joined = " ".join(c.text for c in cues)
    assert joined == "so today we're talking about rolling captions and why they repeat yeah it's annoying"
    assert [c.start_s for c in cues] == [0.0, 2.32, 5.04, 7.61]
    assert cues[-1].turn is True and cues[-1].text == "yeah it's annoying"
    assert not any(c.turn for c in cues[:-1])


def test_vtt_rolling_without_inline_tags():
    # Two-line rolling captions (already flattened): every cue repeats the previous line.
    text = "WEBVTT\n\n" + "".join(
        f"00:00:0{i}.000 --> 00:00:0{i + 1}.000\n{a}\n{b}\n\n"
        for i, (a, b) in enumerate([
            ("", "the first line of words"), ("the first line of words", "then a second line"),
            ("then a second line", "and a third one here"), ("and a third one here", "finally the end"),
        ])
    ).replace("\n\n\n", "\n\n")
    _, cues = cues_of(vtt, text)
    assert " ".join(c.text for c in cues) == (
        "the first line of words then a second line and a third one here finally the end"
    )


@pytest.mark.parametrize("timing", ["00:00:61.000 --> 00:01:02.000", "00:7x:10.000 --> 00:08:00.000",
                                    "00:00:01.000 -> 00:00:02.000"])
def test_vtt_malformed_timing_skips_that_cue_with_a_warning_naming_the_line(timing):
    text = f"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nfine\n\n{timing}\nbroken cue\n\n00:00:03.000 --> 00:00:04.000\nlater\n"
    transcript, cues = cues_of(vtt, text)
    assert [c.text for c in cues] == ["fine", "later"]
    assert any(w.startswith("line 6:") and timing.split()[0] in w for w in transcript.warnings)


def test_vtt_comma_decimal_is_read_as_players_read_it():
    _, cues = cues_of(vtt, "WEBVTT\n\n00:00:01,500 --> 00:00:02,000\nhi\n")
    assert [(c.start_s, c.text) for c in cues] == [(1.5, "hi")]


def test_vtt_forced_on_non_vtt_names_line_one():
    err = raises_at(vtt, "1\n00:00:01,000 --> 00:00:02,000\nhi\n")
    assert err.line == 1 and "WEBVTT" in err.message


def test_vtt_sniff_needs_the_signature_first():
    assert vtt.sniff("\ufeffWEBVTT\n\n")
    assert vtt.sniff("WEBVTT - title\n")
    assert not vtt.sniff("WEBVTTX\n")
    assert not vtt.sniff("Notes\nWEBVTT\n")


# --- SRT -------------------------------------------------------------------------------


def test_srt_name_prefixes_carry_forward():
    transcript, cues = cues_of(srt_format, read("standard_speakers.srt"))
    assert transcript.speakers == ["SARAH", "Dr. Gillian Ryan"]
    first = cues[0]  # after a BOM
    assert first.text == "In today's episode, you'll learn whether or not you"
    assert (first.speaker, first.turn, first.start_s, first.end_s) == ("SARAH", True, 0.0, 2.76)
    # Carried; "Note:" (mixed case, once, not at the cue's start) stays text.
    second = cues[1]
    assert second.text == "should have a podcast trailer. Note: it's shorter than you think."
    assert second.speaker == "SARAH" and second.turn is False
    third = cues[2]
    assert third.text == "include in one? Welcome to Podcasting Q&A"  # [APPLAUSE] dropped
    gillian = find(cues, "Buzzsprout")
    assert gillian.text == "Hi Buzzsprout, I post to <!channel> every week."
    assert (gillian.speaker, gillian.turn, gillian.start_s, gillian.end_s) == ("Dr. Gillian Ryan", True, 11.61, 15.75)
    # "My question is:" is not a prefix (mid-sentence colon); Gillian carries.
    question = find(cues, "My question")
    assert question.speaker == "Dr. Gillian Ryan" and question.turn is False
    answer = find(cues, "Short answer")
    assert answer.text == "Short answer: yes." and answer.speaker == "SARAH" and answer.turn is True
    assert find(cues, "génial").speaker == "Dr. Gillian Ryan"
    # "- Hi. / - Hello.": two unnamed speakers in one cue.
    hi, hello = cues[-2], cues[-1]
    assert (hi.text, hello.text) == ("Hi, everyone.", "Hello!")
    assert hi.speaker is None and hello.speaker is None and hi.turn and hello.turn
    assert hi.start_s == hello.start_s == 60.5


def test_srt_prefix_rules_are_conservative():
    def block(i, text):
        return f"{i}\n00:00:0{i},000 --> 00:00:0{i},900\n{text}\n\n"

    once_mixed = block(1, "Note: something in prose.") + block(2, "More prose.")
    _, cues = cues_of(srt_format, once_mixed)
    assert cues[0].text == "Note: something in prose." and cues[0].speaker is None

    once_upper = block(1, "JOHN: hello there.") + block(2, "How are you?")
    _, cues = cues_of(srt_format, once_upper)
    assert [(c.speaker, c.text, c.turn) for c in cues] == [
        ("JOHN", "hello there.", True),
        ("JOHN", "How are you?", False),
    ]

    dashed = block(1, "- SPEAKER 1: hi") + block(2, "Mary Jane: hey") + block(3, "Mary Jane: again")
    _, cues = cues_of(srt_format, dashed)
    # "SPEAKER 1" is a diarization label, kept as the cue's label, not a name.
    assert [(c.speaker, c.label, c.text) for c in cues] == [
        (None, "SPEAKER 1", "hi"), ("Mary Jane", None, "hey"), ("Mary Jane", None, "again")]
    assert [c.turn for c in cues] == [True, True, False]

    too_long = block(1, "One two three four five: words") + block(2, "One two three four five: more")
    _, cues = cues_of(srt_format, too_long)
    assert all(c.speaker is None for c in cues)


def test_srt_rolling_captions_keep_each_word_once():
    lines = [("", "the first line of words"), ("the first line of words", "then a second line"),
             ("then a second line", "and a third one here"), ("and a third one here", "finally the end"),
             ("and a third one here", "finally the end")]
    text = "".join(f"{i + 1}\n00:00:0{i},000 --> 00:00:0{i + 1},500\n{a}\n{b}\n\n".replace("\n\n\n", "\n\n")
                   for i, (a, b) in enumerate(lines))
    _, cues = cues_of(srt_format, text)
    assert " ".join(c.text for c in cues) == (
        "the first line of words then a second line and a third one here finally the end"
    )
    assert [c.start_s for c in cues] == [0.0, 1.0, 2.0, 3.0] and cues[-1].end_s == 5.5  # the repeat widens it
    # an ordinary file whose captions happen to repeat now and then is left alone
    plain_text = "".join(f"{i + 1}\n00:00:0{i},000 --> 00:00:0{i + 1},000\n{t}\n\n"
                         for i, t in enumerate(["Yes we did.", "Yes we did.", "Then we left for home.",
                                                "Nobody followed us there.", "It was quiet."]))
    _, cues = cues_of(srt_format, plain_text)
    assert [c.text for c in cues][:2] == ["Yes we did.", "Yes we did."]


def test_srt_dot_separator_and_fractional_times():
    text = "1\n00:00:01.5 --> 00:00:02.250\nDot separated.\n\n2\n01:02:03,004 --> 01:02:04,000\nLater.\n"
    _, cues = cues_of(srt_format, text)
    assert [(c.start_s, c.end_s) for c in cues] == [(1.5, 2.25), (3723.004, 3724.0)]
    assert [c.line for c in cues] == [2, 6]


@pytest.mark.parametrize("timing", ["00:00:61,000 --> 00:01:02,000", "00:7x:10,000 --> 00:08:00,000"])
def test_srt_malformed_timing_skips_that_cue_with_a_warning_naming_the_line(timing):
    text = f"1\n00:00:00,000 --> 00:00:01,000\nfine\n\n2\n{timing}\nbroken\n\n3\n00:00:03,000 --> 00:00:04,000\nlater\n"
    transcript, cues = cues_of(srt_format, text)
    assert [c.text for c in cues] == ["fine", "later"]
    assert any(w.startswith("line 6:") and timing.split()[0] in w for w in transcript.warnings)


def test_srt_garbage_before_the_first_cue_is_skipped_with_a_warning_naming_its_line():
    transcript, cues = cues_of(srt_format, "\n\nnot a subtitle\n1\n00:00:01,000 --> 00:00:02,000\nhi\n")
    assert [c.text for c in cues] == ["hi"]
    assert transcript.warnings == ["line 3: text before the first cue skipped"]
    err = raises_at(srt_format, "hello world\n")
    assert err.line == 1


def test_srt_sniff():
    assert srt_format.sniff("\ufeff\n1\n00:00:00,000 --> 00:00:02,760\nhi\n")
    assert srt_format.sniff("12\n00:00:00.000 --> 00:00:02.760\nhi\n")
    assert not srt_format.sniff("00:00:00,000 --> 00:00:02,760\nhi\n")
    assert not srt_format.sniff("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.760\nhi\n")
    assert not srt_format.sniff("[00:00:00.000 --> 00:00:06.500]   [MUSIC]\n")


# --- Podcasting 2.0 JSON ---------------------------------------------------------------


def test_json_spec_example_merges_words_into_a_sentence():
    text = json.dumps({"version": "1.0.0", "segments": [
        {"speaker": "Darth Vader", "startTime": 0.5, "endTime": 0.75, "body": "I"},
        {"speaker": "Darth Vader", "startTime": 1, "endTime": 1.25, "body": "am"},
        {"speaker": "Darth Vader", "startTime": 1.5, "endTime": 2.0, "body": "your"},
        {"speaker": "Darth Vader", "startTime": 2.25, "endTime": 2.5, "body": "father.\n"},
        {"speaker": "Luke", "startTime": 2.75, "endTime": 3.0, "body": "Nooooo"},
    ]})
    transcript, cues = cues_of(podcast_json, text)
    assert [(c.text, c.start_s, c.end_s, c.speaker, c.turn) for c in cues] == [
        ("I am your father.", 0.5, 2.5, "Darth Vader", True),
        ("Nooooo", 2.75, 3.0, "Luke", True),
    ]
    assert transcript.speakers == ["Darth Vader", "Luke"]


def test_json_word_segments_merge_into_sentences():
    source = json.loads(read("standard_words.json"))["segments"]
    bodies = [s["body"] for s in source]
    _, cues = cues_of(podcast_json, read("standard_words.json"))

    def seg(body):  # the segment holding this body
        return source[bodies.index(body)]

    # Sentence end after 12 words: one cue, first word's start to last word's end.
    assert cues[0].text == "Welcome to Podcasting 2.0, the show where we talk about open standards."
    assert cues[0].start_s == source[0]["startTime"] and cues[0].end_s == seg("standards.")["endTime"]
    assert cues[0].speaker == "Dave Jones" and cues[0].turn is True
    # A 7-word sentence with string times ends at the 2 s pause, not at its full stop.
    assert cues[1].text == "We have a lot to cover today."
    assert cues[1].start_s == float(seg("We")["startTime"]) and cues[1].end_s == float(seg("today.")["endTime"])
    assert cues[2].start_s - cues[1].end_s >= 1.5
    # Speaker omitted after the first segment: inherited.
    assert cues[1].speaker == cues[2].speaker == "Dave Jones" and not cues[1].turn and not cues[2].turn
    assert cues[2].text == "First up, transcripts for the café crowd and the Q&A segment."
    assert cues[2].end_s == seg("segment.\n")["endTime"]
    # New speaker: "Yes!\n" is too short to close a cue, and the unpunctuated run stops at 40 words.
    adam = [c for c in cues if c.speaker == "Adam Curry"]
    assert [c.turn for c in adam] == [True, False]
    assert adam[0].text.startswith("Yes! and I think") and len(adam[0].text.split()) == 40
    assert adam[0].start_s == seg("Yes!\n")["startTime"]
    assert adam[1].text.endswith("listens") and adam[1].end_s == source[-1]["endTime"]
    # Every word of the source is kept, in order.
    words = " ".join(b.strip() for b in bodies).replace(" ,", ",").replace("&amp;", "&").split()
    assert " ".join(c.text for c in cues).split() == words


def test_json_whisper_style():
    _, cues = cues_of(podcast_json, read("standard_whisper.json"))
    assert [c.text for c in cues] == [
        "Hey everyone, welcome to the Latent Space podcast.",
        "This is Alessio, partner and CTO at Decibel.",
        "Thanks for having me.",
    ]  # the [MUSIC] segment is dropped
    assert [(c.start_s, c.end_s) for c in cues] == [(6.5, 9.24), (9.24, 12.62), (12.62, 15.54)]
    # WhisperX's labels are diarization labels: kept as labels, no named speaker.
    assert [(c.speaker, c.label, c.turn) for c in cues] == [
        (None, "SPEAKER_00", True), (None, "SPEAKER_00", False), (None, "SPEAKER_01", True)]


def test_json_bare_list_and_clock_strings():
    text = '[{"speaker": "A", "startTime": "00:01:02.5", "endTime": "62.75", "body": "Hello."}]'
    _, cues = cues_of(podcast_json, text)
    assert (cues[0].start_s, cues[0].end_s, cues[0].speaker) == (62.5, 62.75, "A")


@pytest.mark.parametrize(("segments", "message"), [
    ('[{"body": "a", "startTime": 1}, {"body": "b", "startTime": "soon"}]', "segments[1].startTime: not a number"),
    ('[{"body": "a", "endTime": true}]', "segments[0].endTime: not a number"),
    ('[{"body": "a", "startTime": NaN}]', "segments[0].startTime: not a finite number"),
    ('[{"startTime": 1}]', "segments[0].body: missing"),
    ('[{"body": 3}]', "segments[0].body: not a string"),
    ('["word"]', "segments[0]: not an object"),
    ('{"a": 1}', "segments: not a list"),
])
def test_json_bad_field_names_the_segment(segments, message):
    err = raises_at(podcast_json, '{"version": "1.0.0", "segments": ' + segments + "}")
    assert err.message == message


def test_json_syntax_error_names_the_line():
    err = raises_at(podcast_json, '{\n  "segments": [\n    {"body": "a",}\n  ]\n}')
    assert err.line == 3 and "invalid JSON" in err.message
    assert raises_at(podcast_json, "[" * 100000).message.startswith("invalid JSON")
    assert "segments" in raises_at(podcast_json, '{"version": "1.0.0"}').message


def test_json_sniff():
    assert podcast_json.sniff('\ufeff  {"version": "1.0.0", "segments": []}')
    assert not podcast_json.sniff('{"title": "x", "podcast": "y"}')
    assert not podcast_json.sniff('segments: {"segments"}')


# --- Podcasting 2.0 HTML ---------------------------------------------------------------


def test_html_cite_time_paragraphs():
    transcript, cues = cues_of(podcast_html, read("standard_transcript.html"))
    assert transcript.title == "Rookie Mistakes & Fixes – Episode 42"
    assert transcript.speakers == ["Travis", "Sarah", "Gilón"]
    assert cues[0].text.startswith("When you first get started in podcasting, it's almost guaranteed that you're")
    assert (cues[0].speaker, cues[0].turn, cues[0].start_s) == ("Travis", True, 0.0)
    # The <time> times only the paragraph after it; the speaker carries.
    assert cues[1].text == "So in this bonus episode we went back through the archives."
    assert (cues[1].speaker, cues[1].turn, cues[1].start_s) == ("Travis", False, None)
    # "Sarah :" loses its colon; &lt;!channel&gt; is text; [laughter] dropped.
    assert cues[2].text == "Creating good audio is really key & I tell <!channel> that every week."
    assert (cues[2].speaker, cues[2].turn, cues[2].start_s) == ("Sarah", True, 53.0)
    assert (cues[3].speaker, cues[3].start_s) == ("Gilón", 3723.0)
    assert "東京" in cues[3].text
    # <cite>/<time datetime> inside the paragraph.
    assert cues[4].text == "Be a guest on other people's podcasts. It works."
    assert (cues[4].speaker, cues[4].turn, cues[4].start_s) == ("Travis", True, 3900.0)
    assert len(cues) == 5
    everything = " ".join(c.text for c in cues)
    assert "not transcript text" not in everything and "font-weight" not in everything
    assert "editor's comment" not in everything


def test_html_generic_paragraphs_without_times():
    transcript, cues = cues_of(podcast_html, read("standard_generic.html"))
    assert [c.text for c in cues] == [
        "Welcome to the show. Today: AT&T, Verizon & the future of 5G.",
        "Our guest is the author of The Network, and she's here to talk.",
        "Thanks for having me!",
    ]
    assert all(c.start_s is None and c.speaker is None and not c.turn for c in cues)
    assert transcript.title is None


def test_html_spec_snippet():
    text = (
        "<cite>Kevin:</cite>\n<time>0:00</time>\n<p>\n  We have an update planned where we would like to give\n"
        "  the ability to upload an artwork file for these videos\n</p>\n<cite>Alban :</cite>\n<time>0:09</time>\n"
        "<p>You're triggering Tom right now with a hey, here's a cool feature.</p>\n"
    )
    assert podcast_html.sniff(text)
    _, cues = cues_of(podcast_html, text)
    assert [(c.speaker, c.start_s, c.line) for c in cues] == [("Kevin", 0.0, 3), ("Alban", 9.0, 9)]
    assert cues[0].text.endswith("artwork file for these videos")


@pytest.mark.parametrize("value", ["0:7x", "1:61:00", "soon"])
def test_html_malformed_time_names_the_line(value):
    text = f"<cite>Kevin:</cite>\n<time>0:00</time>\n<p>One.</p>\n<time>{value}</time>\n<p>Two.</p>\n"
    err = raises_at(podcast_html, text)
    assert err.line == 4 and "time" in err.message


def test_html_sniff():
    assert podcast_html.sniff("<!DOCTYPE html><html><body><p>x</p></body></html>")
    assert podcast_html.sniff("\ufeff<html lang=en><p>x")
    assert not podcast_html.sniff('<?xml version="1.0"?><rss><item><description>&lt;p&gt;</description></item></rss>')
    assert not podcast_html.sniff("Some **markdown** with a <br> and </p> inside.")


# --- plain text ------------------------------------------------------------------------


def test_plain_leading_timecodes():
    _, cues = cues_of(plain, read("standard_timecoded.txt"))
    assert [(c.start_s, c.speaker, c.turn) for c in cues] == [
        (1.0, "JOHN", True), (4.0, "JOHN", False), (9.0, "MARY", True), (75.5, "MARY", False), (3723.0, "MARY", False),
    ]  # the [MUSIC]-only line at 00:00:12 gives no cue
    assert cues[1].text == "Today we talk about café culture & coffee."
    assert cues[2].text == "Thanks, John. Happy to be here."
    assert [c.line for c in cues] == [1, 2, 3, 5, 6]


def test_plain_otter_headers_name_the_speaker():
    transcript, cues = cues_of(plain, read("standard_otter.txt"))
    # "Speaker 1" is Otter's diarization label: kept as a label, the named speaker is Jane Doe.
    assert [(c.speaker or c.label, c.start_s, c.turn) for c in cues] == [
        ("Speaker 1", 0.0, True), ("Jane Doe", 15.0, True), ("Speaker 1", 62.0, True), ("Jane Doe", 90.0, True),
    ]
    assert cues[0].speaker is None and cues[0].label == "Speaker 1"
    assert cues[1].text == "Thanks for having me. It's great to be here — really."
    assert transcript.speakers == ["Jane Doe"]


def test_plain_transistor_timecode_lines():
    _, cues = cues_of(plain, read("standard_transistor.txt"))
    assert [(c.speaker, c.start_s, c.turn) for c in cues] == [
        ("Kevin", 0.0, True), ("Alban", 9.0, True), ("Alban", 20.0, False), ("Kevin", 31.0, True),
    ]
    assert cues[0].text.endswith("upload an artwork file for these videos.")


def test_plain_prose_gives_paragraphs_without_times():
    _, cues = cues_of(plain, PROSE)
    assert [c.text for c in cues] == [
        "Welcome to my blog.",
        "Today I want to talk about podcasts. Note: this is prose. At 10:30 we met for coffee, and at 11:45 we left.",
        "12:00 was lunch.",
    ]
    assert all(c.start_s is None and c.speaker is None for c in cues)


@pytest.mark.parametrize(("bad", "line"), [("00:00:61 Broken seconds.", 3), ("00:7x:10 Broken minutes.", 3)])
def test_plain_malformed_timestamp_names_the_line(bad, line):
    text = f"00:00:01 First line.\n00:00:04 Second line.\n{bad}\n00:00:09 Last line.\n"
    err = raises_at(plain, text)
    assert err.line == line and "timestamp" in err.message


def test_plain_sniff_needs_most_lines_timecoded():
    assert plain.sniff("00:00:01 a\n00:00:02 b\n00:00:03 c\n")
    assert not plain.sniff("00:00:01 a\nprose\nprose\nprose\nprose\n00:00:02 b\n")
    assert not plain.sniff("[00:01] bracketed\n[00:02] lines belong to bracket captions\n")
    assert not plain.sniff("00:05:00 going\n00:01:00 backwards\n00:00:10 in\n00:00:01 time\n")


# --- robustness ------------------------------------------------------------------------


def _only_transcripts_or_transcript_error(module, text: str) -> None:
    module.sniff(text)
    try:
        result = module.parse(text)
    except TranscriptError as err:
        assert err.message
        return
    assert isinstance(result, list) and all(isinstance(t, Transcript) for t in result)
    for t in result:
        for cue in t.cues:
            assert isinstance(cue.text, str) and cue.text


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text())
def test_fuzz_random_text(module, text):
    _only_transcripts_or_transcript_error(module, text)


_ALPHABET = st.sampled_from(
    [*list("<>/&;:.,-\n\t []{}\"'0123456789vcpWEBVT"), "-->", "<v ", "</p>", "&amp;", "\ufeff", "é"]
)


@st.composite
def mutated_fixture(draw):
    text = read(draw(st.sampled_from(sorted(FIXTURES))))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        j = min(len(text), i + draw(st.integers(0, 20)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + "".join(draw(st.lists(_ALPHABET, max_size=8))) + text[i:]
        elif op == "replace":
            text = text[:i] + "".join(draw(st.lists(_ALPHABET, max_size=8))) + text[j:]
        else:
            lines = text.split("\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
    return text


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_fixture())
def test_fuzz_mutated_fixtures(module, text):
    _only_transcripts_or_transcript_error(module, text)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.NAME)
def test_forced_on_every_seed_returns_or_raises_transcript_error(module):
    for seed in SEEDS:
        _only_transcripts_or_transcript_error(module, seed.read_text(encoding="utf-8"))


def test_large_inputs_parse_quickly():
    def ts(ms: int, sep: str = ".") -> str:
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"

    n = 5000
    texts = {
        vtt: "WEBVTT\n\n" + "".join(
            f"{ts(i * 2000)} --> {ts(i * 2000 + 2000)}\n<v S{i % 3}>cue {i} has some words in it.\n\n" for i in range(n)
        ),
        srt_format: "".join(
            f"{i + 1}\n{ts(i * 2000, ',')} --> {ts(i * 2000 + 2000, ',')}\nJOHN: cue {i} has words.\n\n"
            for i in range(n)
        ),
        podcast_json: json.dumps(
            {
                "segments": [
                    {
                        "speaker": "A",
                        "startTime": i * 0.3,
                        "endTime": i * 0.3 + 0.25,
                        "body": "word." if i % 9 == 8 else "word",
                    }
                    for i in range(4 * n)
                ]
            }
        ),
        podcast_html: "".join(
            f"<cite>S{i % 2}:</cite><time>{ts(i * 2000)[:8]}</time><p>cue {i} words.</p>\n" for i in range(n)
        ),
        plain: "".join(f"{ts(i * 2000)[:8]} cue {i} has words.\n" for i in range(n)),
    }
    for module, text in texts.items():
        assert module.sniff(text)
        started = time.perf_counter()
        _, cues = cues_of(module, text)
        elapsed = time.perf_counter() - started
        assert len(cues) >= 2000
        assert elapsed < 3.0, (module.NAME, elapsed)
