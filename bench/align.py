"""How long merging one episode's sources takes: Lex Fridman #459, about 5 h 6 min.

    python bench/align.py [--json] [--repeat N]

Times, on one core: aligning 000 (timed, 58k words) with 003 (speakers, 56k
words); locating 004's 374 snippets; and building the whole merged episode
(alignment, location, segmentation) as ingest does. Target: under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import (
    formats,
    merge,
)
from index.align import align_speakers, locate_passages, words
from index.merge import build_episode
from index.sources import decode

SAMPLES = ROOT / "bot" / "samples"
TARGET_S = 5.0


def load(prefix: str):
    path = next(SAMPLES.glob(f"{prefix}_*.txt"))
    return path.name, formats.parse(decode(path.read_bytes())[0])[1][0]


def timed(fn, repeat: int) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    (n0, t000), (n3, t003), (n4, t004) = load("000"), load("003"), load("004")
    align_s, aligned = timed(lambda: align_speakers(t000, t003), args.repeat)
    locate_s, located = timed(lambda: locate_passages(words(aligned.transcript), t004), args.repeat)
    def build():
        merge._ALIGNED.clear()  # measure a cold build: ingest aligns each new pair once
        return build_episode("lex459", [(n0, t000), (n3, t003), (n4, t004)])

    build_s, built = timed(build, args.repeat)
    report = {
        "benchmark": "merge Lex Fridman #459 (000 + 003 + 004), one core, median of runs",
        "episode_s": t000.duration_s,
        "timed_words": sum(len(c.text.split()) for c in t000.cues),
        "speaker_words": sum(len(c.text.split()) for c in t003.cues),
        "align_s": round(align_s, 3),
        "matched_share": round(aligned.matched_share, 4),
        "anchors_within_10s": f"{aligned.anchors_within_10s}/{aligned.anchors_checked}",
        "locate_s": round(locate_s, 3),
        "snippets_located": f"{len(located)}/{len(t004.cues)}",
        "build_episode_s": round(build_s, 3),
        "speaker_share": round(built.speaker_share, 4),
        "time_share": round(built.time_share, 4),
        "target_s": TARGET_S,
        "meets_target": build_s < TARGET_S,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
