"""The quotebot command as a user runs it: a real process, a fresh data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import SAMPLES

EPISODE_FIELDS = {"id", "title", "podcast", "url", "published", "duration_s", "segments", "speakers", "sources",
                  "speaker_share", "time_share", "located", "notes", "inferred_speakers", "reports"}
HIT_FIELDS = {"text", "speaker", "start_s", "end_s", "episode", "podcast", "url", "score", "matched", "translation"}


def quotebot(data_dir, *args, stdin: str = "", cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env["QUOTEBOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        env=env, cwd=cwd or data_dir.parent, timeout=300,
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A data folder after the README's run command (first run ingests the samples)."""
    data = tmp_path_factory.mktemp("cli") / "data"
    run = quotebot(data, stdin="export controls\n\n")
    assert run.returncode == 0, run.stderr
    return data, run


def test_first_run_ingests_the_bundled_samples_and_answers(library):
    data, run = library
    assert "First run" in run.stderr
    assert "[5/" in run.stderr or "[6/" in run.stderr  # progress, one line per source
    assert "Library: 3 episodes" in run.stderr and "local console" in run.stderr
    assert "quotebot serve" in run.stdout  # says how to connect a real workspace
    assert "export controls" in run.stdout.lower() and "1 of " in run.stdout
    assert (data / "quotebot.db").is_file()


