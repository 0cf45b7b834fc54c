"""Speaker attribution from what the conversation reveals (index/speakers.py, issue 14)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main as cli
from index import speakers as sp
from index.ingest import build_record, ingest
from index.labels import display_name
from index.model import Cue, Transcript
from index.speakers import People, attribute

from .conftest import ROOT, SAMPLES, seed

# --- the rules, one at a time ---------------------------------------------------


def said(rule, sentence: str) -> list[tuple[str, str | None]]:
    return [(s.kind, s.heard) for s in rule(sentence)]


def test_self_introduction():
    assert said(sp.self_introduction, "This is Alessio, partner and CTO of Residence at Decibel Partners.") == [
        ("self", "Alessio")]
    assert said(sp.self_introduction, "Hi, I'm Marta Kowal and this is Harbour Lights.") == [("self", "Marta Kowal")]
    assert said(sp.self_introduction, "And my name is Olek Nowak.") == [("self", "Olek Nowak")]
    # not introductions: the podcast, a lowercase phrase, a possessive, a common word
    for sentence in ["This is the Lex Fridman Podcast.", "I'm joined by my co-host Swiggs.",
                     "This is Google's model.", "I'm Not sure.", "I'm excited to be here."]:
        assert said(sp.self_introduction, sentence) == [], sentence


def test_introduction_of_another():
    assert ("next", "Dylan Patel") in said(
        sp.introduction, "And today we have Dylan Patel in the new pod, in the new studios, welcome.")
    assert said(sp.introduction, "I think today I'm speaking with Andre Karpathy.") == [
        ("next", "Andre Karpathy"), ("not_self", "Andre Karpathy")]
    assert ("next", "Marta Kowal") in said(sp.introduction, "Please welcome Marta Kowal.")
    assert said(sp.introduction, "we have a lot of GPUs") == []


def test_addressed_question():
    assert said(sp.addressed_question, "Andre, why do you say that this will be the decade of agents?") == [
        ("next", "Andre"),
        ("not_self", "Andre"),
    ]
    assert said(sp.addressed_question, "What do you make of that, Nathan?") == [
        ("next", "Nathan"),
        ("not_self", "Nathan"),
    ]
    assert said(sp.addressed_question, "What Nathan, is there like breakthroughs ahead?")[0] == ("next", "Nathan")
    assert said(sp.addressed_question, "I have another question for you Dylan, do you track it?")[0] == (
        "next", "Dylan")
    # a statement is no question (seed 003: a request to Nathan was answered by Lex); "So," is no name;
    # a name that is talked about is not talked to
    assert said(sp.addressed_question, "Andre, that is the decade of agents.") == []
    assert said(sp.addressed_question, "And I think, Nathan, you can explain KV cache better.") == []
    assert said(sp.addressed_question, "So, why do you say that?") == []
    assert said(sp.addressed_question, "We told you Dylan knows all this stuff, right?") == []


def test_welcome():
    assert said(sp.welcome, "Welcome to the show, Dylan.") == [("next", "Dylan"), ("not_self", "Dylan")]
    assert said(sp.welcome, "But anyway, so welcome, and congrats on all your success so far.") == [
        ("next", None), ("not_self", None)]
    # the audience is welcomed, not a guest
    assert said(sp.welcome, "Hey everyone, welcome to the Latent Space Podcast.") == []
    assert said(sp.welcome, "Welcome back to the show everybody.") == []


def test_thanks_and_farewells():
    assert said(sp.guest_thanks, "Mhm. Uh well first of all uh thank you for uh having me here.") == [
        ("guest_self", None)]
    assert said(sp.guest_thanks, "Thanks so much for having me.") == [("guest_self", None)]
    assert said(sp.addressed_thanks, "Thanks for coming on, Dylan.") == [("next", "Dylan"), ("not_self", "Dylan")]
    assert said(sp.addressed_thanks, "Thank you for listening.") == []
    assert said(sp.addressed_farewell, "Andre, that was great.") == [("next", "Andre"), ("not_self", "Andre")]


def test_metadata_title_guest_and_name_matching():
    assert sp.title_guests("Andrej Karpathy — “We’re summoning ghosts, not building animals”") == ["Andrej Karpathy"]
    assert sp.title_guests("Latent Space with Dylan Patel of SemiAnalysis") == ["Dylan Patel"]
    assert sp.title_guests("DeepSeek, China, OpenAI, NVIDIA | Lex Fridman Podcast #459") == []
    people = People()
    people.add("Andrej Karpathy", "guest", "title")
    people.add("Dylan Patel", "guest", "sidecar")
    people.add("Dylan Field", None, "text")
    people.add("Nathan Lambert", None, "text")
    assert people.match("Andre").name == "Andrej Karpathy"  # first name to full name, ASR spelling
    assert people.match("Nathan Lampert").name == "Nathan Lambert"
    assert people.match("Dylan") is None  # two Dylans: ambiguous, no name
    assert people.match("Dylan Patel").name == "Dylan Patel"
    assert people.match("Marta") is None
    # the conversation's most frequent spelling of a full name wins; metadata's spelling always does
    heard = People()
    for name in ["Nathan Lampert", "Nathan Lambert", "Nathan Lambert"]:
        heard.add(name, "guest", "text")
    assert [p.name for p in heard.known] == ["Nathan Lambert"]
    people.add("Nathan Lampert", "guest", "text")
    assert people.match("Nathan").name == "Nathan Lambert"


# --- attribution --------------------------------------------------------------


def marked(*turns: str, speakers: list[str | None] | None = None, labels: list[str | None] | None = None,
           title: str | None = None) -> Transcript:
    """A transcript with one cue per turn, ``>>`` marks between them, one second apart; ``speakers``
    are names the transcript gives, ``labels`` diarization labels."""
    cues = [Cue(text, start_s=float(i), end_s=float(i + 1), turn=i > 0,
                speaker=speakers[i] if speakers else None, label=labels[i] if labels else None)
            for i, text in enumerate(turns)]
    return Transcript("whisper-cpp", cues, title=title)


def names(t: Transcript) -> list[str | None]:
    """What a card shows for each cue: the name, else the label as "Speaker N"."""
    return [display_name(c.speaker, c.label) for c in t.cues]


def test_a_name_is_no_common_word():
    # "Super Excited" is said in lower case too: no person; "Marta Kowal" never is
    t = marked("Hi, I'm Super Excited to be here, super excited really.", "Hi, I'm Marta Kowal.", "Welcome.",
               labels=["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"])
    assert names(attribute(t).transcript) == ["Speaker 1", "Marta Kowal", "Speaker 1"]


def test_no_turn_marks_nothing_named():
    t = Transcript("youtube-md", [Cue("This is Alessio and today we have Dylan Patel, welcome.", 0.0),
                                  Cue("Thank you for having me.", 2.0)])
    result = attribute(t, ["Alessio Fanelli"], ["Dylan Patel"])
    assert names(result.transcript) == [None, None] and not result.evidence


def test_label_named_by_self_introduction_everywhere():
    t = marked("Welcome to Harbour Lights. I'm Marta Kowal.", "Thanks for having me.", "So how do lamps fail?",
               "The brass cracks.", labels=["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"])
    result = attribute(t)
    assert names(result.transcript) == ["Marta Kowal", "Speaker 2", "Marta Kowal", "Speaker 2"]
    assert [c.label for c in result.transcript.cues] == ["SPEAKER_00", "SPEAKER_01"] * 2  # labels are kept
    [evidence] = result.evidence
    assert (evidence.rule, evidence.name, evidence.time_s) == ("self-introduction", "Marta Kowal", 0.0)
    assert "I'm Marta Kowal" in evidence.words


def test_inference_never_contradicts_a_given_label():
    # the transcript says Olek said "I'm Marta Kowal" (a quote, say): Olek stays Olek
    t = marked("Welcome. Last week she told me, I'm Marta Kowal.", "Thanks.",
               speakers=["Olek Nowak", "Jan Wiater"])
    result = attribute(t)
    assert names(result.transcript) == ["Olek Nowak", "Jan Wiater"] and not result.evidence
    # beside a diarization label: the named turn keeps its name, the label gets none from that claim
    t = marked("Welcome. Last week she told me, I'm Marta Kowal.", "Thanks.",
               speakers=["Olek Nowak", None], labels=[None, "SPEAKER_01"])
    result = attribute(t)
    assert names(result.transcript) == ["Olek Nowak", "Speaker 2"] and not result.evidence
    assert any("kept Olek Nowak" in n for n in result.notes)
    # a sidecar's mapping names a label: evidence never renames it
    t = marked("I'm Marta Kowal.", "Hello.", speakers=["Jan Wiater", None], labels=["SPEAKER_00", "SPEAKER_01"])
    assert names(attribute(t).transcript) == ["Jan Wiater", "Speaker 2"]
    # the label of the next turn is named by the handover, the given name stays
    t = marked("Thanks for coming on, Marta Kowal.", "I'm Marta Kowal.", speakers=["Olek Nowak", None],
               labels=[None, "SPEAKER_01"])
    assert names(attribute(t).transcript) == ["Olek Nowak", "Marta Kowal"]


def test_conflicting_evidence_leaves_the_turn_unnamed():
    # the host hands over to Dylan, but the next turn introduces itself as Nathan
    t = marked("Dylan, what do you think?", "This is Nathan Lambert. I think it's great.", "Why?", "Because.",
               title="A talk with Dylan Patel and Nathan Lambert")
    people_text = "The following is a conversation with Dylan Patel and Nathan Lambert."
    t.cues.insert(0, Cue(people_text, start_s=0.0))
    result = attribute(t)
    assert names(result.transcript) == [None] * 5 and not result.evidence
    assert any("claims for Dylan Patel and Nathan Lambert" in n for n in result.notes)
    # a label claimed by two names stays a label
    t = marked("I'm Marta Kowal.", "Hello.", "I'm Jan Wiater.", labels=["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"])
    result = attribute(t)
    assert names(result.transcript) == ["Speaker 1", "Speaker 2", "Speaker 1"]
    assert any("SPEAKER_00 left unnamed" in n for n in result.notes)
    # one name claimed for two labels names neither
    t = marked("I'm Marta Kowal.", "Hello.", "I'm Marta Kowal.", labels=["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"])
    assert names(attribute(t).transcript) == ["Speaker 1", "Speaker 2", "Speaker 3"]
    # evidence for and against one name on one turn
    t = marked("Please welcome Marta Kowal.", "Thanks for coming on, Marta Kowal.", "Hi.")
    assert names(attribute(t).transcript)[1] is None


def test_alternation_carries_a_name_only_while_unbroken():
    turns = ["And today we have Dylan Patel, welcome.", "Thank you for having me.", "Where are you now?",
             "Taiwan, mostly.", "Nice.", "It is.", "Nice, thank you.", "Amazing. So you're the author?",
             "I am.", "Great, and after the marks stop everyone talks."]
    t = marked(*turns)
    result = attribute(t, ["Alessio Fanelli", "swyx"], ["Dylan Patel"])
    got = names(result.transcript)
    assert got[:7] == [None, "Dylan Patel", None, "Dylan Patel", None, "Dylan Patel", None]
    assert got[7] is None  # a reaction answering a reaction: a third voice, the alternation stops
    assert any(e.rule == "alternation" for e in result.evidence)
    # two guests: a side is not one person, so nothing carries
    two = attribute(marked(*turns), ["Alessio Fanelli"], ["Dylan Patel", "Nathan Lambert"])
    assert names(two.transcript)[3] is None and names(two.transcript)[1] == "Dylan Patel"
    # evidence against the carried name on the way: the whole chain is dropped
    against = list(turns)
    against[4] = "Thanks for coming on, Alessio."
    against[5] = "Welcome, Dylan Patel."
    result = attribute(marked(*against), ["Alessio Fanelli", "swyx"], ["Dylan Patel"])
    assert names(result.transcript)[3] is None


def test_a_guests_thanks_alone_names_no_one():
    # seed 001 at 01:07: a sponsor's manager thanks the host; the one guest did not speak
    t = marked("This is my general manager Max.", "Good to be here every day.", "Cool. Thanks, Max.",
               "Thanks for having me.", title="Andrej Karpathy — ghosts")
    assert names(attribute(t).transcript) == [None] * 4


# --- the seeds ----------------------------------------------------------------


def ingest_seeds(tmp_path, store, prefixes):
    for p in prefixes:
        for f in SAMPLES.glob(f"{p}_*"):
            shutil.copy(f, tmp_path / f.name)
    results = ingest([str(tmp_path / seed(p).name) for p in prefixes], store)
    assert all(r.ok for r in results)
    return results[0].episodes[0]


def speakers_by_time(store, episode_id) -> list[tuple[float, str | None, str]]:
    return [(s.start_s, s.speaker, s.text) for s in store.segments_of(episode_id)]


def test_seed_002_dylan_and_alessio(tmp_path, store):
    episode_id = ingest_seeds(tmp_path, store, ["002"])
    segs = speakers_by_time(store, episode_id)
    named = {text: speaker for _, speaker, text in segs if speaker}
    said_by = {speaker for text, speaker in named.items()}
    assert said_by == {"Dylan Patel", "Alessio Fanelli"}
    host = next(text for text in named if "This is Alessio" in text)
    assert named[host] == "Alessio Fanelli"
    # the turns that answer "welcome", and every >> turn on the guest's side while the marks last
    for start in ["Well, thank you for having me.", "Yeah, yeah.", "Yeah, yeah, well, the folks at Tao",
                  "From Taiwan that I brought back", "Let's just be clear, I talked about mixture",
                  "Yeah, thank you so much."]:
        [speaker] = [sp for _, sp, text in segs if text.startswith(start)]
        assert speaker == "Dylan Patel", start
    # the host side (two hosts) is never named by alternation, and nothing after the marks stop
    for start in ["And today we have Dylan Patel", "Yes, yes, just hours.", "Nice, thank you.", "Amazing."]:
        [speaker] = [sp for _, sp, text in segs if text.startswith(start)]
        assert speaker is None, start
    assert all(speaker is None for t, speaker, _ in segs if t >= 100)
    episode = store.episode(episode_id)
    rules = {(e["name"], e["rule"]) for e in episode.speaker_evidence}
    assert ("Alessio Fanelli", "self-introduction") in rules and ("Dylan Patel", "welcome") in rules
    assert ("Dylan Patel", "alternation") in rules


def test_seed_001_karpathy_answers_and_no_dwarkesh(tmp_path, store):
    episode_id = ingest_seeds(tmp_path, store, ["001"])
    segs = speakers_by_time(store, episode_id)
    named = [(t, speaker, text) for t, speaker, text in segs if speaker]
    assert {speaker for _, speaker, _ in named} == {"Andrej Karpathy"}
    # the answer after the introduction; the cold open and the question stay unnamed
    assert any(text.startswith("Mhm. Uh well first of all uh thank you for uh having me here.") for _, _, text in named)
    assert all(speaker is None for t, speaker, _ in segs if t < 55)
    # the farewell's answer
    assert any(t > 8740 and text.startswith("Yeah, thank you.") for t, _, text in named)
    assert not any("Dwarkesh" in (speaker or "") for _, speaker, _ in segs)
    notes = store.episode(episode_id).stats["notes"]
    assert any("missed a turn change" in n for n in notes)


def test_episodes_cli_shows_the_evidence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QUOTEBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    src = tmp_path / "src"
    src.mkdir()
    for f in SAMPLES.glob("002_*"):
        shutil.copy(f, src / f.name)
    assert cli(["ingest", str(src)]) == 0
    capsys.readouterr()
    assert cli(["episodes", "--json"]) == 0
    [episode] = json.loads(capsys.readouterr().out)
    dylan = episode["inferred_speakers"]["Dylan Patel"]
    assert {"rule": "thanks for having me", "time_s": 19.72, "words": "Well, thank you for having me."} in dylan
    assert cli(["episodes"]) == 0
    out = capsys.readouterr().out
    assert "Dylan Patel: named from the conversation" in out
    assert "self-introduction at 00:00:09: “This is Alessio, partner and CTO of Residence at Decibel Partners.”" in out


# --- checked against a labelled source (seed 003) ------------------------------


def test_seed_000_against_003_labels():
    spec = importlib.util.spec_from_file_location("bench_speakers", ROOT / "bench" / "speakers.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up
    spec.loader.exec_module(bench)
    result = bench.run()
    alone, variant = result["checks"]
    assert alone["named"] == 0 and alone["wrong"] == 0  # no turns: nothing named
    assert result["turn_marks_inserted"] > 700
    assert variant["wrong"] == 0 and variant["named"] > 0
    assert result["seeds"]["002"]["named"] > 0 and result["seeds"]["001"]["named"] > 0


def test_store_keeps_evidence(store, tmp_path):
    t = marked("Welcome to Harbour Lights. I'm Marta Kowal.", "Thanks for having me.",
               labels=["SPEAKER_00", "SPEAKER_01"])
    store.replace_source(key="k", name="k", content_hash="h", format="srt", warnings=[], parts=[("ep", t)],
                         build=build_record)
    [episode] = store.episodes()
    assert episode.speaker_evidence == [{"rule": "self-introduction", "name": "Marta Kowal", "time_s": 0.0,
                                         "words": "I'm Marta Kowal."}]
    segments = store.segments_of("ep")
    assert [(s.speaker, s.speaker_label, s.who) for s in segments] == [
        ("Marta Kowal", "SPEAKER_00", "Marta Kowal"), (None, "SPEAKER_01", "Speaker 2")]


FEED_WITH_PEOPLE = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel>
  <title>Harbour Lights</title>
  <podcast:person role="host">Olek Nowak</podcast:person>
  <podcast:person role="producer">Jan Wiater</podcast:person>
  <item>
    <title>The north light</title>
    <podcast:person role="guest">Marta Kowal</podcast:person>
    <podcast:transcript url="{base}/ep.txt" type="text/plain" />
  </item>
</channel>
</rss>
"""
WHISPER_TURNS = """\
[00:00:00.000 --> 00:00:04.000]   Welcome to Harbour Lights, I'm Olek Nowak.
[00:00:04.000 --> 00:00:08.000]   Today my guest keeps the north light. Welcome.
[00:00:08.000 --> 00:00:12.000]   >> Thanks for having me, it's good to be here.
[00:00:12.000 --> 00:00:16.000]   >> How do you test a lamp before the storms arrive?
[00:00:16.000 --> 00:00:20.000]   >> We light it at dusk and watch the brass.
[00:00:20.000 --> 00:00:24.000]   >> And then what?
"""


