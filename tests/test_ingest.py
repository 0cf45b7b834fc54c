"""Ingestion end to end: sources, bad input, re-ingest, atomic replace, sidecars, RSS."""

from __future__ import annotations

import json

import pytest

from index.errors import TranscriptError
from index.ingest import ingest
from index.sources import decode

WHISPER = """
[00:00:00.000 --> 00:00:04.000]   Welcome back to the show, where we talk about chips and the people who make them.
[00:00:04.000 --> 00:00:09.000]   Today we have a guest who knows more about export controls than anyone I have met.
[00:00:09.000 --> 00:00:14.000]   >> Thanks for having me, it is a pleasure to be here talking about lithography tools.
"""

VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Ann>Sourdough needs a starter that you feed every single day, with flour and water.

00:00:05.000 --> 00:00:09.500
And the crumb depends on how long you let the dough rest before it goes in the oven.
"""


def write(path, text: str | bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def test_reingesting_the_same_source_changes_nothing(tmp_path, store):
    f = write(tmp_path / "show.txt", WHISPER)
    [first] = ingest([f], store)
    assert first.status == "added" and first.segments > 0
    version = store.version()
    [again] = ingest([f], store)
    assert again.status == "unchanged"
    assert store.version() == version
    assert store.segment_count() == first.segments


def test_a_changed_source_replaces_its_episode(tmp_path, store):
    f = tmp_path / "show.txt"
    write(f, WHISPER)
    [first] = ingest([str(f)], store)
    write(f, WHISPER.replace("lithography tools", "etch and deposition tools"))
    [second] = ingest([str(f)], store)
    assert second.status == "replaced"
    assert second.episodes == first.episodes
    texts = " ".join(s.text for s in store.segments_of(first.episodes[0]))
    assert "deposition" in texts and "lithography" not in texts
    assert len(store.episodes()) == 1


def test_a_bad_file_never_stops_the_others_nor_removes_what_was_stored(tmp_path, store):
    good = write(tmp_path / "a" / "good.txt", WHISPER)
    [ok] = ingest([good], store)
    before = store.segment_count()
    # The same source turns bad: the stored version stays.
    write(tmp_path / "a" / "good.txt", "[00:00:00.000 --> 00:00:0x.000]   broken timestamp\n")
    vtt = write(tmp_path / "a" / "other.vtt", VTT)
    results = ingest([good, vtt, str(tmp_path / "missing.txt")], store)
    assert [r.status for r in results] == ["failed", "added", "failed"]
    assert "good.txt:1" in results[0].error and "timestamp" in results[0].error
    assert "missing.txt" in results[2].error
    assert store.segment_count() == before + results[1].segments
    assert ok.episodes[0] in {e.id for e in store.episodes()}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (b"Just some prose with no timecodes and no speakers.\nAnother line of prose.\n", "unknown transcript format"),
    ],
)
def test_bad_files_get_a_clear_error_naming_the_file(tmp_path, store, content, message):
    f = write(tmp_path / "bad.txt", content)
    [r] = ingest([f], store)
    assert r.status == "failed"
    assert r.error.startswith(f) and message in r.error
    assert store.segment_count() == 0


def test_oversized_file_is_refused_before_reading(tmp_path, store):
    f = write(tmp_path / "big.txt", WHISPER * 50)
    [r] = ingest([f], store, max_bytes=1000)
    assert r.status == "failed" and "limit" in r.error and "big.txt" in r.error


def test_non_utf8_falls_back_to_cp1252_and_says_so(tmp_path, store):
    text = WHISPER.replace("guest", "guest café’s")
    f = write(tmp_path / "legacy.txt", text.encode("cp1252"))
    [r] = ingest([f], store)
    assert r.status == "added"
    assert any("not UTF-8" in w and "cp1252" in w for w in r.warnings)
    assert "café’s" in " ".join(s.text for s in store.segments_of(r.episodes[0]))


def test_decode_handles_boms():
    assert decode("\ufeffhello".encode("utf-8"))[0] == "hello"
    assert decode("hello".encode("utf-16"))[0] == "hello"
    with pytest.raises(TranscriptError, match="empty"):
        decode(b"")


def test_forced_format_and_unknown_format_name(tmp_path, store):
    f = write(tmp_path / "notes.txt", "Some prose that no detector claims.\n\nA second paragraph of it.\n")
    [r] = ingest([f], store, format="plain")
    assert r.status == "added" and r.format == "plain"
    with pytest.raises(TranscriptError, match="unknown format 'nope'"):
        ingest([f], store, format="nope")


def test_folders_are_walked_recursively_with_sidecars(tmp_path, store):
    write(tmp_path / "lib" / "one" / "ep1.txt", WHISPER)
    write(tmp_path / "lib" / "two" / "ep2.vtt", VTT)
    write(
        tmp_path / "lib" / "one" / "ep1.meta.json",
        json.dumps({"title": "Chips Weekly #12", "podcast": "Chips Weekly", "url": "https://example.com/ep12.mp3",
                    "published": "2024-05-01", "hosts": ["Host One"], "guests": ["Guest Two"]}),
    )
    write(tmp_path / "lib" / ".hidden" / "skip.txt", WHISPER)
    results = ingest([str(tmp_path / "lib")], store)
    assert [r.status for r in results] == ["added", "added"]
    episodes = {e.id: e for e in store.episodes()}
    ep = episodes["chips-weekly-12"]
    assert ep.title == "Chips Weekly #12" and ep.podcast == "Chips Weekly"
    assert str(ep.published) == "2024-05-01"
    assert ep.speakers == ["Host One", "Guest Two"]
    segs = store.segments_of("chips-weekly-12")
    assert segs[0].url == "https://example.com/ep12.mp3#t=0"
    assert all(s.speaker is None for s in segs)  # a sidecar's names are not guessed onto turns


# The first bytes of real files (PNG signature and IHDR chunk; an ID3v2.4 tag, then an MPEG-1
# Layer III frame header), then bytes that are no text, as the rest of such files is.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x00\x00\x00\x02\x00\x08\x06\x00\x00\x00" + bytes(range(256)) * 4
MP3 = b"ID3\x04\x00\x00\x00\x00\x01\x0fTSSE\x00\x00\x00\x0f\x00\x00\x03Lavf58.76.100\x00" + (
    b"\xff\xfb\x90\x64" + bytes(range(7, 250, 3)) * 5) * 8


def test_a_folder_skips_files_that_are_no_transcript_but_a_named_one_fails(tmp_path, store):
    """A README, a package.json, cover art or the audio beside the transcripts does not fail the
    folder's ingest, even with --format or when the audio is over the size limit; the same file
    named on its own does, with its reason."""
    lib = tmp_path / "lib"
    write(lib / "ep1.txt", WHISPER)
    write(lib / "README.md", "# Our transcripts\n\nThese are the files we got from the studio.\n")
    write(lib / "package.json", json.dumps({"name": "x", "version": "1.0.0"}))
    write(lib / "photo.png", PNG)
    write(lib / "ep1.mp3", MP3)
    write(lib / "art" / "cover.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01" + PNG[16:])
    results = {r.name.rsplit("/", 1)[-1]: r for r in ingest([str(lib)], store)}
    assert results["ep1.txt"].status == "added"
    for name in ("README.md", "package.json"):
        assert results[name].ok and results[name].status == "skipped", results[name]
        assert "not a transcript in a format we read" in results[name].warnings[0]
    for name in ("photo.png", "ep1.mp3", "cover.jpg"):
        assert results[name].ok and results[name].status == "skipped", results[name]
        assert results[name].warnings == ["not a transcript in a format we read (binary file, not a transcript)"]
    assert len(store.episodes()) == 1
    # a forced format does not make a binary file a transcript; a file over the limit is
    # skipped when binary (the audio) and fails when text (a transcript too big to read)
    forced = {r.name.rsplit("/", 1)[-1]: r for r in ingest([str(lib)], store, format="srt")}
    assert all(forced[name].status == "skipped" for name in ("photo.png", "ep1.mp3", "cover.jpg")), forced
    write(lib / "big.txt", WHISPER * 3)
    small = {r.name.rsplit("/", 1)[-1]: r for r in ingest([str(lib)], store, max_bytes=len(WHISPER) + 100)}
    assert small["ep1.mp3"].status == "skipped" and small["photo.png"].status == "skipped", small
    assert small["big.txt"].status == "failed" and "QUOTEBOT_MAX_FILE_MB" in small["big.txt"].error
    named = ingest([str(lib / "README.md")], store)[0]
    assert named.status == "failed" and "README.md" in named.error and "--format" in named.error
    for name in ("photo.png", "ep1.mp3"):
        [r] = ingest([str(lib / name)], store)
        assert r.status == "failed" and r.error == f"{lib / name}: binary file, not a transcript", r
    [big] = ingest([str(lib / "ep1.mp3")], store, max_bytes=100)
    assert big.status == "failed" and "QUOTEBOT_MAX_FILE_MB" in big.error


def test_sidecar_renames_labels_and_rejects_unknown_fields(tmp_path, store):
    srt = (
        "1\n00:00:01,000 --> 00:00:04,000\nSPEAKER 1: Hello there and welcome to a show about ovens and bread.\n\n"
        "2\n00:00:04,000 --> 00:00:08,000\nSPEAKER 2: Thanks, it is good to be here to talk about sourdough starters.\n\n"
        "3\n00:00:08,000 --> 00:00:10,000\nSPEAKER 1: Let us begin.\n"
    )
    f = write(tmp_path / "bread.srt", srt)
    write(tmp_path / "bread.meta.toml", 'title = "Bread Talk"\n[speakers]\n"SPEAKER 1" = "Ann"\n"SPEAKER 2" = "Bob"\n')
    [r] = ingest([f], store)
    assert r.status == "added", r.error
    assert {s.speaker for s in store.segments_of(r.episodes[0])} == {"Ann", "Bob"}

    write(tmp_path / "bread.meta.toml", 'titel = "typo"\n')
    [bad] = ingest([f], store)
    assert bad.status == "failed" and "bread.meta.toml" in bad.error and "titel" in bad.error
    assert {s.speaker for s in store.segments_of(r.episodes[0])} == {"Ann", "Bob"}  # kept


LOCAL = ["127.0.0.1"]  # the test servers listen on loopback, which a fetch may reach only when allowed


def test_http_url_is_fetched(http_server, store):
    url = http_server.add("/ep.vtt", VTT, content_type="text/vtt")
    [r] = ingest([url], store, allow_hosts=LOCAL)
    assert r.status == "added" and r.format == "vtt"
    assert store.episodes()[0].sources == [url]


def test_unreachable_url_and_http_errors(http_server, store):
    missing = http_server.base + "/nope.vtt"
    dead = "http://127.0.0.1:9/closed.vtt"  # the discard port: nothing listens
    results = ingest([missing, dead], store, timeout_s=2, allow_hosts=LOCAL)
    assert [r.status for r in results] == ["failed", "failed"]
    assert "404" in results[0].error and missing in results[0].error
    assert dead in results[1].error and "cannot fetch" in results[1].error


def test_url_over_the_size_limit(http_server, store):
    url = http_server.add("/big.vtt", VTT * 100, content_type="text/vtt")
    [r] = ingest([url], store, max_bytes=2000, allow_hosts=LOCAL)
    assert r.status == "failed" and "limit" in r.error


def test_slow_url_times_out(http_server, store):
    url = http_server.add("/slow.vtt", VTT, content_type="text/vtt")
    http_server.slow.add("/slow.vtt")
    [r] = ingest([url], store, timeout_s=0.5, allow_hosts=LOCAL)
    assert r.status == "failed" and "timed out" in r.error


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:podcast="{ns}" xmlns:old="{old}">
<channel>
  <title>Bread Talk</title>
  <item>
    <title>Episode 1: Starters</title>
    <link>https://example.com/ep1</link>
    <pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate>
    <podcast:transcript url="{base}/ep1.txt" type="text/plain" />
    <podcast:transcript url="{base}/ep1.vtt" type="text/vtt" />
  </item>
  <item>
    <title>Episode 2: Crumb</title>
    <link>https://example.com/ep2</link>
    <old:transcript url="{base}/ep2.vtt" type="text/vtt" />
  </item>
  <item><title>No transcript</title></item>
</channel>
</rss>
"""


