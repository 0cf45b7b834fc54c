"""Quotes worth posting: a re-rank of the engine's top candidates, on top of their exact BM25 scores.

The engine's BM25Okapi scores (rank-bm25's, k1=1.5, b=0.75, epsilon=0.25) are never changed: a hit keeps
its BM25 score in ``Hit.score``. The order of the candidates the engine returned is then

    rank = bm25 × (quality + PHRASE × proximity)

- ``quality`` (0 < quality ≤ 1) is a product of penalties, each ``1 - weight`` when it applies:
  the query's words a segment does not hold (COVERAGE × the share of the query's idf it lacks, as
  Lucene's classic ``coord`` factor but weighed by idf: a segment holding every word typed ranks above
  one that repeats only some of them),
  a question rather than a statement (QUESTION), a fragment rather than a complete thought (FRAGMENT),
  a speaker who mostly asks (ASKER × the share of that speaker's segments that are questions: hosts ask,
  guests hold the views), the episode's opening minutes (OPENING) and sponsor reads (ADVERT).
  Penalties are mild, so they decide among hits of similar BM25 score, not against a much better match.
- ``proximity`` (0 to 1) is a sloppy phrase match, as Lucene's and Elasticsearch's ``match_phrase`` with a
  slop rescore: the query's consecutive word pairs found in the segment in the same order at most ``SLOP``
  words apart, each weighed 1 / (1 + the words between) as Lucene's sloppy frequency, over the pairs.
  It is computed for queries of three words or more (a remembered phrase), over
  every word typed (question words and stopwords too: they are part of what is remembered). It is added
  to quality rather than multiplied by it: a passage that holds the remembered words in order is the
  one meant, even when it is a fragment.

The weights live here, in ``WEIGHTS``; README's "Search" section explains them, and
``tests/test_ranking.py`` measures them on a labelled set (top-1 before and after).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

OPENING_S = 180  # an episode's first minutes: introductions and sponsors
FRAGMENT_WORDS = 12  # fewer words than this is a fragment, not a complete thought
FULL_WORDS = 40  # a segment this long or longer has room for a complete thought
_ADVERT = re.compile(
    r"\b(sponsor(ed|s)?|promo code|use code|check out|in the description|brought to you|"
    r"sign up|subscribe|we've been using|discount|[a-z]+\.(com|ai|io)/)\b", re.I)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s|$)")


@dataclass(frozen=True)
class Weights:
    """The re-rank's weights, in one place (see the module docstring for what each does)."""

    question: float = 0.5  # the segment is a question
    fragment: float = 0.4  # short, or stops mid-sentence
    asker: float = 0.25  # × the speaker's share of question segments
    opening: float = 0.2  # said in the first OPENING_S seconds
    advert: float = 0.6  # a sponsor read
    brevity: float = 0.3  # × the share of FULL_WORDS a segment falls short by (BM25 favours short ones)
    coverage: float = 0.5  # × the share of the query's idf a segment lacks (words it does not hold)
    phrase: float = 1.5  # × proximity: the query's words in order, close together
    slop: int = 2  # words allowed between two consecutive query words


WEIGHTS = Weights()
# plain BM25 order, to compare
OFF = Weights(question=0, fragment=0, asker=0, opening=0, advert=0, brevity=0, coverage=0, phrase=0)


def is_advert(text: str) -> bool:
    """A sponsor read or a sign-off (promo codes, "check out", shop URLs)."""
    return bool(_ADVERT.search(text))


# Tag questions ("..., right?", "you know?", "Right?"): a speaker's habit, not a question asked.
_TAG_QUESTION = re.compile(
    r"(?:,\s*|^|(?<=[.!?]\s))(?:right|you know|yeah|okay|ok|huh|correct|true|isn't it|aren't they|"
    r"don't you think)\s*\?", re.I)


def is_question(text: str) -> bool:
    """The segment asks rather than says: it ends with "?" or most of its sentences do.  Tag
    questions ("it's the best, right?") are statements: they do not count."""
    text = _TAG_QUESTION.sub(".", text).rstrip()
    if text.endswith("?"):
        return True
    ends = _SENTENCE_END.findall(text)
    return bool(ends) and sum("?" in e for e in ends) * 2 > len(ends)