def test_feed_people_roles_name_turns(http_server, store):
    http_server.add("/ep.txt", WHISPER_TURNS)
    url = http_server.add("/feed.xml", FEED_WITH_PEOPLE.format(base=http_server.base),
                          content_type="application/rss+xml")
    [result] = ingest([url], store, allow_hosts=["127.0.0.1"])  # the test server is on loopback
    assert result.ok, result.error
    [episode] = store.episodes()
    assert episode.hosts == ["Olek Nowak"] and episode.guests == ["Marta Kowal"]  # the producer is not heard
    assert [(s.speaker, s.text[:22]) for s in store.segments_of(episode.id)] == [
        ("Olek Nowak", "Welcome to Harbour Lig"),
        ("Marta Kowal", "Thanks for having me, "),
        ("Olek Nowak", "How do you test a lamp"),
        ("Marta Kowal", "We light it at dusk an"),
        ("Olek Nowak", "And then what?"),
    ]
    rules = {(e["name"], e["rule"]) for e in episode.speaker_evidence}
    assert rules >= {("Olek Nowak", "self-introduction"), ("Marta Kowal", "welcome"),
                     ("Marta Kowal", "thanks for having me"), ("Olek Nowak", "alternation")}


# --- the WhisperX and vendor-JSON cases (tests/data/cases, from ../shared/cases/transcripts) -----

