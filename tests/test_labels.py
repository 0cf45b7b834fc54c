"""Speaker labels: one rule for every format, diarization labels kept as labels and shown
as "Speaker N" on cards and in the CLI, placeholders meaning nobody."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.app import build_app
from bot.events import EventLog
from bot.serve import serving
from bot.settings import Settings
from handlers import cards
from handlers.cards import attribution, search_card
from index import formats
from index.ingest import ingest
from index.labels import NOBODY, Voice, label_name, names_speaker, voice
from index.search import Library

from .test_cases import CASES
from .test_digest import slack  # noqa: F401 - the fixture
from .test_slack import SECRET, all_text, buttons_of, command


@pytest.mark.parametrize(("raw", "expected"), [
    ("Unknown", NOBODY), ("Unknown Speaker", NOBODY), ("Speaker ?", NOBODY), ("??", NOBODY),
    ("SPEAKER_00", Voice(label="SPEAKER_00")), ("spk_1", Voice(label="spk_1")), ("Speaker 2", Voice(label="Speaker 2")),
    ("Marta Kowal", Voice(speaker="Marta Kowal")), ("A", Voice(speaker="A")),
])
def test_what_a_label_means(raw, expected):
    assert voice(raw) == expected


def test_vendor_ids_are_labels_only_where_the_field_is_a_diarization_id():
    assert voice("A", vendor_ids=True) == Voice(label="A")
    assert voice(0, vendor_ids=True) == Voice(label="0")


@pytest.mark.parametrize(("label", "shown"), [
    ("SPEAKER_00", "Speaker 1"), ("SPEAKER_01", "Speaker 2"), ("SPEAKER_1", "Speaker 1"), ("SPEAKER_2", "Speaker 2"),
    ("spk_0", "Speaker 1"), ("spk_1", "Speaker 2"), ("A", "Speaker 1"), ("B", "Speaker 2"), ("0", "Speaker 1"),
    ("Speaker 1", "Speaker 1"), ("Speaker B", "Speaker 2"),
])
def test_labels_are_shown_as_speaker_n(label, shown):
    assert label_name(label) == shown


CONVENTIONS = {
    "Name: text": "Marta Kowal: We keep spares in the shed by the pier.",
    ">> NAME: text": ">> MARTA KOWAL: We keep spares in the shed by the pier.",
    "[Name]: text": "[Marta Kowal]: We keep spares in the shed by the pier.",
    "[Name] text": "[Marta Kowal] We keep spares in the shed by the pier.",
}


def in_shape(shape: str, lines: list[str]) -> str:
    """One cue a line (at most ten), as an SRT, WebVTT or timecoded plain-text file."""
    if shape == "srt":
        return "".join(f"{i + 1}\n00:00:0{i},000 --> 00:00:0{i},900\n{line}\n\n" for i, line in enumerate(lines))
    if shape == "vtt":
        return "WEBVTT\n\n" + "".join(f"00:00:0{i}.000 --> 00:00:0{i}.900\n{line}\n\n" for i, line in enumerate(lines))
    return "".join(f"00:00:0{i} {line}\n" for i, line in enumerate(lines))


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
@pytest.mark.parametrize("shape", ["srt", "vtt", "plain"])
def test_each_convention_in_srt_vtt_and_plain_text(convention, shape):
    first = CONVENTIONS[convention]
    second = first.replace("Marta Kowal", "Olek Nowak").replace("MARTA KOWAL", "OLEK NOWAK").replace(
        "We keep spares in the shed by the pier.", "The brass diaphragm cracks every winter.")
    fmt, [t] = formats.parse(in_shape(shape, [first, second, first, second]))
    assert fmt == shape
    names = [c.speaker.title() if c.speaker else None for c in t.cues]
    assert names == ["Marta Kowal", "Olek Nowak", "Marta Kowal", "Olek Nowak"]
    assert [c.text for c in t.cues][:2] == ["We keep spares in the shed by the pier.",
                                           "The brass diaphragm cracks every winter."]
    assert all(c.turn for c in t.cues)


EXCHANGE = ["Zed: I think the export controls will hold.", "Yan: They will not hold past next year."]


@pytest.mark.parametrize("shape", ["srt", "vtt", "plain"])
def test_a_short_exchange_whose_every_cue_opens_with_a_name_is_speakers(shape):
    """Each name said once: still speakers, when every cue (two or more) opens with one."""
    _, [t] = formats.parse(in_shape(shape, EXCHANGE))
    assert [(c.speaker, c.text, c.turn) for c in t.cues] == [
        ("Zed", "I think the export controls will hold.", True), ("Yan", "They will not hold past next year.", True)]


@pytest.mark.parametrize("shape", ["srt", "vtt", "plain"])
@pytest.mark.parametrize("lines", [
    # most cues unlabelled: a one-off prefix is text, heading or not
    ["The summit opened with a long speech.", "Note: the delegates met again in the evening.",
     "Nothing was signed that night.", "Update: the talks resume on Monday.", "Madrid: the hotels were full.",
     "Warning: the roads were closed.", "Re: the minutes, they were never published."],
    # every cue labelled, but with headings, not names
    ["Note: the export controls will hold.", "Update: they will not hold past next year."],
    ["Re: the export controls.", "Warning: they will not hold past next year."],
])
def test_one_off_prefixes_in_ordinary_text_stay_text(shape, lines):
    _, [t] = formats.parse(in_shape(shape, lines))
    assert all(c.speaker is None and c.label is None for c in t.cues)
    assert " ".join(c.text for c in t.cues).split() == " ".join(lines).split()


@pytest.mark.parametrize("shape", ["srt", "vtt"])
def test_one_cue_is_no_exchange(shape):
    _, [t] = formats.parse(in_shape(shape, EXCHANGE[:1]))
    assert [(c.speaker, c.text) for c in t.cues] == [(None, EXCHANGE[0])]


def test_cards_name_the_speakers_of_a_short_exchange(tmp_path, store):
    path = tmp_path / "exchange.srt"
    path.write_text(in_shape("srt", EXCHANGE))
    assert all(r.ok for r in ingest([str(path)], store))
    library = Library(store, tmp_path / "index")
    library.refresh()
    [hit] = library.search("export controls will hold")
    assert (hit.who, hit.text) == ("Zed", "I think the export controls will hold.")
    assert attribution(hit).startswith("*Zed*")
    # an untitled episode (a file ingested on its own) is named on the card by its id
    assert hit.episode == hit.episode_id and attribution(hit).endswith(f" · {hit.episode_id}")


def test_dialogue_dashes_are_two_unnamed_turns():
    text = "1\n00:00:01,000 --> 00:00:03,000\n- Where are the spares?\n- In the shed.\n"
    _, [t] = formats.parse(text)
    assert [(c.text, c.turn, c.speaker) for c in t.cues] == [
        ("Where are the spares?", True, None), ("In the shed.", True, None)]


def test_placeholder_labels_mean_no_speaker_in_every_format():
    srt = "1\n00:00:01,000 --> 00:00:03,000\nUnknown Speaker: hello there.\n\n2\n00:00:04,000 --> 00:00:05,000\n" \
          "Speaker ?: and again.\n"
    _, [t] = formats.parse(srt)
    assert [(c.speaker, c.label, c.text) for c in t.cues] == [(None, None, "hello there."), (None, None, "and again.")]
    cue_list = '[{"start": 0, "end": 1, "text": "hello", "speaker": "Unknown"}]'
    _, [t] = formats.parse(cue_list)
    assert (t.cues[0].speaker, t.cues[0].label) == (None, None)


@pytest.fixture
def labelled_library(tmp_path, store) -> Library:
    (tmp_path / "in").mkdir()
    for name in ("srt-whisperx-bracket-speaker-label.srt", "json-assemblyai-utterances-ms.json"):
        (tmp_path / "in" / name).write_bytes((CASES / name).read_bytes())
    results = ingest([str(tmp_path / "in")], store)
    assert all(r.ok for r in results), [r.error for r in results]
    library = Library(store, tmp_path / "index")
    library.refresh()
    return library


def test_cards_show_diarization_labels_as_speaker_n(labelled_library):
    [hit] = labelled_library.search("test a new one before the storms")
    assert hit.speaker is None and hit.speaker_label == "SPEAKER_00" and hit.who == "Speaker 1"
    line = attribution(hit)
    assert line.startswith("*Speaker 1*") and "SPEAKER_00" not in str(search_card(hit, "q", 0, 1))
    [hit] = labelled_library.search("brass diaphragm cracks every winter without fail")
    assert hit.who == "Speaker 2"
    # "Speaker 2" is searchable as a speaker, like a name.
    assert [h.who for h in labelled_library.search('diaphragm speaker:"speaker 2"')] == ["Speaker 2"] * len(
        labelled_library.search('diaphragm speaker:"speaker 2"'))


@pytest.mark.parametrize(("wanted", "name", "named"), [
    ("Speaker 1", "Speaker 1", True), ("speaker 2", "Speaker 2", True), ("SPEAKER_00", "Speaker 1", True),
    ("spk_1", "Speaker 2", True), ("Speaker 1", "Speaker 12", False), ("speaker 1", "Speaker 2", False),
    ("dylan", "Dylan Patel", True), ("Patel", "Dylan Patel", True), ("jose", "José Ortiz", True),
    ("dylan", "Nathan Lambert", False),
])
def test_a_speaker_filter_names_a_label_exactly_and_a_name_by_part(wanted, name, named):
    assert names_speaker(wanted, name) is named


@pytest.fixture
def labelled_bot(labelled_library, store, slack):
    """/quote over signed HTTP on the labelled library; its URL."""
    settings = Settings(SLACK_BOT_TOKEN="xoxb-labels", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
    with serving(build_app(settings, labelled_library, EventLog(store.engine)), labelled_library) as url:
        yield url


@pytest.mark.parametrize(("typed", "shown", "other"), [
    ('speaker:"Speaker 1"', "Speaker 1", "Speaker 2"), ('speaker:"speaker 2"', "Speaker 2", "Speaker 1"),
    ("speaker:SPEAKER_00", "Speaker 1", "Speaker 2"),
])
def test_a_diarization_label_alone_lists_that_speakers_quotes(labelled_bot, slack, typed, shown, other):
    """As ``speaker:dylan`` alone does: Speaker 1 only ever asks short questions, and is listed all the same."""
    card = all_text(command(labelled_bot, slack, typed))
    assert f"*{shown}*" in card and f"*{other}*" not in card, card


def test_a_sidecar_names_a_diarization_label_and_the_label_is_kept(tmp_path, store):
    name = "srt-whisperx-bracket-speaker-label.srt"
    (tmp_path / name).write_bytes((CASES / name).read_bytes())
    (tmp_path / (name.split(".")[0] + ".meta.json")).write_text(
        '{"speakers": {"SPEAKER_00": "Marta", "Speaker 2": "Olek"}}'
    )
    [r] = ingest([str(tmp_path / name)], store)
    assert r.ok, r.error
    segs = store.segments_of(r.episodes[0])
    assert [(s.speaker, s.speaker_label) for s in segs][:2] == [("Marta", "SPEAKER_00"), ("Olek", "SPEAKER_01")]


def test_cli_search_shows_speaker_n(tmp_path):
    data = tmp_path / "data"
    env = {"QUOTEBOT_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "bot", "ingest", str(CASES / "json-deepgram-utterances.json")],
                         capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "bot", "search", "brass diaphragm"], capture_output=True, text=True,
                         env=env, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Speaker 2" in run.stdout and "SPEAKER" not in run.stdout


@pytest.mark.parametrize(
    "text",
    [
        "1\n00:00:01,000 --> 00:00:03,000\nThe keeper lights the lamp.\n\n2\n00:00:04,000 --> 00:00:05,000\n"
        "Transcribed by https://otter.ai\n",
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nThe keeper lights the lamp. Transcribed by https://otter.ai\n",
        "Marta: The keeper lights the lamp.\n\nOlek: Yes.\n\nMarta: Every night.\n\nOlek: Good.\n\nSubtitles by the Amara.org community\n",
    ],
)
def test_tool_footers_are_dropped_in_every_format(text):
    _, [t] = formats.parse(text)
    assert all("otter" not in c.text and "Amara" not in c.text for c in t.cues)
    assert any("footer" in w for w in t.warnings)
    assert t.cues[0].text == "The keeper lights the lamp."


@pytest.mark.parametrize("marker", ["[inaudible 00:00:12]", "[crosstalk 01:02]", "(inaudible 00:12)", "[INAUDIBLE]"])
def test_noise_markers_with_times_never_stay_in_a_quote(marker):
    text = f"1\n00:00:01,000 --> 00:00:03,000\nThe lens is brass. {marker} It cracks.\n"
    _, [t] = formats.parse(text)
    assert t.cues[0].text == "The lens is brass. It cracks."


def test_whisper_cpp_lines_and_html_cites_use_the_same_rule():
    wcpp = ("[00:00:00.000 --> 00:00:02.000]   [SPEAKER_00]: Welcome back.\n"
            "[00:00:02.000 --> 00:00:04.000]   [SPEAKER_01]: Thanks.\n"
            "[00:00:04.000 --> 00:00:06.000]   - and more from me\n")
    fmt, [t] = formats.parse(wcpp)
    assert fmt == "whisper-cpp"
    assert [(c.label, c.text) for c in t.cues] == [
        ("SPEAKER_00", "Welcome back."),
        ("SPEAKER_01", "Thanks."),
        ("SPEAKER_01", "- and more from me"),
    ]
    html = (
        "<cite>Unknown:</cite><time>0:00</time><p>Hello there.</p><cite>SPEAKER_02:</cite><time>0:05</time><p>Hi.</p>"
    )
    _, [t] = formats.parse(html, "podcast-html")
    assert [(c.speaker, c.label) for c in t.cues] == [(None, None), (None, "SPEAKER_02")]


@pytest.mark.parametrize("text", [
    "1\n00:00:03 --> 00:00:04\nno milliseconds\n",
    "WEBVTT\n\n00:03 --> 00:04\nno milliseconds\n",
    "WEBVTT\n\n3 --> 4\nbare seconds\n",
])
def test_times_without_milliseconds_or_hours(text):
    _, [t] = formats.parse(text)
    assert (t.cues[0].start_s, t.cues[0].end_s) == (3.0, 4.0)


INTERVIEW = """\
Sam Okafor: Welcome back. Today I'm talking with Lena Holm, who has spent ten years studying the glaciers of West Antarctica.
Lena Holm: Thanks for having me, Sam.
Sam Okafor: So what keeps you up at night?
Lena Holm: Thwaites. The ice shelf that buttresses the Thwaites glacier is cracking faster than any model predicted, and once it goes the grounding line retreats into deeper basins where nothing holds it back.
Sam Okafor: How fast could that happen?
Lena Holm: Decades, not centuries. We used to talk about this as a problem for our grandchildren, but the warm water reaching the underside of the shelf is already there, and it is melting the ice from below every single day.
Sam Okafor: That is sobering. Thank you, Lena.
"""


@pytest.fixture
def interview_bot(tmp_path, store, slack):
    """/quote over signed HTTP on a library holding one untimed plain-text interview (``Name: text`` turns); its URL."""
    path = tmp_path / "interview.txt"
    path.write_text(INTERVIEW)
    results = ingest([str(path)], store)
    assert all(r.ok for r in results), [r.error for r in results]
    library = Library(store, tmp_path / "index")
    library.refresh()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-interview", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
    with serving(build_app(settings, library, EventLog(store.engine)), library) as url:
        yield url


@pytest.mark.parametrize(("typed", "shown", "other"), [
    ("speaker:lena", "Lena Holm", "Sam Okafor"), ('speaker:"Lena Holm"', "Lena Holm", "Sam Okafor"),
    ("speaker:holm", "Lena Holm", "Sam Okafor"), ("speaker:sam", "Sam Okafor", "Lena Holm"),
])
def test_a_speaker_alone_lists_their_quotes_from_an_untimed_transcript(interview_bot, slack, typed, shown, other):
    """A plain text without times has no moment to link, yet a speaker filter alone still lists its speakers'
    quotes (after any timed ones): the card names the speaker and offers no "Open at" button."""
    message = command(interview_bot, slack, typed)
    card = all_text(message)
    assert "No quote matched" not in card and f"*{shown}*" in card and f"*{other}*" not in card, card
    assert "Open at" not in card, card
    count = next(b for b in message["blocks"] if b.get("block_id") == "quote_count")["elements"][0]["text"]
    assert count.startswith("1 of "), count
    assert cards.NEXT in buttons_of(message)  # pages like any search


def test_untimed_segments_come_after_the_timed_ones(tmp_path, store):
    """A speaker in a timed exchange and an untimed interview: the timed turns, however short, are listed first."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "interview.txt").write_text(INTERVIEW)
    (tmp_path / "in" / "exchange.srt").write_text(in_shape("srt", [
        "Lena Holm: The ice front is cracking.", "Sam Okafor: Already?", "Lena Holm: Yes, since the spring survey.",
    ]))
    results = ingest([str(tmp_path / "in")], store)
    assert all(r.ok for r in results), [r.error for r in results]
    library = Library(store, tmp_path / "index")
    library.refresh()
    hits = library.search("speaker:lena")
    assert {h.who for h in hits} == {"Lena Holm"}
    timed = [h.start_s is not None for h in hits]
    assert timed == sorted(timed, reverse=True) and timed.count(True) == 2 and timed.count(False) == 3, hits
    # an episode filter alone lists an untimed episode's quotes too
    hits = library.search("episode:interview")
    assert len(hits) == 7 and all(h.start_s is None and h.episode_id == "interview" for h in hits), hits
