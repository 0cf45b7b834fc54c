# Copied from ../shared/bench/peers/ (the independent BM25 peer benchmark) so that bench/search.py runs
# from the repository; kept as it is there, but for the seeds folder (the bundled bot/samples, the same files).
"""Shared helpers for the BM25 peer benchmark (tokenizer, paths, corpus I/O).

Tokenization used for *every* engine: ASCII-fold (NFKD, drop combining marks),
lowercase, split on anything that is not [a-z0-9].  No stemming, no stopwords.
The corpora on disk are already tokenized (tokens joined by one space), so all
engines see byte-identical token lists.
"""
from __future__ import annotations

import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
# Generated data is large (1M segments ~ 140 MB) and fully reproducible, so it
# lives outside the repository by default.
DATA_DIR = os.environ.get("PEERS_DATA", os.path.join(os.path.expanduser("~"), ".cache", "peers-data"))
RESULTS_DIR = os.environ.get("PEERS_RESULTS", os.path.join(os.path.expanduser("~"), ".cache", "peers-results"))

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}

K1, B, EPSILON = 1.5, 0.75, 0.25

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    return t.lower()


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(fold(text))


def corpus_path(size: str) -> str:
    return os.path.join(DATA_DIR, f"corpus_{size}.txt")


def queries_path() -> str:
    return os.path.join(DATA_DIR, "queries.json")


def load_corpus(size: str) -> list[list[str]]:
    """One segment per line, tokens separated by single spaces; tokens interned."""
    intern = sys.intern
    out = []
    with open(corpus_path(size), encoding="ascii") as f:
        for line in f:
            out.append([intern(t) for t in line.split()])
    return out


def load_queries() -> list[dict]:
    with open(queries_path(), encoding="utf-8") as f:
        return json.load(f)


def rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
