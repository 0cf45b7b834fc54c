"""Draw the remembered-phrase set: unquoted runs of 4 to 8 words from the middle of sentences across the seeds.

    python bench/phrases.py [--count 60] [--seed 13] [--out tests/data/remembered_phrases.json]

People quote from memory: a run of words, in order, without quotation marks. This script ingests the
bundled seed transcripts into a temporary library, then draws, with a fixed-seed random generator,
sentences of at least 10 words from its segments, and from each a run of 4 to 8 words that neither
starts at the sentence's first word nor ends at its last. Each phrase is kept with its segment's
episode and start, and with ``common``: whether all its words are common ones (question and filler
words, or among the 1,000 most frequent English words), so that a test can judge the others.
tests/test_ranking.py checks that the phrase's passage comes first.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.ingest import ingest
from index.store import Store
from index.tokens import fold
from index.understand import FILLER, english_rank

SENTENCE = re.compile(r"[^.!?]+[.!?]")
COMMON_RANK = 1000


def is_common(phrase: str) -> bool:
    """All the phrase's words are filler words or among the COMMON_RANK most frequent English words."""
    ranks = english_rank()
    words = [fold(w).strip(",;:'\"") for w in phrase.split()]
    return all(w in FILLER or 0 <= ranks.get(w, -1) < COMMON_RANK for w in words if w)


def draw(count: int, seed: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'lib.db'}")
        assert all(r.ok for r in ingest([str(ROOT / "bot" / "samples")], store))
        segments = [s for s in store.iter_segments() if s.start_s is not None]
        store.close()
    rng = random.Random(seed)
    rng.shuffle(segments)
    out, seen = [], set()
    for seg in segments:
        sentences = [s.split() for s in SENTENCE.findall(seg.text) if len(s.split()) >= 10]
        if not sentences:
            continue
        words = rng.choice(sentences)
        size = rng.randint(4, 8)
        start = rng.randint(1, len(words) - size - 1)
        phrase = " ".join(w.strip(",;:\"“”") for w in words[start:start + size])
        key = fold(phrase)
        if key in seen:
            continue
        seen.add(key)
        out.append({"phrase": phrase, "episode_id": seg.episode_id, "start_s": seg.start_s,
                    "common": is_common(phrase)})
        if len(out) == count:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "remembered_phrases.json")
    args = parser.parse_args()
    phrases = draw(args.count, args.seed)
    args.out.write_text(json.dumps({"seed": args.seed, "phrases": phrases}, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(phrases)} phrases ({sum(not p['common'] for p in phrases)} not all common) -> {args.out}")


if __name__ == "__main__":
    main()
