"""The engine's constants: BM25Okapi's parameters and the sizes that choose layouts and strategies.

k1, b and epsilon are rank-bm25's (``BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)``), the
scoring the project is defined by.  The other figures are tuning: where a term gets impact-level
tables or a dense tf column, how deep pair lists go, when a query is scored exhaustively.  The
modules read them as ``params.NAME`` when they run, so tests can turn them down
(``mock.patch.multiple(params, ...)``) and send tiny corpora down every path big corpora take.
"""

from __future__ import annotations

import numpy as np

K1 = 1.5
B = 0.75
EPSILON = 0.25

GRID_MIN_DF = 512  # terms with more postings get impact-level tables
DENSE_FRACTION = 64  # terms in >= N/64 documents get a dense 4-bit tf column
DENSE_MIN_DOCS = 4096  # no dense columns in smaller corpora
DENSE_PREFIX = 1 << 16  # postings kept in a dense term's layers (its best, by impact)
NIBBLE = 15  # a dense tf of 15 or more is stored as 15; the exact value is in the exception table
LEVELS = 64  # impact levels per term: g_j = max_impact * RATIOS[j]
RATIOS = np.exp(-0.04 * np.arange(LEVELS))
SEED_COUNT = 32  # postings per term in the first round
DEEPEN_BUDGET = 2048  # postings in the first deepening round
DEEPEN_GROWTH = 4  # ... and this many times more in each next one
CHUNK = 100_000  # documents per build chunk (and progress report)
MAX_BUFS = 2  # per-thread N-entry tf buffers for looking up mid-frequency terms
MERGE = 8192  # a round's parts smaller than this in total are scored as one batch
TABLE_MAX_LENGTHS = 4096  # impact lookup tables when there are at most this many distinct doc lengths
FAST_MAX = 16384  # queries with at most this many postings are scored exhaustively
SMALL_CORPUS = 1 << 16  # corpora up to this size store each posting's contribution (float64)
DENSE_ACC_MAX = 1 << 16  # corpora up to this size score exhaustive queries in a fresh dense array
PAIR_TERMS = 64  # pair lists for every two of the most frequent dense terms
PAIR_DEPTH = 4096  # docs kept per pair list (at most)
PAIR_DOCS = 256  # ... and at most one per this many documents of the corpus
PAIR_MIN_DEPTH = 64  # no pair lists if they would be shorter
PAIR_HEAD = 8  # a pair list is chosen among each term's PAIR_HEAD * depth best postings
PAIR_FIRST = 16  # pair list levels: the first 16, 32, 64, ... docs
OVER_ALLOWED_MIN = 4096  # a mask letting through at most max(this, N/16) docs is scored doc by doc
CACHE_TERMS = 1 << 14  # tokens and terms whose lookups are cached (the cache is cleared when full)
PLANE_TF = (1, 2, 4)  # a dense term's bit planes: tf >= 1, >= 2, >= 4 (planes.py)
PLANE_GROUPS = 4  # length groups with their own bounds
PLANE_UNITS = 16  # bounds are rounded up to units of the guessed k-th score / PLANE_UNITS
PLANE_SEED = 64  # each dense term's best postings scored for the first guess
PLANE_CANDIDATES = 8192  # more candidates than this: try a higher guess first
PLANE_ALWAYS = 0.25  # a term in this share of the documents is taken as present in all (no first plane)
PLANE_MIN_TERMS = 3  # ... and at least this many dense terms
PLANE_UNPAIRED = 2  # ... of which at least this many have no pair lists
PLANE_ANY_TERMS = 5  # ... or at least this many dense terms, paired or not
PLANE_RARE_MAX = 4096  # the planes answer queries with at most this many postings of other terms
FORMAT = 8  # the on-disk format's version (storage.py)
