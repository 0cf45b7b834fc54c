"""No input crashes ingestion: each parses, or gets a clear TranscriptError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.segment import segment
from index.sources import decode

from .conftest import SAMPLES
from .fuzzing import EDITS, FUZZ, edit_lines

# Excerpts of every seed, so mutations start from real structure.
EXCERPTS = []
for path in sorted(SAMPLES.glob("*.txt")):
    lines = path.read_text(encoding="utf-8").splitlines()
    EXCERPTS.append(lines[:60])
    EXCERPTS.append(lines[len(lines) // 2: len(lines) // 2 + 40])


def run_pipeline(text: str, fmt: str | None = None) -> None:
    try:
        _, transcripts = formats.parse(text, fmt)
    except TranscriptError as exc:
        assert str(exc)  # a message the user can read
        return
    for t in transcripts:
        segs = segment(t, "fuzz", "https://www.youtube.com/watch?v=x")
        starts = [s.start_s for s in segs if s.start_s is not None]
        if not any("kept with its own time" in w for w in t.warnings):
            assert starts == sorted(starts)  # times go back only where a warning names the cue
        assert all(s.text.strip() for s in segs)


FUZZ_MORE = settings(FUZZ, max_examples=300)


@FUZZ_MORE
@given(st.text(max_size=400))
def test_random_text_is_detected_or_refused(text):
    run_pipeline(text)


@FUZZ_MORE
@given(st.sampled_from(EXCERPTS), EDITS)
def test_mutated_seeds_parse_or_fail_clearly(excerpt, edits):
    run_pipeline(edit_lines(excerpt, edits))


@FUZZ_MORE
@given(st.sampled_from(EXCERPTS), EDITS, st.sampled_from(sorted(formats.BY_NAME)))
def test_every_forced_format_parses_or_fails_clearly(excerpt, edits, fmt):
    run_pipeline(edit_lines(excerpt, edits), fmt)


@FUZZ_MORE
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_fail_clearly(data):
    try:
        text, _ = decode(data)
    except TranscriptError:
        return
    run_pipeline(text)
