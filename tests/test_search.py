"""Search on the seed library: each query feature, honest no-match, dedup, highlight, context, the index's life."""

from __future__ import annotations

import threading

import pytest

from index.ingest import ingest
from index.search import Hit, Library, _diversify
from index.store import Store
from index.text import norm_word
from index.tokens import term_spans, tokenize

from .conftest import SAMPLES


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    root = tmp_path_factory.mktemp("search")
    store = Store(f"sqlite:///{root / 'lib.db'}")
    assert all(r.ok for r in ingest([str(SAMPLES)], store))
    return Library.open(store, root / "index")


def words_of(text: str) -> set[str]:
    return {w for w in (norm_word(x) for x in text.split()) if w}


def test_words(library):
    hits = library.search("export controls", limit=5)
    assert len(hits) == 5
    assert all({"export", "control"} & set(h.matched) for h in hits)
    assert "export" in hits[0].text.lower() and "controls" in hits[0].text.lower()
    # re-ranked for quotes worth posting (index.rank), on top of the exact BM25 scores
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)
    bm25 = library._snapshot.engine.score_all(tokenize("export controls"))
    ids = list(library._snapshot.segment_ids)
    assert [h.score for h in hits] == pytest.approx([float(bm25[ids.index(h.segment_id)]) for h in hits])


def test_exact_phrase_is_checked_against_the_text(library):
    hits = library.search('"export controls"', limit=10)
    assert hits and all("export controls" in " ".join(norm_word(w) for w in h.text.split()) for h in hits)
    # both words are common in the library, but never in this order
    assert library.search('"controls export"') == []


def test_speaker_episode_and_podcast_filters(library):
    dylan = library.search("chips speaker:dylan", limit=10)
    assert dylan and all("Dylan" in h.speaker for h in dylan)
    nathan = library.search('speaker:"Nathan Lambert" reinforcement learning', limit=10)
    assert nathan and all(h.speaker == "Nathan Lambert" for h in nathan)
    ep = library.search("chips episode:459", limit=10)
    assert ep and all("459" in h.episode_id or "459" in (h.episode or "") for h in ep)
    latent = library.search('chips podcast:"latent space"', limit=10)
    assert latent and all(h.podcast == "Latent Space" for h in latent)
    assert library.search("chips speaker:nobody") == []


def test_excluded_words_and_phrases(library):
    hits = library.search("chips -china -huawei", limit=20)
    assert hits
    for h in hits:
        assert "china" not in tokenize(h.text) and "huawei" not in tokenize(h.text)
    phrased = library.search('export -"export controls"', limit=20)
    assert phrased and all("export controls" not in h.text.lower() for h in phrased)


def test_published_date_filters(library):
    # Only Lex Fridman #459 has a date (2025-02-02); episodes without one never pass a date filter.
    after = library.search("chips after:2025-02-01", limit=20)
    assert after and all(h.published == "2025-02-02" for h in after)
    assert library.search("chips after:2025-02-02") == []
    before = library.search("chips before:2025-02-03", limit=20)
    assert before and all(h.published == "2025-02-02" for h in before)
    assert library.search("chips before:2025-02-02") == []


def test_stemming_accents_and_model_names(library):
    assert any("export" in h.text.lower() for h in library.search("exporting", limit=5))
    assert any({"o3", "mini"} <= set(tokenize(h.text)) for h in library.search("o3-mini", limit=5))
    assert any("H100s" in h.text for h in library.search("H100", limit=10))
    assert any("GPT-4" in h.text for h in library.search("gpt-4", limit=5))
    assert library.search("don't", limit=3)


def test_accents_are_folded(tmp_path):
    vtt = tmp_path / "cafe.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n"
        "We met at the café on the corner to talk about the Tülu models and résumés.\n\n"
        "00:00:20.000 --> 00:00:25.000\n<v Bob>Then the weather turned and everybody went home early that day.\n\n"
        "00:00:40.000 --> 00:00:45.000\n<v Ann>Trains were late, so the whole town walked along the river instead.\n"
    )
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    ingest([str(vtt)], store)
    lib = Library.open(store, tmp_path / "index")
    for query in ["cafe", "café", "tulu", "TÜLU", "resume"]:
        [hit] = lib.search(query)
        assert "café" in hit.text


def test_a_short_turn_does_not_hide_a_long_quote_that_shares_three_words(tmp_path):
    """The duplicate rule (two sources of one passage) needs a run of shared words, or all of a
    short turn's: a four-word turn is no copy of a long quote that shares "the shelf is" with it."""
    text = tmp_path / "interview.txt"
    long = ("Lena Holm: When you stand on the ice you can hear it, and the shelf is losing mass faster than "
            "any model we ran ten years ago predicted, which is why we moved the camp inland twice.")
    text.write_text(f"Lena Holm: The shelf is cracking.\nSam Okafor: How fast?\n{long}\nLena Holm: Very fast.\n")
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    assert all(r.ok for r in ingest([str(text)], store))
    lib = Library.open(store, tmp_path / "index")
    texts = [h.text for h in lib.search("shelf")]
    assert "The shelf is cracking." in texts and any(t.startswith("When you stand on the ice") for t in texts)