CASES = ROOT / "tests" / "data" / "cases"
LABELLED_CASES = ["srt-whisperx-bracket-speaker-label.srt", "json-assemblyai-utterances-ms.json",
                  "json-deepgram-utterances.json", "json-aws-transcribe-items.json"]


def introduce_host(name: str, text: str) -> str:
    """The case with its first speaker saying "I'm Olek Nowak." right after "Welcome to Harbour Lights"."""
    if name.endswith(".srt"):
        return text.replace(
            "Welcome to Harbour Lights, I'm here with", "Welcome to Harbour Lights, I'm Olek Nowak, here with"
        )
    data = json.loads(text)
    if "utterances" in data and "results" not in data:  # AssemblyAI: utterance text (its words are empty)
        data["utterances"][0]["text"] += " I'm Olek Nowak."
    elif "results" in data and "channels" in data["results"]:  # Deepgram: word list
        words = data["results"]["channels"][0]["alternatives"][0]["words"]
        said = [("I'm", 2.1, 2.3), ("Olek", 2.3, 2.6), ("Nowak.", 2.6, 3.0)]
        words[4:4] = [{"word": w.lower().strip("."), "punctuated_word": w, "start": a, "end": b, "confidence": 0.9,
                       "speaker": 0, "speaker_confidence": 0.5} for w, a, b in said]
    else:  # AWS Transcribe: items
        items = data["results"]["items"]
        said = [("I'm", "1.91", "1.93"), ("Olek", "1.93", "1.95"), ("Nowak", "1.95", "1.97")]
        items[5:5] = [{"start_time": a, "end_time": b, "type": "pronunciation", "speaker_label": "spk_0",
                       "alternatives": [{"confidence": "0.99", "content": w}]} for w, a, b in said]
        items.insert(8, {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]})
    return json.dumps(data)


