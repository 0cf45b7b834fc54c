"""An exact BM25 engine in numpy: rank-bm25's BM25Okapi scores, top-k in well under a millisecond.

Scores are exactly those of ``rank_bm25.BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)``: the
same idf (with its floor, epsilon * average idf, for terms in more than half of the documents),
the same ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` computed in the same order,
and a query token repeated n times counts n times.  The top-k are the exact k best documents
holding a query token, ties broken by lower doc id.  The engine takes token lists and does not
care how they were made.

One concept per module:

* ``bm25``: ``BM25Index``, the public surface, and which strategy answers a query;
* ``layout``: the arrays (postings by term and tf, impact levels, dense tf columns) and a query
  term's view of them; ``build``: making them from token lists; ``vocab``: token -> term id;
  ``pairs``: pair lists for the most frequent terms; ``storage``: save, load, memory-map;
* ``scoring``: exact BM25Okapi scores of given documents;
* the query strategies: ``exhaustive`` (term at a time, few postings), ``single`` (one term,
  by impact level), ``threshold`` (the threshold algorithm over terms and pair lists);
* ``params``: BM25's parameters and the engine's sizes and thresholds.
"""

from .bm25 import BM25Index

__all__ = ["BM25Index"]
