"""How long ingesting every bundled seed takes (with the merging of 000, 003 and 004), on one core. Target: under 5 s.

    python bench/ingest.py [--json] [--repeat N]

Each run ingests all seeds into a fresh SQLite database (parse, segment and
store); the best and median of N runs are reported, with a per-seed split of
the parse + segment time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import formats  # noqa: E402
from index.ingest import ingest  # noqa: E402
from index.segment import segment  # noqa: E402
from index.sources import decode  # noqa: E402
from index.store import Store  # noqa: E402

SAMPLES = ROOT / "bot" / "samples"
TARGET_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
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
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['benchmark']}: best {report['total_s_best']} s, median {report['total_s_median']} s "
          f"(target < {TARGET_S} s), {segments} segments")
    for name, r in per_seed.items():
        print(f"  {name:<28} {r['format']:<17} {r['bytes'] / 1e3:>7.0f} kB  {r['segments']:>5} segments"
              f"  parse {r['parse_s']:.3f} s  segment {r['segment_s']:.3f} s")


if __name__ == "__main__":
    main()