@pytest.mark.parametrize("name", LABELLED_CASES)
def test_cases_labels_named_by_self_introduction_everywhere(name, tmp_path, store):
    as_is = tmp_path / name
    as_is.write_text((CASES / name).read_text(encoding="utf-8"), encoding="utf-8")
    introduced = tmp_path / f"introduced-{name}"
    introduced.write_text(introduce_host(name, as_is.read_text(encoding="utf-8")), encoding="utf-8")
    results = ingest([str(as_is), str(introduced)], store)
    assert all(r.ok for r in results), [r.error for r in results]
    plain_id, named_id = results[0].episodes[0], results[1].episodes[0]
    # no one introduces themselves: the labels stay "Speaker 1", "Speaker 2", never a raw label
    assert [s.who for s in store.segments_of(plain_id)] in (
        ["Speaker 1", "Speaker 2"], ["Speaker 1", "Speaker 2", "Speaker 1"])
    assert store.episode(plain_id).speaker_evidence == []
    # the first voice says who it is: every turn with its label is named, the other stays a label
    named = store.segments_of(named_id)
    assert {s.who for s in named} == {"Olek Nowak", "Speaker 2"}
    assert all(s.speaker_label for s in named)  # the label is kept beside the name
    assert [(e["name"], e["rule"]) for e in store.episode(named_id).speaker_evidence] == [
        ("Olek Nowak", "self-introduction")]
    first_label = named[0].speaker_label
    assert all(s.who == "Olek Nowak" for s in named if s.speaker_label == first_label)


