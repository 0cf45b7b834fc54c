"""Shared fuzzing parts: hypothesis settings and line edits of real transcripts."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bits of every format's structure, so that edits break real structure.
STRUCTURE = [
    "", ">>", "[MUSIC]", "[00:00]", "[99:99]", "[00:00:00.000 --> 00:00:0x.000]", "**Name**", "## **",
    "*  text [[00:00:01](https://www.youtube.com/watch?v=x&t=abc)]", "WEBVTT", "-->", "1", "00:00:01,000 --> x",
    "{", '{"segments": [{"startTime": "x"}]}', "<p><cite>A:</cite>", "<v Ann>", "Published - Febtember 99, 2025",
    "  强化学习", "---", "Date Generated: x", "\x00", "\ufeff", "[inaudible 99:99:99]", "Lex Fridman Podcast",
    # issue 12's shapes: labels, lenient timings, blocks, TTML, TSV
    "[SPEAKER_00]: ", ">> MARTA: ", "Unknown: ", "- ", "Marta Kowal: ", "0.860 --> 7.380", "0:0:4,8 --> 0:0:7,4",
    "Starting point is 99:99:99", "[00:00:03:18 - 00:00:08:08]", "Marta (00:15):", "Olek: (00:61)",
    '<tt xmlns="http://www.w3.org/ns/ttml">', '<p begin="1:02.000" end="x" ttm:agent="SPEAKER_1">', "start\tend\ttext",
]

# (operation, position, payload) triples for edit_lines.
EDITS = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 10_000), st.one_of(st.text(max_size=20), st.sampled_from(STRUCTURE))),
    max_size=8,
)


def edit_lines(lines: list[str], edits: list[tuple[int, int, str]]) -> str:
    """Apply edits to a copy of ``lines``: delete, insert, splice, truncate, duplicate, swap."""
    lines = list(lines)
    for op, pos, payload in edits:
        if not lines:
            lines.append(payload)
            continue
        i = pos % len(lines)
        cut = pos % (len(lines[i]) + 1)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, payload)
        elif op == 2:
            lines[i] = lines[i][:cut] + payload + lines[i][cut:]
        elif op == 3:
            lines[i] = lines[i][:cut]
        elif op == 4:
            lines.insert(i, lines[(pos * 7) % len(lines)])
        else:
            j = (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)
