"""Translations are kept per cue (issue 12, item 8): a cue without one never drops its
neighbours', so a Chinese query finds seed 001's translated line."""

from __future__ import annotations

from index.ingest import ingest
from index.search import Library
from index.store import Store

from .conftest import seed


def test_a_chinese_query_finds_its_translated_line_in_seed_001(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    [r] = ingest([str(seed("001"))], store)
    assert r.ok, r.error
    library = Library(store, tmp_path / "index")
    library.refresh()
    hits = library.search("所以我想你建议，你看")
    assert hits, "the translated line is found"
    assert hits[0].text.startswith("So I think you suggest that look evolution")
    assert "所以我想你建议，你看" in (hits[0].translation or "")
    store.close()