def is_fragment(text: str) -> bool:
    """Not a complete thought: fewer than FRAGMENT_WORDS words, or it stops mid-sentence."""
    words = text.split()
    return len(words) < FRAGMENT_WORDS or not _SENTENCE_END.search(text.rstrip()[-3:] + " ")


# What a segment is, as bits: computed once per segment when the index is built (``features``), so that
# a query weighs its candidates with numpy and the current WEIGHTS, reading no text.
QUESTION, FRAGMENT, OPENING, ADVERT = 1, 2, 4, 8


def features(text: str, start_s: float | None) -> tuple[int, int]:
    """A segment's re-rank features: (bits of QUESTION, FRAGMENT, OPENING, ADVERT; its number of words)."""
    bits = (QUESTION * is_question(text) | FRAGMENT * is_fragment(text) | ADVERT * is_advert(text)
            | OPENING * (start_s is not None and start_s < OPENING_S))
    return bits, len(text.split())


def qualities(bits: np.ndarray, words: np.ndarray, asker_share: np.ndarray,
              weights: Weights | None = None, lacking: np.ndarray | None = None) -> np.ndarray:
    """``quality`` for many segments at once, from their ``features``, their speakers' asker shares
    and (``lacking``, 0 to 1) the share of the query's idf each does not hold."""
    weights = weights or WEIGHTS
    q = np.ones(len(bits), dtype=np.float64)
    if lacking is not None:
        q *= 1 - weights.coverage * np.clip(lacking, 0.0, 1.0)
    for bit, weight in ((QUESTION, weights.question), (FRAGMENT, weights.fragment),
                        (OPENING, weights.opening), (ADVERT, weights.advert)):
        q[(bits & bit) != 0] *= 1 - weight
    q *= 1 - weights.asker * asker_share
    q *= 1 - weights.brevity * np.clip(1 - words / FULL_WORDS, 0.0, 1.0)
    return q


def quality(text: str, start_s: float | None, asker_share: float, weights: Weights | None = None) -> float:
    """How worth posting a segment is, as a multiplier in (0, 1] (1: a complete statement of a view)."""
    bits, words = features(text, start_s)
    return float(qualities(np.asarray([bits]), np.asarray([words]), np.asarray([asker_share]), weights)[0])


def proximity(query_terms: Sequence[str], doc_terms: Sequence[str], slop: int | None = None) -> float:
    """A sloppy phrase match of ``query_terms`` in ``doc_terms``, from 0 to 1; 0 for fewer than three terms.

    Each consecutive pair of query terms found in the document in the same order, at most ``slop``
    terms between them, counts 1 / (1 + the terms between), as Lucene's sloppy phrase frequency
    weighs a match by its distance; the sum is divided by the number of pairs.
    """
    if len(query_terms) < 3:
        return 0.0
    slop = WEIGHTS.slop if slop is None else slop
    positions: dict[str, list[int]] = {}
    wanted = set(query_terms)
    for i, term in enumerate(doc_terms):
        if term in wanted:
            positions.setdefault(term, []).append(i)
    found = 0.0
    for a, b in pairwise(query_terms):
        pa, pb = positions.get(a), positions.get(b)
        if pa and pb:
            gaps = [j - i for i in pa for j in pb if 0 < j - i <= slop + 1]
            if gaps:
                found += 1 / min(gaps)
    return found / (len(query_terms) - 1)


def rank_score(bm25: float, quality_: float, proximity_: float, weights: Weights | None = None) -> float:
    """The re-rank's order key for a candidate with exact BM25 score ``bm25``."""
    weights = weights or WEIGHTS
    if bm25 <= 0:  # a tiny library, where every idf is at rank-bm25's floor: its order stands
        return bm25
    return bm25 * (quality_ + weights.phrase * proximity_)


def upper_bounds(bm25: np.ndarray, quality_: np.ndarray, query_length: int,
                 weights: Weights | None = None) -> np.ndarray:
    """The highest rank each candidate can reach whatever its proximity (exact for a query of fewer
    than three proximity terms): what lets the re-rank read only the candidates that can win."""
    weights = weights or WEIGHTS
    bonus = weights.phrase if query_length >= 3 else 0.0
    return np.where(bm25 > 0, bm25 * (quality_ + bonus), bm25)
