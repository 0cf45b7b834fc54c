"""The real-world shapes of ../shared/cases/transcripts (copied to tests/data/cases), each with
the right result from that folder's README: detected format, speakers, start times (within
0.1 s) and clean text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index import formats
from index.labels import label_name
from index.model import Cue, Transcript
from index.segment import segment
from index.sources import decode

CASES = Path(__file__).parent / "data" / "cases"


def parsed(name: str) -> tuple[str, Transcript]:
    text, warnings = decode((CASES / name).read_bytes())
    fmt, [transcript] = formats.parse(text)
    transcript.warnings[:0] = warnings
    return fmt, transcript


def who(cue: Cue) -> str | None:
    """Who a card shows for the cue."""
    return cue.speaker or label_name(cue.label)


def turns(t: Transcript) -> list[tuple[str | None, float]]:
    """(who, start) of each turn: a cue whose voice differs from the one before."""
    out: list[tuple[str | None, float]] = []
    previous: object = object()
    for c in t.cues:
        if c.voice != previous:
            out.append((c.speaker or c.label, c.start_s))
            previous = c.voice
    return out


def near(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 0.1


def assert_turns(t: Transcript, expected: list[tuple[str | None, float]]) -> None:
    got = turns(t)
    assert [w for w, _ in got] == [w for w, _ in expected], got
    assert all(near(s, e) for (_, s), (_, e) in zip(got, expected)), got


def text_of(t: Transcript) -> str:
    return " ".join(c.text for c in t.cues)


def test_vtt_zoom_name_colon_prefix():
    fmt, t = parsed("vtt-zoom-name-colon-prefix.vtt")
    assert fmt == "vtt"
    assert_turns(t, [("Marta Kowal", 144.72), ("Olek Nowak", 153.48), ("Marta Kowal", 172.17)])
    assert "Kowal:" not in text_of(t) and "Nowak:" not in text_of(t)
    [seg] = [s for s in segment(t, "ep") if "brass diaphragm cracked after a single gale" in s.text]
    assert seg.speaker == "Olek Nowak" and 153 <= seg.start_s <= 157


def test_srt_whisperx_bracket_speaker_label():
    fmt, t = parsed("srt-whisperx-bracket-speaker-label.srt")
    assert fmt == "srt"
    assert_turns(t, [("SPEAKER_00", 0.03), ("SPEAKER_01", 4.5), ("SPEAKER_00", 14.5)])
    assert all(c.speaker is None for c in t.cues)  # diarization labels, not names
    assert [who(c) for c in t.cues] == ["Speaker 1", "Speaker 2", "Speaker 2", "Speaker 1"]
    assert "SPEAKER" not in text_of(t) and "[" not in text_of(t)


def test_srt_broadcast_chevron_speaker_names():
    fmt, t = parsed("srt-broadcast-chevron-speaker-names.srt")
    assert fmt == "srt"
    assert_turns(t, [("MARTA", 1.0), ("OLEK", 4.5), ("Speaker 1", 12.5)])
    assert t.cues[2].speaker == "OLEK" and t.cues[2].text == "IT CRACKS EVERY WINTER WITHOUT FAIL."
    assert who(t.cues[3]) == "Speaker 1"
    assert ">>" not in text_of(t) and "MARTA:" not in text_of(t)


def test_json_assemblyai_utterances_ms():
    fmt, t = parsed("json-assemblyai-utterances-ms.json")
    assert fmt == "assemblyai"
    assert_turns(t, [("A", 0.537), ("B", 24.5)])
    assert [who(c) for c in t.cues] == ["Speaker 1", "Speaker 2"]
    assert t.cues[0].text == "Welcome to Harbour Lights."


def test_json_deepgram_utterances():
    fmt, t = parsed("json-deepgram-utterances.json")
    assert fmt == "deepgram"
    assert_turns(t, [("0", 0.8), ("1", 24.5)])
    assert [who(c) for c in t.cues] == ["Speaker 1", "Speaker 2"]
    assert t.cues[1].text == "The brass diaphragm cracks every winter."


def test_json_whispercpp_oj_output():
    fmt, t = parsed("json-whispercpp-oj-output.json")
    assert fmt == "whisper-cpp-json"
    assert [c.start_s for c in t.cues] == [0.0, 4.2, 62.0]
    assert t.cues[0].text == "Welcome to Harbour Lights, the show about lighthouses."


def test_json_aws_transcribe_items():
    fmt, t = parsed("json-aws-transcribe-items.json")
    assert fmt == "aws-transcribe"
    assert_turns(t, [("spk_0", 0.0), ("spk_1", 2.0)])
    assert [who(c) for c in t.cues] == ["Speaker 1", "Speaker 2"]
    assert t.cues[0].text == "Welcome to Harbour Lights."  # punctuation joined to its word


def test_vtt_seconds_only_timestamps():
    fmt, t = parsed("vtt-seconds-only-timestamps.vtt")
    assert fmt == "vtt"
    assert [c.start_s for c in t.cues] == [0.86, 10.1, 13.5, 75.84]
    assert [c.label for c in t.cues] == ["SPEAKER_1", "SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]
    assert [who(c) for c in t.cues] == ["Speaker 1", "Speaker 1", "Speaker 2", "Speaker 1"]


def test_srt_one_malformed_timing_line():
    fmt, t = parsed("srt-one-malformed-timing-line.srt")
    assert fmt == "srt"
    assert len(t.cues) == 4 and "oranges washed ashore" not in text_of(t)
    assert any(w.startswith("line 10:") for w in t.warnings)


def test_vtt_arrow_in_cue_text():
    fmt, t = parsed("vtt-arrow-in-cue-text.vtt")
    assert fmt == "vtt"
    assert [(c.start_s, c.text) for c in t.cues] == [
        (1.0, "Step one --> open the lantern hatch."), (4.5, "Step two: trim the wick and light it.")]
    assert all(c.speaker is None for c in t.cues)  # "Step two:" is not a speaker


def test_srt_single_digit_time_fields():
    fmt, t = parsed("srt-single-digit-time-fields.srt")
    assert fmt == "srt"
    assert [c.start_s for c in t.cues] == [4.8, 7.4, 9.5]


def test_srt_blank_line_after_first_index():
    fmt, t = parsed("srt-blank-line-after-first-index.srt")
    assert fmt == "srt"
    assert [(c.start_s, c.text) for c in t.cues] == [
        (0.0, "The tide tables are pinned above the stove."), (4.0, "We check them twice a day.")]


def test_srt_single_turn_speaker_label():
    _fmt, t = parsed("srt-single-turn-speaker-label.srt")
    assert_turns(t, [("Marta Kowal", 0.78), ("Olek Nowak", 6.21), ("Marta Kowal", 13.1), ("Jan Wiater", 18.1),
                     ("Olek Nowak", 24.1)])
    assert "Jan Wiater:" not in text_of(t)


def test_srt_unknown_speaker_label():
    _fmt, t = parsed("srt-unknown-speaker-label.srt")
    unknown = [c for c in t.cues if "hear me" in c.text or "east pier" in c.text]
    assert len(unknown) == 2 and all(c.speaker is None and c.label is None for c in unknown)
    assert "Unknown" not in text_of(t) and "Unknown" not in t.speakers
    assert t.speakers == ["Marta Kowal", "Olek Nowak"]


def test_srt_non_monotonic_cues():
    _fmt, t = parsed("srt-non-monotonic-cues.srt")
    segs = segment(t, "ep")
    by_text = {s.text: s.start_s for s in segs}
    assert by_text["One more thing, always keep spare lenses in the shed."] == 1181.0
    assert by_text["Thanks for having me on the show."] == 2.0
    assert any("line 14" in w and "line 10" in w for w in t.warnings)
    assert any("line 18" in w and "line 14" in w for w in t.warnings)


def test_an_ingest_reports_cues_that_go_back_in_time(tmp_path):
    """The warnings reach the person running ``quotebot ingest``, not only the segmenter."""
    from index.ingest import ingest
    from index.store import Store

    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    [result] = ingest([str(CASES / "srt-non-monotonic-cues.srt")], store)
    assert result.status == "added"
    assert sum("kept with its own time" in w for w in result.warnings) == 2, result.warnings
    assert any("line 14" in w and "line 10" in w for w in result.warnings)
    store.close()


def test_vtt_blank_line_before_cue_text():
    _fmt, t = parsed("vtt-blank-line-before-cue-text.vtt")
    [cue] = [c for c in t.cues if c.text.startswith("The harbourmaster heard it")]
    assert cue.start_s == 2716.96 and cue.text.endswith("and asked me what I thought.")
    assert any(w.startswith("line 8:") for w in t.warnings)


def test_srt_inaudible_timestamp_marker():
    _fmt, t = parsed("srt-inaudible-timestamp-marker.srt")
    assert "inaudible" not in text_of(t) and "00:00:12" not in text_of(t)
    assert t.cues[1].text == "The foghorn diaphragm is brass. It cracks in the cold."


def test_srt_stray_index_line_in_text():
    _fmt, t = parsed("srt-stray-index-line-in-text.srt")
    assert [c.text for c in t.cues] == ["The keeper logs every ship that passes.",
                                        "A schooner ran aground near the breakwater."]


def test_vtt_youtube_old_style_rolling():
    _fmt, t = parsed("vtt-youtube-old-style-rolling.vtt")
    assert text_of(t) == "right so the keeper lights the lamp nightly"


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.iterdir() if p.is_file() and p.suffix != ".md"))
def test_every_case_is_read_and_no_label_or_timing_stays_in_its_text(name):
    _, t = parsed(name)
    segs = segment(t, "ep")
    assert segs
    for s in segs:
        assert "SPEAKER_" not in s.text and "-->" not in s.text.replace("Step one --> open", "")
        assert not re.search(r"\(\d{1,2}:\d{2}\)|\[\d{1,2}:\d{2}", s.text)


def test_ttml_apple_podcasts_word_spans():
    fmt, t = parsed("ttml-apple-podcasts-word-spans.ttml")
    assert fmt == "ttml"
    assert_turns(t, [("SPEAKER_1", 0.22), ("SPEAKER_2", 62.0)])
    assert t.cues[0].text == "Welcome to Harbour Lights. Today we discuss lighthouse keepers and foghorn maintenance."
    assert t.cues[1].text == "Thanks for having me, the brass lens needs polishing weekly."


def test_txt_bracket_time_name_colon_lines():
    _fmt, t = parsed("txt-bracket-time-name-colon-lines.txt")
    assert_turns(t, [("Marta Kowal", 0), ("Olek Nowak", 6), ("Marta Kowal", 12), ("Olek Nowak", 17),
                     ("Marta Kowal", 25), ("Olek Nowak", 29)])
    [seg] = [s for s in segment(t, "ep") if "spare lenses" in s.text and "shed" in s.text]
    assert seg.speaker == "Olek Nowak" and seg.start_s == 17.0
    assert "Nowak:" not in text_of(t)


def test_txt_rev_name_colon_paren_time():
    _fmt, t = parsed("txt-rev-name-colon-paren-time.txt")
    assert [c.start_s for c in t.cues] == [0, 15, 31, 36, 44, 49]
    assert [c.speaker for c in t.cues] == ["Marta", "Olek"] * 3
    assert "(00:15)" not in text_of(t)


def test_txt_speaker_paren_time_colon_two_turns():
    fmt, t = parsed("txt-speaker-paren-time-colon-two-turns.txt")
    assert fmt == "speaker-md"
    assert_turns(t, [("Marta", 0), ("Olek", 15)])


def test_txt_davinci_resolve_frames():
    _fmt, t = parsed("txt-davinci-resolve-frames.txt")
    assert_turns(t, [("Marta", 3.72), ("Olek", 8.4), ("Marta", 3730.2)])  # frames at 25 fps
    assert t.cues[0].text.startswith("Welcome to Harbour Lights.") and "Marta" not in text_of(t)
    assert [(round(c.start_s, 2), round(c.end_s, 2)) for c in t.cues] == [(3.72, 8.32), (8.4, 15.88), (3730.2, 3735.0)]
    segs = segment(t, "davinci")
    assert [(s.speaker, round(s.start_s, 2), round(s.end_s, 2)) for s in segs] == [
        ("Marta", 3.72, 8.32), ("Olek", 8.4, 15.88), ("Marta", 3730.2, 3735.0)]


def test_txt_starting_point_is_timestamps():
    _fmt, t = parsed("txt-starting-point-is-timestamps.txt")
    assert [c.start_s for c in t.cues] == [0, 7, 3735]
    assert "Starting point" not in text_of(t)
    # blocks an hour apart are never one quote, and a block stamped only at its start does not
    # last until the next block: "thanks for listening" is said at 01:02:15, not at 00:00:00
    segs = segment(t, "starting-point")
    last = next(s for s in segs if "Thanks for listening" in s.text)
    assert last.start_s == 3735 and "brass" not in last.text
    assert all(s.end_s - s.start_s < 60 for s in segs)


def test_srt_gb2312_encoded():
    fmt, t = parsed("srt-gb2312-encoded.srt")
    assert fmt == "srt"
    assert t.cues[0].text == "灯塔看守人每天擦亮铜镜"
    assert any("gb18030" in w for w in t.warnings)


@pytest.mark.parametrize(("text", "codec"), [
    ("我們每天擦亮燈塔的銅鏡，霧笛每年冬天都會裂開。", "big5"),
    ("灯塔看守人每天擦亮铜镜，雾笛的膜片每年冬天都会裂开。", "gbk"),
    ("灯台守は毎日真鍮のレンズを磨きます。霧笛は冬に割れます。", "shift_jis"),
    ("Café crème, naïve déjà vu — “quoted” and more words.", "cp1252"),
    ("Hello there, the keeper polishes the lens every day and night.", "utf-16-le"),
    ("Hello there, the keeper polishes the lens every day and night.", "utf-16-be"),
])
def test_each_encoding_is_detected(text, codec):
    decoded, warnings = decode(text.encode(codec))
    assert decoded == text and len(warnings) == 1


def test_garbage_is_refused_not_stored():
    from index.errors import TranscriptError

    with pytest.raises(TranscriptError):
        decode(bytes(range(256)) * 4)


def test_whisper_cli_all_outputs_is_one_episode(tmp_path, store):
    from index.ingest import ingest

    folder = tmp_path / "whisper-cli-all-outputs"
    folder.mkdir()
    for f in (CASES / "whisper-cli-all-outputs").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    # An earlier run stored the .srt as an episode of its own: it goes.
    [old] = ingest([str(folder / "episode12.srt")], store)
    assert old.status == "added"
    results = ingest([str(folder)], store)
    assert all(r.ok for r in results)
    by_name = {Path(r.name).suffix: r for r in results}
    assert by_name[".json"].status == "added" and by_name[".json"].format == "podcast-json"
    assert {s: r.status for s, r in by_name.items() if s != ".json"} == {
        ".srt": "skipped", ".vtt": "skipped", ".tsv": "skipped", ".txt": "skipped"}
    assert by_name[".tsv"].format == "whisper-tsv"
    assert all("episode12.json" in r.warnings[0] for s, r in by_name.items() if s != ".json")
    [episode] = store.episodes()
    assert episode.sources == [str((folder / "episode12.json").resolve())]


def test_whisper_tsv_in_ms_with_a_bad_line_named():
    _, [t] = formats.parse("start\tend\ttext\n0\t4200\tHello there.\nx\t1\tbroken\n4200\t9870\tAnd again.\n")
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [(0.0, 4.2, "Hello there."), (4.2, 9.87, "And again.")]
    assert t.warnings == ["skipped 1 line(s) that are not 'start<TAB>end<TAB>text' (line 3)"]