def test_a_sidecar_mapping_always_wins(tmp_path, store):
    name = "srt-whisperx-bracket-speaker-label.srt"
    path = tmp_path / "mapped.srt"
    path.write_text(introduce_host(name, (CASES / name).read_text(encoding="utf-8")), encoding="utf-8")
    (tmp_path / "mapped.meta.json").write_text(json.dumps({"speakers": {"SPEAKER_00": "Jan Wiater"}}))
    [result] = ingest([str(path)], store)
    assert result.ok, result.error
    segments = store.segments_of(result.episodes[0])
    assert [s.who for s in segments] == ["Jan Wiater", "Speaker 2", "Jan Wiater"]  # not "Olek Nowak"
    assert store.episode(result.episodes[0]).speaker_evidence == []


def test_the_interview_rule_takes_the_same_care():
    # a sidecar's one host and one guest, questions on one side: named while the marks alternate
    qa = ["What got you started?", "I was twelve and posting online.", "And then what happened?",
          "I started a blog in November.", "Why semiconductors?", "Because it matters most.",
          "How big is the team now?", "About thirty people."]
    t = marked(*qa)
    result = attribute(t, ["Host"], ["Guest"])
    assert names(result.transcript) == ["Host", "Guest"] * 4
    assert {e.rule for e in result.evidence} == {"interview"}
    # where the marks stop, the open last turn is named only for as long as the marked turns ran
    t = marked(*qa)
    t.cues.extend(Cue(f"and everyone talks here {i}.", start_s=8.0 + 30 * i, end_s=38.0 + 30 * i) for i in range(1, 4))
    assert names(attribute(t, ["Host"], ["Guest"]).transcript)[-3:] == [None, None, None]
    # a reaction answering a reaction (a missed mark): nothing after it is named
    broken = [*qa[:4], "Nice.", "Amazing. It was fun.", *qa[4:]]
    got = names(attribute(marked(*broken), ["Host"], ["Guest"]).transcript)
    assert got[:5] == ["Host", "Guest", "Host", "Guest", "Host"] and set(got[5:]) == {None}


