"""No input crashes ingestion: each parses, or gets a clear TranscriptError."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from index import formats
from index.errors import TranscriptError
from index.segment import segment
from index.sources import decode

from .conftest import SAMPLES
from .fuzzing import EDITS, FUZZ, edit_lines
from .test_cases import CASES

# Excerpts of every seed and every real-world case (issue 12), so mutations start from real structure.
EXCERPTS = []
for path in sorted(SAMPLES.glob("*.txt")):
    lines = path.read_text(encoding="utf-8").splitlines()
    EXCERPTS.append(lines[:60])
    EXCERPTS.append(lines[len(lines) // 2: len(lines) // 2 + 40])
for path in sorted(CASES.rglob("*")):
    if path.is_file() and path.suffix != ".md" and "gb2312" not in path.name:
        EXCERPTS.append(path.read_text(encoding="utf-8").splitlines()[:60])

# Every speech-to-text JSON shape, with any JSON value where its fields go.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**12) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "start",
                    "end",
                    "text",
                    "speaker",
                    "words",
                    "utf8",
                    "segs",
                    "tStartMs",
                    "offsets",
                    "from",
                    "to",
                    "type",
                    "value",
                    "ts",
                    "alternatives",
                    "content",
                    "start_time",
                    "speaker_label",
                    "punctuated_word",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
SKELETONS = [
    lambda v: {"status": "completed", "words": [v], "utterances": [{"start": v, "text": v, "words": v}]},
    lambda v: {"results": {"channels": [{"alternatives": [{"words": [v], "paragraphs": v}]}], "utterances": v}},
    lambda v: {"monologues": [{"speaker": v, "elements": [v, {"type": "text", "value": v, "ts": v}]}]},
    lambda v: {"results": {"items": [v, {"type": "pronunciation", "start_time": v, "alternatives": v}],
                           "speaker_labels": v}},
    lambda v: {"transcription": [v, {"offsets": v, "text": v}]},
    lambda v: {"events": [v, {"tStartMs": v, "segs": [v]}]},
    lambda v: [{"start": v, "text": "x"}, {"start": 1, "end": v, "text": v, "speaker": v}],
    lambda v: {"segments": [{"start": v, "end": v, "text": "x", "speaker": v}]},
]


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


@FUZZ_MORE
@given(st.sampled_from(SKELETONS), JSON_VALUES)
def test_vendor_json_with_any_values_parses_or_fails_clearly(skeleton, value):
    try:
        text = json.dumps(skeleton(value))
    except (ValueError, OverflowError):
        return
    run_pipeline(text)
