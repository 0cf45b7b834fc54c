"""Speech-to-text services' JSON: each vendor's shape, its time unit, its speakers; bad
elements skipped with a warning naming the field; other JSON refused naming the shapes read."""

from __future__ import annotations

import json

import pytest

from index import formats
from index.errors import TranscriptError
from index.formats import asr_json, plain
from index.labels import label_name


def read(doc) -> tuple[str, list]:
    fmt, [t] = formats.parse(json.dumps(doc))
    return fmt, t


def rows(t) -> list[tuple]:
    return [(c.start_s, c.end_s, c.speaker or label_name(c.label), c.text) for c in t.cues]


def test_assemblyai_words_only_in_ms():
    doc = {"status": "completed", "audio_duration": 9, "words": [
        {"text": "Hello", "start": 500, "end": 900, "speaker": "A"},
        {"text": "there.", "start": 900, "end": 1300, "speaker": "A"},
        {"text": "Hi!", "start": 2000, "end": 2500, "speaker": "B"}]}
    fmt, t = read(doc)
    assert fmt == "assemblyai"
    assert rows(t) == [(0.5, 1.3, "Speaker 1", "Hello there."), (2.0, 2.5, "Speaker 2", "Hi!")]


def test_deepgram_seconds_words_then_utterances_then_paragraphs():
    words = {"results": {"channels": [{"alternatives": [{"transcript": "x", "words": [
        {"word": "hello", "punctuated_word": "Hello.", "start": 1.25, "end": 1.5, "speaker": 0}]}]}]}}
    assert read(words) == ("deepgram", read(words)[1]) and rows(read(words)[1]) == [(1.25, 1.5, "Speaker 1", "Hello.")]
    utterances = {"results": {"channels": [{"alternatives": [{"transcript": "x"}]}], "utterances": [
        {"start": 3.0, "end": 4.0, "transcript": "Second one.", "speaker": 1}]}}
    assert rows(read(utterances)[1]) == [(3.0, 4.0, "Speaker 2", "Second one.")]
    paragraphs = {"results": {"channels": [{"alternatives": [{"transcript": "x", "paragraphs": {"paragraphs": [
        {"speaker": 0, "sentences": [{"text": "A sentence.", "start": 7.0, "end": 8.0}]}]}}]}]}}
    assert rows(read(paragraphs)[1]) == [(7.0, 8.0, "Speaker 1", "A sentence.")]


def test_deepgram_multichannel_gives_a_label_per_channel():
    doc = {"results": {"channels": [
        {"alternatives": [{"words": [{"word": "hi", "punctuated_word": "Hi.", "start": 0.0, "end": 0.4}]}]},
        {"alternatives": [{"words": [{"word": "yo", "punctuated_word": "Yo.", "start": 1.0, "end": 1.4}]}]}]}}
    assert [r[2] for r in rows(read(doc)[1])] == ["Speaker 1", "Speaker 2"]


def test_rev_ai_monologues_seconds_and_names():
    doc = {"monologues": [
        {"speaker": 0, "speaker_name": "Marta Kowal", "elements": [
            {"type": "text", "value": "Welcome", "ts": 0.5, "end_ts": 0.9}, {"type": "punct", "value": " "},
            {"type": "text", "value": "back", "ts": 0.9, "end_ts": 1.2}, {"type": "punct", "value": "."}]},
        {"speaker": 1, "elements": [{"type": "text", "value": "Thanks", "ts": 2.0, "end_ts": 2.4},
                                    {"type": "punct", "value": "!"}]}]}
    fmt, t = read(doc)
    assert fmt == "rev-json"
    assert rows(t) == [(0.5, 1.2, "Marta Kowal", "Welcome back."), (2.0, 2.4, "Speaker 2", "Thanks!")]


def test_aws_transcribe_older_files_give_speakers_in_speaker_labels():
    doc = {"results": {"items": [
        {"type": "pronunciation", "start_time": "0.5", "end_time": "0.9", "alternatives": [{"content": "Hello"}]},
        {"type": "punctuation", "alternatives": [{"content": "."}]}],
        "speaker_labels": {"segments": [{"items": [{"start_time": "0.5", "speaker_label": "spk_1"}]}]}}}
    fmt, t = read(doc)
    assert fmt == "aws-transcribe" and rows(t) == [(0.5, 0.9, "Speaker 2", "Hello.")]