SAYINGS = ["This is Alessio.", "I'm Marta Kowal.", "Thanks for having me.", "Welcome, Dylan Patel.",
           "Dylan, what do you think?", "Thanks for coming on, Marta Kowal.", "Nice.", "Amazing.",
           "And today we have Dylan Patel, welcome.", "It is a model.", "Andre, that was great."]
VOICES = [("Olek Nowak", None), ("Jan Wiater", "SPEAKER_02"), (None, "SPEAKER_00"), (None, "SPEAKER_01"), (None, None)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SAYINGS), st.sampled_from(VOICES)), min_size=1, max_size=12))
def test_inference_never_contradicts_the_transcript(turns):
    """Whatever the words: a given name is never changed, a label gets at most one name, one name
    goes to at most one label, and every name given has its evidence."""
    t = marked(*[text for text, _ in turns], speakers=[v[0] for _, v in turns], labels=[v[1] for _, v in turns],
               title="A talk with Dylan Patel")
    result = attribute(t, ["Alessio Fanelli"], ["Dylan Patel"])
    named_labels: dict[str, set[str | None]] = {}
    for before, after in zip(t.cues, result.transcript.cues):
        assert after.text == before.text and after.label == before.label
        if before.speaker is not None:
            assert after.speaker == before.speaker
        elif after.speaker is not None:
            assert any(e.name == after.speaker for e in result.evidence)
        if before.label and before.speaker is None:
            named_labels.setdefault(before.label, set()).add(after.speaker)
    assert all(len(names) == 1 for names in named_labels.values())  # a label is named everywhere or nowhere
    given = [n for n, in named_labels.values() if n]
    assert len(given) == len(set(given))
