"""A library of one tiny file still finds its own words (issue 12, item 9).

With two segments every BM25Okapi idf is at or below zero (rank-bm25's epsilon
floor), so no score is positive. What counts as a match is the honesty rule on
the words a segment holds; the scores stay exactly rank-bm25's.
"""

from __future__ import annotations

import pytest
from rank_bm25 import BM25Okapi

from index.ingest import ingest
from index.search import Library, document_terms
from index.tokens import tokenize

from .test_cases import CASES


@pytest.fixture
def tiny(tmp_path, store) -> tuple[Library, object]:
    (tmp_path / "in").mkdir()
    name = "json-assemblyai-utterances-ms.json"
    (tmp_path / "in" / name).write_bytes((CASES / name).read_bytes())
    [r] = ingest([str(tmp_path / "in")], store)
    assert r.ok and r.segments == 2, r
    library = Library(store, tmp_path / "index")
    library.refresh()
    return library, store


@pytest.mark.parametrize(("query", "expected"), [
    ("brass diaphragm", "The brass diaphragm cracks every winter."),
    ("harbour lights", "Welcome to Harbour Lights."),
    ("winter", "The brass diaphragm cracks every winter."),
])
def test_a_two_segment_library_finds_its_own_words(tiny, query, expected):
    library, store = tiny
    hits = library.search(query)
    assert [h.text for h in hits][:1] == [expected]
    # The scores are rank-bm25's BM25Okapi scores, unchanged (here at or below zero).
    segs = [s for e in store.episodes() for s in store.segments_of(e.id)]
    reference = BM25Okapi([document_terms(s) for s in segs], k1=1.5, b=0.75, epsilon=0.25)
    scores = reference.get_scores(tokenize(query))
    by_text = {s.text: float(scores[i]) for i, s in enumerate(segs)}
    for h in hits:
        assert h.score == pytest.approx(by_text[h.text], abs=1e-6)
    assert max(by_text.values()) <= 0.0


def test_a_word_it_does_not_hold_still_finds_nothing(tiny):
    library, _ = tiny
    assert library.search("sourdough") == []