def test_youtube_json3_in_ms():
    doc = {"events": [{"tStartMs": 1200, "dDurationMs": 2300, "segs": [{"utf8": "the keeper"}, {"utf8": " lights it"}]},
                      {"tStartMs": 3500, "segs": [{"utf8": "\n"}]}]}
    fmt, t = read(doc)
    assert fmt == "youtube-json3" and rows(t) == [(1.2, 3.5, None, "the keeper lights it")]


def test_bare_cue_list_seconds_with_duration_and_speakers():
    doc = [{"text": "First &amp; foremost.", "start": 1.5, "duration": 2.0},
           {"text": "Second.", "start": 4, "end": 5, "speaker": "SPEAKER_01"}]
    fmt, t = read(doc)
    assert fmt == "cue-list-json"
    assert rows(t) == [(1.5, 3.5, None, "First & foremost."), (4.0, 5.0, "Speaker 2", "Second.")]


def test_whisper_cpp_json_in_ms():
    doc = {"transcription": [{"offsets": {"from": 1500, "to": 2500}, "text": " Hello."}]}
    assert read(doc)[0] == "whisper-cpp-json" and rows(read(doc)[1]) == [(1.5, 2.5, None, "Hello.")]


def test_a_bad_element_is_skipped_with_a_warning_naming_its_field():
    doc = {"status": "completed", "words": [
        {"text": "Good", "start": 0, "end": 300, "speaker": "A"},
        {"text": "bad", "start": "soon", "end": 600, "speaker": "A"}]}
    _, t = read(doc)
    assert "Good" in t.cues[0].text
    assert any("words[1].start" in w for w in t.warnings)


def test_long_word_input_becomes_sentence_sized_cues():
    words = [{"text": w, "start": i * 300, "end": i * 300 + 250, "speaker": "A"}
             for i, w in enumerate(("The keeper lights the lamp every night and polishes it. " * 6).split())]
    _, t = read({"status": "completed", "words": words})
    assert [c.text for c in t.cues] == ["The keeper lights the lamp every night and polishes it."] * 6
    assert [c.start_s for c in t.cues] == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]


@pytest.mark.parametrize("doc", [{"hello": "world"}, [1, 2, 3], {"results": {"foo": 1}}])
def test_other_json_is_refused_naming_the_shapes_read(doc):
    with pytest.raises(TranscriptError) as info:
        formats.parse(json.dumps(doc))
    assert "AssemblyAI" in str(info.value) and "Deepgram" in str(info.value)


def test_format_plain_never_stores_json_keys():
    with pytest.raises(TranscriptError) as info:
        plain.parse(json.dumps({"utterances": "x", "text": "Welcome"}))
    assert "JSON" in str(info.value)
    assert asr_json.NOT_A_TRANSCRIPT.split(".")[0] in str(info.value)


TTML_CAPTIONS = """<?xml version="1.0" encoding="utf-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter"
    xmlns:ttm="http://www.w3.org/ns/ttml#metadata" ttp:tickRate="10000000" ttp:frameRate="25">
  <head><metadata><ttm:agent xml:id="marta"><ttm:name>Marta Kowal</ttm:name></ttm:agent></metadata></head>
  <body><div begin="10s">
    <p begin="0s" end="20000000t" ttm:agent="marta">The lamp<br/>is lit.</p>
    <p begin="00:00:05:15" end="00:00:06.000">No agent here.</p>
    <p begin="1500ms" end="2s" ttm:agent="Unknown">A placeholder agent.</p>
  </div></body>
</tt>"""


def test_ttml_captions_relative_times_ticks_frames_and_agents():
    fmt, [t] = formats.parse(TTML_CAPTIONS)
    assert fmt == "ttml"
    # TTML proper: a child's times are relative to its parent's begin (the div's 10 s).
    assert [(c.start_s, c.end_s, c.speaker, c.text) for c in t.cues] == [
        (10.0, 12.0, "Marta Kowal", "The lamp is lit."),
        (15.6, 16.0, None, "No agent here."),
        (11.5, 12.0, None, "A placeholder agent."),
    ]


def test_ttml_that_is_not_xml_names_the_line():
    with pytest.raises(TranscriptError) as info:
        formats.parse('<tt xmlns="http://www.w3.org/ns/ttml">\n<body><p begin="1s">x</body>', "ttml")
    assert info.value.line == 2