def test_a_chinese_query_finds_the_quote_through_its_translation(library):
    hits = library.search("强化学习", limit=5)
    assert hits and all(h.translation and "强化学习" in h.translation for h in hits)
    assert all("reinforcement" in h.text.lower() for h in hits[:2])


@pytest.mark.parametrize("query", [
    "sourdough", "sourdough starter recipe", "sourdough GPUs", "zyzzyva quux", "gardening tomatoes soil",
])
def test_honest_no_match(library, query):
    assert library.search(query) == []


def test_every_hit_holds_the_rarest_term_or_most_of_the_idf(library):
    for query in ["semiconductor export controls", "the model", "taiwan earthquake"]:
        for h in library.search(query, limit=10):
            assert h.matched


def test_one_passage_from_three_sources_shows_once(library):
    # 000, 003 and 004 all hold this passage of Lex Fridman Podcast #459.
    hits = library.search("ability to express it", limit=10)
    holding = [h for h in hits if "ability to express it" in h.text.lower()]
    assert len(holding) == 1
    for i, a in enumerate(hits):
        for b in hits[i + 1:]:
            shared = words_of(a.text) & words_of(b.text)
            assert len(shared) < 0.8 * min(len(words_of(a.text)), len(words_of(b.text))), (a.text, b.text)


def test_ties_are_diversified_across_episodes():
    def hit(ep: str, score: float) -> Hit:
        return Hit(text="t", speaker=None, start_s=None, end_s=None, episode=ep, podcast=None, url=None,
                   score=score, matched=[], translation=None, episode_id=ep, segment_id=0)
    ranked = [hit("a", 5), hit("a", 3), hit("a", 3), hit("b", 3), hit("c", 3), hit("b", 1)]
    assert [h.episode_id for h in _diversify(ranked)] == ["a", "b", "c", "a", "a", "b"]


def test_highlight_spans_cover_the_matched_words(library):
    [hit] = library.search("exporting controls", limit=1)
    spans = term_spans(hit.text, set(hit.matched))
    bolded = {hit.text[a:b].lower() for a, b in spans}
    assert bolded & {"export", "exports", "exporting"} and bolded & {"controls", "control"}


def test_context_returns_the_neighbours(library):
    [hit] = library.search("AWS pricing for H100s has gone up", limit=1)
    around = library.context(hit.segment_id)
    assert [s.id for s in around].index(hit.segment_id) == 1 and len(around) == 3
    assert len({s.episode_id for s in around}) == 1
    assert [s.seq for s in around] == list(range(around[0].seq, around[0].seq + 3))


def test_index_persists_and_is_rebuilt_after_an_ingest(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    ingest([str(next(SAMPLES.glob("002_*.txt")))], store)
    first = Library.open(store, tmp_path / "index")
    current = (tmp_path / "index" / "CURRENT").read_text()
    again = Library.open(store, tmp_path / "index")  # loads, no rebuild
    assert (tmp_path / "index" / "CURRENT").read_text() == current and again.size == first.size
    assert first.search("reinforcement learning is terrible") == []

    ingest([str(next(SAMPLES.glob("001_*.txt")))], store)
    errors: list[Exception] = []
    stop = threading.Event()

    def hammer() -> None:  # searches while the index is rebuilt and swapped
        while not stop.is_set():
            try:
                for h in first.search("chips", limit=3):
                    assert h.text
            except Exception as exc:  # noqa: BLE001 - any failure is the test's failure
                errors.append(exc)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        assert first.refresh() is True
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert first.search("reinforcement learning is terrible")
    assert (tmp_path / "index" / "CURRENT").read_text() != current
    assert len([p for p in (tmp_path / "index").iterdir() if p.is_dir()]) == 1  # the old one is gone
    assert first.refresh() is False


def test_a_damaged_index_is_rebuilt(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    ingest([str(next(SAMPLES.glob("002_*.txt")))], store)
    Library.open(store, tmp_path / "index")
    folder = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text()
    (folder / "library.json").write_text("{not json")
    assert Library.open(store, tmp_path / "index").search("chips")


def test_a_filter_alone_lists_quotable_segments_with_their_own_episodes(library):
    hits = library.search("speaker:dylan", limit=20)
    assert len(hits) == 20 and all(h.speaker == "Dylan Patel" for h in hits)
    titles = {e.id: e.title for e in library.episodes()}
    assert all(h.episode == titles[h.episode_id] for h in hits)
    assert len({h.episode_id for h in hits}) >= 1