def test_console_goes_through_the_app_and_its_buttons(library):
    data, _ = library
    run = quotebot(data, stdin="/quote export controls\n1\n@quotebot tsmc taiwan\n/quote help\n\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "only you can see this" in out and "[1] Post to channel" in out
    assert "posted to the channel" in out and "Shared by @U0YOU" in out
    assert "in the thread" in out and "More (" in out
    assert "speaker:" in out  # the help


def test_console_previews_the_digest(library):
    data, _ = library
    run = quotebot(data, stdin="/quote digest preview\n/quote digest subscribe 7:00 Europe/Pariss\n\n")
    assert run.returncode == 0, run.stderr
    assert "QUOTEBOT DIGEST · " in run.stdout and "QUOTE OF THE DAY" in run.stdout
    assert "Did you mean `Europe/Paris`?" in run.stdout


def test_second_run_does_not_ingest_again(library):
    data, _ = library
    run = quotebot(data, stdin="")
    assert run.returncode == 0 and "First run" not in run.stderr


def test_episodes_json(library):
    data, _ = library
    run = quotebot(data, "episodes", "--json")
    episodes = json.loads(run.stdout)
    assert len(episodes) == 3  # 000, 003 and 004 are one episode
    for e in episodes:
        assert set(e) == EPISODE_FIELDS
        assert e["segments"] > 0 and e["sources"]
    lex = [e for e in episodes if e["id"] == "lex-fridman-podcast-459"]
    assert lex and lex[0]["url"] == "https://www.youtube.com/watch?v=_1f-o0nqpEI"
    latent = [e for e in episodes if e["podcast"] == "Latent Space"]
    assert latent and latent[0]["title"] == "Latent Space with Dylan Patel of SemiAnalysis"


def test_search_json_and_text(library):
    data, _ = library
    run = quotebot(data, "search", "export controls", "--json", "--limit", "3")
    hits = json.loads(run.stdout)
    assert 1 <= len(hits) <= 3
    for h in hits:
        assert set(h) >= HIT_FIELDS
        assert "export" in h["text"].lower() or "controls" in h["text"].lower()
    text = quotebot(data, "search", "export controls")
    assert text.returncode == 0 and "—" in text.stdout
    bad = quotebot(data, "search", "export controls", "--limit", "abc")
    assert bad.returncode == 2 and "--limit: 'abc' is not a whole number (1 or more)" in bad.stderr


def test_search_filters(library):
    data, _ = library
    hits = json.loads(quotebot(data, "search", "chips", "--json", "--speaker", "nathan").stdout)
    assert hits and all(h["speaker"] == "Nathan Lambert" for h in hits)
    hits = json.loads(quotebot(data, "search", "chips", "--json", "--episode", "latent").stdout)
    assert hits and all(h["podcast"] == "Latent Space" for h in hits)


def test_no_match(library):
    data, _ = library
    run = quotebot(data, "search", "zzyzx qwertyuiop", "--json")
    assert run.returncode == 0 and json.loads(run.stdout) == []
    run = quotebot(data, "search", "zzyzx qwertyuiop")
    assert run.returncode == 0 and "No quotes matched" in run.stdout


def test_malformed_query_gets_the_parser_message(library):
    data, _ = library
    run = quotebot(data, "search", '"export controls')
    assert run.returncode == 2 and "unclosed quote" in run.stderr


def test_ingest_exits_non_zero_when_a_source_fails(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    good = next(SAMPLES.glob("002_*.txt"))
    run = quotebot(tmp_path / "data", "ingest", str(good), str(bad))
    assert run.returncode == 1
    assert "FAILED" in run.stdout and "bad.txt" in run.stdout and "binary" in run.stdout
    assert "added" in run.stdout and "whisper-cpp" in run.stdout
    again = quotebot(tmp_path / "data", "ingest", str(good))
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_unknown_format_option_is_refused(tmp_path):
    run = quotebot(tmp_path / "data", "ingest", "--format", "nope", "x.txt")
    assert run.returncode == 2 and "invalid choice" in run.stderr


LLAMAS = """WEBVTT

00:00:01.000 --> 00:00:20.000
<v Ann>The zanzibar llamas escaped the zanzibar zoo at dawn and the keepers chased the llamas across the harbour for hours.

00:00:20.000 --> 00:00:40.000
<v Bob>Back to the subject, a zanzibar official said the animals were home safe by evening and nobody was hurt at all.
"""


def test_console_tries_every_surface(library, tmp_path):
    data, _ = library
    transcript = tmp_path / "llamas.vtt"
    transcript.write_text(LLAMAS)
    lines = [
        "/quote export controls",  # [1] Post to channel [2] Next [3] Show context [4] Open; ⋯ [5] [6]
        "",  # an empty line does not quit
        "@quotebot tsmc taiwan",  # more numbers drawn
        "2",  # still the first card's Next
        "5",  # the first card's "Wrong speaker"
        "/quote alert add zanzibar llamas",
        f"ingest {transcript}",  # the alert post
        "home",
        "find What did they say about TSMC and Taiwan?",
        "search",
        "export controls", "dyl", "1", "", "", "",  # the modal's inputs: words, speaker (type-ahead), …
        "search", "", "", "", "", "",  # the modal submitted empty: its error, under the input's label
        "https://www.youtube.com/watch?v=_1f-o0nqpEI&t=3537s",
        "quit",
        "/quote this line is never read",
    ]
    run = quotebot(data, stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "[1] Post to channel  [2] Next  [3] Show context" in out and "⋯ [5] Wrong speaker  [6] Wrong time" in out
    assert "2 of " in out  # button 2 pressed after other cards were drawn: still that card's Next
    assert "Thanks: reported WRONG SPEAKER" in out
    assert "posted to #console" in out and "NEW QUOTES FOR ALERT #" in out and "ZANZIBAR LLAMAS" in out
    assert "1 alert post." in out
    assert "── App Home" in out and "KEYWORD ALERTS" in out and "`zanzibar llamas` in #console" in out
    assert "only you can see this in the thread" in out and "Post to thread" in out
    assert "── modal: Search quotes" in out and "1. Dylan Patel" in out and "Said by: Dylan Patel" in out
    assert 'export controls speaker:"Dylan Patel"' in out and "Post to channel…" in out
    assert "   Words: Type a few words to search for." in out and "q: Type" not in out
    assert "── unfurled https://www.youtube.com" in out and "00:58:" in out
    assert "never read" not in out
    assert "C0CONSOLE" not in out and "<#" not in out  # channels drawn as #names
    feedback = quotebot(data, "feedback", "--json")
    assert [r["kind"] for r in json.loads(feedback.stdout)] == ["speaker"]


def test_the_console_draws_bold_links_without_breaking_them():
    """Without a terminal's bold, bold text is drawn in capitals; a link in it keeps its case (a
    YouTube id is case-sensitive), so it still opens when copied."""
    from bot.console import plain

    drawn = plain("*<https://www.youtube.com/watch?v=LxUZvYajCIY&t=3s|New episode>* from *Dylan*", bold=False)
    assert drawn == "NEW EPISODE (https://www.youtube.com/watch?v=LxUZvYajCIY&t=3s) from DYLAN"
