"""No input crashes ingestion: each parses, or gets a clear TranscriptError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.segment import segment
from index.sources import decode

from .conftest import SAMPLES

# Excerpts of every seed, so mutations start from real structure.
EXCERPTS = []
for path in sorted(SAMPLES.glob("*.txt")):
    lines = path.read_text(encoding="utf-8").splitlines()
    EXCERPTS.append("\n".join(lines[:60]))
    EXCERPTS.append("\n".join(lines[len(lines) // 2: len(lines) // 2 + 40]))

LINE_NOISE = st.sampled_from([
    "", ">>", "[MUSIC]", "[00:00]", "[99:99]", "[00:00:00.000 --> 00:00:0x.000]", "**Name**", "## **",
    "*  text [[00:00:01](https://www.youtube.com/watch?v=x&t=abc)]", "WEBVTT", "-->", "1", "00:00:01,000 --> x",
    "{", '{"segments": [{"startTime": "x"}]}', "<p><cite>A:</cite>", "<v Ann>", "Published - Febtember 99, 2025",
    "  强化学习", "---", "Date Generated: x", "\x00", "\ufeff", "[inaudible 99:99:99]", "Lex Fridman Podcast",
])


def run_pipeline(text: str, fmt: str | None = None) -> None:
    try:
        _, transcripts = formats.parse(text, fmt)
    except TranscriptError as exc:
        assert str(exc)  # a message the user can read
        return
    for t in transcripts:
        segs = segment(t, "fuzz", "https://www.youtube.com/watch?v=x")
        starts = [s.start_s for s in segs if s.start_s is not None]
        assert starts == sorted(starts)
        assert all(s.text.strip() for s in segs)


@st.composite
def mutated_excerpt(draw) -> str:
    lines = draw(st.sampled_from(EXCERPTS)).splitlines()
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "insert":
            lines.insert(i, draw(st.one_of(LINE_NOISE, st.text(max_size=40))))
        elif op == "delete" and lines:
            del lines[i]
        elif op == "replace" and lines:
            lines[i] = draw(st.one_of(LINE_NOISE, st.text(max_size=40)))
        elif op == "truncate" and lines:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400))
def test_random_text_is_detected_or_refused(text):
    run_pipeline(text)


@FUZZ
@given(mutated_excerpt())
def test_mutated_seeds_parse_or_fail_clearly(text):
    run_pipeline(text)


@FUZZ
@given(mutated_excerpt(), st.sampled_from(sorted(formats.BY_NAME)))
def test_every_forced_format_parses_or_fails_clearly(text, fmt):
    run_pipeline(text, fmt)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_fail_clearly(data):
    try:
        text, _ = decode(data)
    except TranscriptError:
        return
    run_pipeline(text)
