"""How long ingesting every bundled seed takes (with the merging of 000, 003 and 004), on one core. Target: under 5 s.

    python bench/ingest.py [--json] [--repeat N] [--long-lines 20000,200000] [--no-long]

Each run ingests all seeds into a fresh SQLite database (parse, segment and
store); the best and median of N runs are reported, with a per-seed split of
the parse + segment time.

Long files (issue 12): whisper.cpp files of 20,000 and 200,000 lines made from
seed 002's words, one without punctuation (the shape that was quadratic: 766 s
at 200k lines) and one with a full stop on every line, each ingested once into
a fresh SQLite database. Targets: each 200k-line file under 30 s, and its time
per line within 2x of the 20k-line file's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import formats
from index.ingest import ingest
from index.segment import segment
from index.sources import decode
from index.store import Store

SAMPLES = ROOT / "bot" / "samples"
TARGET_S = 5.0
LONG_TARGET_S = 30.0
LONG_MAX_RATIO = 2.0


def long_whisper_cpp(lines: int, punctuated: bool) -> str:
    """A whisper.cpp file of ``lines`` lines of 8 words each (seed 002's words, 2.5 s a line)."""
    words = re.findall(r"[A-Za-z']+", next(SAMPLES.glob("002*")).read_text(encoding="utf-8"))
    out, k = [], 0
    for i in range(lines):
        text = " ".join(words[k:k + 8]).lower()
        k = (k + 8) % (len(words) - 8)
        if punctuated:
            text = text[:1].upper() + text[1:] + "."
        start = i * 2.5
        out.append(f"[{_clock(start)} --> {_clock(start + 2.5)}]   {text}")
    return "\n".join(out) + "\n"


def _clock(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"


def long_files(sizes: list[int]) -> list[dict]:
    """Ingest each long file once (fresh SQLite); seconds and microseconds per line."""
    rows = []
    for punctuated in (False, True):
        for lines in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"long-{lines}.txt"
                path.write_text(long_whisper_cpp(lines, punctuated), encoding="utf-8")
                store = Store(f"sqlite:///{tmp}/bench.db")
                t0 = time.perf_counter()
                [result] = ingest([str(path)], store)
                took = time.perf_counter() - t0
                store.close()
            if not result.ok:
                raise SystemExit(f"ingest failed: {result.error}")
            rows.append({"lines": lines, "punctuated": punctuated, "segments": result.segments,
                         "seconds": round(took, 2), "us_per_line": round(took / lines * 1e6, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--long-lines", default="20000,200000", help="sizes of the long files, in lines")
    parser.add_argument("--no-long", action="store_true", help="skip the long files")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    per_seed = {}
    for path in sorted(SAMPLES.glob("*.txt")):
        t0 = time.perf_counter()
        text, _ = decode(path.read_bytes())
        name, transcripts = formats.parse(text)
        t1 = time.perf_counter()
        count = sum(len(segment(t, "bench", t.url)) for t in transcripts)
        t2 = time.perf_counter()
        per_seed[path.name] = {
            "format": name, "bytes": path.stat().st_size, "segments": count,
            "parse_s": round(t1 - t0, 4), "segment_s": round(t2 - t1, 4),
        }

    totals = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db")
            t0 = time.perf_counter()
            results = ingest([str(SAMPLES)], store)
            totals.append(time.perf_counter() - t0)
            failed = [r.error for r in results if not r.ok]
            if failed:
                raise SystemExit(f"ingest failed: {failed}")
            segments = store.segment_count()
            store.close()

    report = {
        "benchmark": "ingest all seeds (parse, merge sources, segment, store; SQLite, one core)",
        "seeds": len(per_seed),
        "segments": segments,
        "total_s_best": round(min(totals), 3),
        "total_s_median": round(statistics.median(totals), 3),
        "target_s": TARGET_S,
        "meets_target": min(totals) < TARGET_S,
        "per_seed": per_seed,
    }
    if not args.no_long:
        sizes = sorted(int(x) for x in args.long_lines.split(","))
        rows = long_files(sizes)
        checks = {}
        for punctuated in (False, True):
            mine = [r for r in rows if r["punctuated"] == punctuated]
            small, big = mine[0], mine[-1]
            ratio = big["us_per_line"] / small["us_per_line"]
            checks["punctuated" if punctuated else "unpunctuated"] = {
                "largest_s": big["seconds"], "under_target": big["seconds"] < LONG_TARGET_S,
                "per_line_ratio": round(ratio, 2), "linear": ratio <= LONG_MAX_RATIO,
            }
        report["long_files"] = {"rows": rows, "checks": checks, "target_s": LONG_TARGET_S,
                                "max_per_line_ratio": LONG_MAX_RATIO}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['benchmark']}: best {report['total_s_best']} s, median {report['total_s_median']} s "
          f"(target < {TARGET_S} s), {segments} segments")
    for name, r in per_seed.items():
        print(f"  {name:<28} {r['format']:<17} {r['bytes'] / 1e3:>7.0f} kB  {r['segments']:>5} segments"
              f"  parse {r['parse_s']:.3f} s  segment {r['segment_s']:.3f} s")
    if "long_files" in report:
        print(f"long whisper.cpp files (target: largest < {LONG_TARGET_S:.0f} s, time per line within "
              f"{LONG_MAX_RATIO:.0f}x of the smallest's):")
        for r in report["long_files"]["rows"]:
            kind = "punctuated  " if r["punctuated"] else "unpunctuated"
            print(f"  {kind} {r['lines']:>7} lines  {r['segments']:>6} segments  {r['seconds']:>6.2f} s"
                  f"  {r['us_per_line']:>6.1f} us/line")
        for kind, c in report["long_files"]["checks"].items():
            print(f"  {kind}: largest {c['largest_s']} s ({'ok' if c['under_target'] else 'OVER'}), "
                  f"per-line ratio {c['per_line_ratio']} ({'linear' if c['linear'] else 'NOT linear'})")


if __name__ == "__main__":
    main()
