"""How right the inferred speaker names are, checked against a labelled source (issue 14).

    python bench/speakers.py [--json]

Seed 003 labels every word of Lex Fridman #459 with its speaker; seed 000 is
the same episode, timed, with no speakers and no turn marks. Two inputs are
built as ingest builds an episode (``merge.build_episode``: parse,
attribution, segments), each alone:

- **000 alone**: no turns at all, so nothing should be named;
- **000 with turn marks**: a variant of 000 with ``>>`` inserted wherever 003
  changes speaker (the words aligned as ``align_speakers`` aligns them), so it
  has turns, still no names.

Every segment word that got a name is compared with 003's label for the same
word: **named** is the share of words with a name, **wrong** the share of
named words whose name is not 003's person (a spelling of the same person,
"Nathan Lampert" for Nathan Lambert, counts as right and is reported apart).
Seeds 002 and 001 are reported too (share named; no labelled source exists).
The target is 0 % wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import formats
from index.align import align_speakers, words
from index.merge import build_episode
from index.model import Cue, Transcript
from index.sources import decode
from index.speakers import People
from index.text import norm_word

SAMPLES = ROOT / "bot" / "samples"
_BULLET = re.compile(r"^(?P<lead>\*\s+)(?P<body>.*?)(?P<suffix>\s*\[\[[^\]]*\]\([^)]*\)\]\s*)?$")


@dataclass
class Check:
    """One input checked against 003's labels (shares of words, 0-1)."""

    name: str
    words: int
    named: float
    wrong: float
    respelled: float  # named words whose name is 003's person spelled otherwise
    names: dict[str, int]  # inferred name -> words
    seconds: float


def seed(prefix: str) -> Path:
    return next(SAMPLES.glob(f"{prefix}_*.txt"))


def read(prefix: str) -> tuple[str, Transcript]:
    text, _ = decode(seed(prefix).read_bytes())
    _, [transcript] = formats.parse(text)
    return text, transcript


def marked_variant(text_000: str, t000: Transcript, t003: Transcript) -> str:
    """Seed 000's text with ``>>`` wherever 003 changes speaker, and no names.

    000's cues are aligned with 003's words; a cue that spans a change of
    speaker is split there. Each ``*`` line is rewritten from its (split) cues.
    """
    aligned = align_speakers(t000, t003).transcript
    pieces: dict[int, list[Cue]] = {}
    for cue in aligned.cues:
        if cue.line is not None:
            pieces.setdefault(cue.line, []).append(cue)
    lines = text_000.splitlines()
    first = True
    for number, cues in pieces.items():
        m = _BULLET.match(lines[number - 1].strip())
        if m is None:
            raise ValueError(f"000 line {number} is not a '*' cue line")
        body = []
        for cue in cues:
            body.append((">> " if cue.turn and not first else "") + cue.text)
            first = False
        lines[number - 1] = m.group("lead") + " ".join(body) + (m.group("suffix") or "")
    return "\n".join(lines) + "\n"


def labelled_words(t000: Transcript, t003: Transcript) -> list[tuple[str, str | None]]:
    """(word, 003's speaker) for each of 000's words, in order."""
    aligned = align_speakers(t000, t003).transcript
    w = words(aligned)
    return [(key, aligned.cues[c].speaker) for key, c in zip(w.keys, w.cue)]


def check(name: str, text: str, reference: list[tuple[str, str | None]], people: People) -> Check:
    """Build the episode from ``text`` alone and compare its segments' names with ``reference``."""
    started = time.perf_counter()
    _, [transcript] = formats.parse(text)
    built = build_episode("check", [(name, transcript)])
    seconds = time.perf_counter() - started
    inferred = [(norm_word(w), s.speaker) for s in built.segments for w in s.text.split() if norm_word(w)]
    if [w for w, _ in inferred] != [w for w, _ in reference]:
        raise AssertionError(f"{name}: the segments' words are not 000's words")
    named = wrong = respelled = 0
    names: dict[str, int] = {}
    for (_, got), (_, want) in zip(inferred, reference):
        if got is None:
            continue
        named += 1
        names[got] = names.get(got, 0) + 1
        person = people.match(got)
        if got == want:
            continue
        if person is not None and person.name == want:
            respelled += 1
        else:
            wrong += 1
    total = len(reference)
    return Check(name, total, named / total, wrong / max(1, named), respelled / max(1, named), names, seconds)


def share_named(prefix: str) -> tuple[float, dict[str, int]]:
    """Share of a seed's segment words that get a name when ingested alone (with its sidecar)."""
    from index.ingest import _apply_sidecar  # the sidecar rules ingest applies
    from index.sources import Sidecar

    _, transcript = read(prefix)
    meta = seed(prefix).with_name(seed(prefix).name.replace(".txt", ".meta.json"))
    if meta.exists():
        _apply_sidecar(transcript, Sidecar.model_validate_json(meta.read_text()))
    built = build_episode(prefix, [(prefix, transcript)])
    total = sum(len(s.text.split()) for s in built.segments)
    names: dict[str, int] = {}
    for s in built.segments:
        if s.speaker:
            names[s.speaker] = names.get(s.speaker, 0) + len(s.text.split())
    return sum(names.values()) / max(1, total), names


def run() -> dict:
    text_000, t000 = read("000")
    _, t003 = read("003")
    people = People()
    for speaker in t003.speakers:
        people.add(speaker, None, "003")
    reference = labelled_words(t000, t003)
    variant = marked_variant(text_000, t000, t003)
    checks = [check("000 alone", text_000, reference, people),
              check("000 with >> at 003's turns", variant, reference, people)]
    seeds = {prefix: share_named(prefix) for prefix in ("002", "001")}
    return {
        "checks": [asdict(c) for c in checks],
        "turn_marks_inserted": variant.count(">>"),
        "seeds": {p: {"named": round(share, 4), "names": names} for p, (share, names) in seeds.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    result = run()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"speaker names inferred, checked against seed 003's labels ({result['turn_marks_inserted']} >> marks "
          "inserted for the variant)")
    print(f"{'input':<30} {'words':>7} {'named':>8} {'wrong':>7} {'respelled':>10} {'build s':>8}  names")
    for c in result["checks"]:
        names = ", ".join(f"{n} {w}" for n, w in sorted(c["names"].items(), key=lambda x: -x[1])) or "-"
        print(f"{c['name']:<30} {c['words']:>7} {c['named']:>8.2%} {c['wrong']:>7.2%} {c['respelled']:>10.2%} "
              f"{c['seconds']:>8.2f}  {names}")
    for prefix, r in result["seeds"].items():
        names = ", ".join(f"{n} {w}" for n, w in r["names"].items()) or "-"
        print(f"seed {prefix} alone: {r['named']:.2%} of words named ({names}); no labelled source to check")
    return 0 if all(c["wrong"] == 0 for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
