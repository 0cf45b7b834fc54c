"""The engine's constants: BM25Okapi's parameters and the sizes that choose layouts and strategies.

k1, b and epsilon are rank-bm25's (``BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)``), the
scoring the project is defined by.  The other figures are tuning: which terms get a dense tf
column, how big a block is, when a query is scored exhaustively.  Python code reads them as
``params.NAME`` when it runs and hands them to compiled code as arguments, so tests can turn them
down (``mock.patch.multiple(params, ...)``) and send tiny corpora down every path big corpora take.
"""

from __future__ import annotations

K1 = 1.5
B = 0.75
EPSILON = 0.25

DENSE_FRACTION = 64  # terms in >= N/64 documents get a dense 4-bit tf column
DENSE_MIN_DOCS = 4096  # no dense columns in smaller corpora
NIBBLE = 15  # a dense tf of 15 or more is stored as 15; the exact value is in the exception table
BLOCK = 4096  # documents per block (maxscore.py); blocks never mix two lengths
SEED = 2  # postings per layer scored first, for a first k-th score (maxscore.py)
FAST_MAX = 16384  # queries with at most this many postings are scored exhaustively
MAX_TERMS = 62  # distinct query terms the MaxScore strategy takes (one bit each); more: exhaustive
OVER_ALLOWED = 24  # a mask letting through fewer than postings / this many docs is scored doc by doc
CHUNK = 100_000  # documents per build chunk (and progress report)
CACHE_TERMS = 1 << 14  # tokens and terms whose lookups are cached (the cache is cleared when full)
FORMAT = 9  # the on-disk format's version (storage.py)