def test_rss_feed_follows_transcript_tags_in_both_namespaces(http_server, store):
    http_server.add("/ep1.vtt", VTT, content_type="text/vtt")
    http_server.add("/ep1.txt", "plain text version", content_type="text/plain")
    http_server.add("/ep2.vtt", VTT.replace("Sourdough", "Rye bread"), content_type="text/vtt")
    feed = FEED.format(
        ns="https://podcastindex.org/namespace/1.0",
        old="https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
        base=http_server.base,
    )
    url = http_server.add("/feed.xml", feed, content_type="application/rss+xml")
    results = ingest([url], store, allow_hosts=LOCAL)
    assert [r.status for r in results] == ["added", "added"], [r.error for r in results]
    assert [r.format for r in results] == ["vtt", "vtt"]  # the VTT was preferred over text/plain
    episodes = {e.title: e for e in store.episodes()}
    assert set(episodes) == {"Episode 1: Starters", "Episode 2: Crumb"}
    assert episodes["Episode 1: Starters"].podcast == "Bread Talk"
    assert str(episodes["Episode 1: Starters"].published) == "2024-03-05"
    seg = store.segments_of(episodes["Episode 1: Starters"].id)[0]
    assert seg.url == "https://example.com/ep1#t=1" and seg.speaker == "Ann"


def test_progress_is_reported_per_source(tmp_path, store):
    files = [write(tmp_path / f"e{i}.txt", WHISPER.replace("chips", f"chips {i}")) for i in range(3)]
    seen = []
    ingest(files, store, progress=lambda i, n, name: seen.append((i, n, name)))
    assert seen == [(1, 3, files[0]), (2, 3, files[1]), (3, 3, files[2])]
