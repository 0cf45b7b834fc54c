"""Quotes worth posting and remembered phrases, measured on the seeds; and the CLI answers what /quote answers.

- The labelled set (tests/data/labelled_queries.json): 41 seed queries with the passages a person would
  pick. Top-1 is measured with plain BM25 order (``rank.OFF``) and with the re-rank (``rank.WEIGHTS``).
- The remembered-phrase set (tests/data/remembered_phrases.json, drawn by bench/phrases.py): unquoted
  runs of 4 to 8 words from the middle of sentences; the passage comes first for at least 95 % of those
  whose words are not all common ones.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from bot.app import build_app
from bot.cli import main
from bot.events import EventLog
from bot.localslack import LocalSlack
from bot.serve import http_server
from bot.settings import Settings
from index import rank
from index.search import Library, _phrase_form

from .conftest import DATA
from .test_slack import SECRET, command

LABELLED = json.loads((DATA / "labelled_queries.json").read_text())["queries"]
PHRASES = json.loads((DATA / "remembered_phrases.json").read_text())["phrases"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data folder with the samples ingested by the CLI, as a person would set it up."""
    root = tmp_path_factory.mktemp("ranking")
    patch = pytest.MonkeyPatch()
    patch.setenv("QUOTEBOT_DATA_DIR", str(root))
    patch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    assert main(["ingest", "--samples"]) == 0
    settings = Settings()
    from index.store import Store

    store = Store(settings.db_url)
    library = Library.open(store, settings.data_dir / "index")
    yield root, library, store
    store.close()
    patch.undo()


def top1(library: Library, weights: rank.Weights, monkeypatch) -> list[str]:
    monkeypatch.setattr(rank, "WEIGHTS", weights)
    right = []
    for item in LABELLED:
        hits = library.search(item["query"], limit=1)
        if hits and any(p in hits[0].text for p in item["picks"]):
            right.append(item["query"])
    return right


def test_every_pick_is_a_real_passage(data):
    _, _, store = data
    texts = [s.text for s in store.iter_segments()]
    assert len(LABELLED) >= 40
    for item in LABELLED:
        for pick in item["picks"]:
            assert any(pick in t for t in texts), (item["query"], pick)


def test_the_re_rank_picks_more_quotes_worth_posting(data, monkeypatch):
    _, library, _ = data
    before = top1(library, rank.OFF, monkeypatch)
    after = top1(library, rank.Weights(), monkeypatch)
    print(f"\nlabelled set top-1: plain BM25 {len(before)}/{len(LABELLED)}, re-ranked {len(after)}/{len(LABELLED)}")
    # measured: 10/41 -> 18/41 (README); a regression of the weights shows here
    assert len(before) == 10 and len(after) >= 18


def test_the_re_rank_keeps_the_bm25_scores_exact(data):
    _, library, _ = data
    from index.tokens import tokenize

    for item in LABELLED[:10]:
        hits = library.search(item["query"], limit=5)
        terms = tokenize(" ".join(library.understand(item["query"]).query.words))
        ids = library._snapshot.segment_ids
        docs = np.asarray([int(np.flatnonzero(ids == h.segment_id)[0]) for h in hits])
        exact = library._snapshot.engine.scores(terms, docs)
        assert [h.score for h in hits] == pytest.approx(list(exact), rel=1e-9)


def test_a_remembered_phrase_finds_its_passage_first(data, monkeypatch):
    _, library, _ = data
    judged = [p for p in PHRASES if not p["common"]]
    assert len(PHRASES) >= 40 and len(judged) >= 40
    found = {}
    for weights, name in ((rank.OFF, "plain BM25"), (rank.Weights(), "re-ranked")):
        monkeypatch.setattr(rank, "WEIGHTS", weights)
        found[name] = sum(
            1 for p in judged
            if (hits := library.search(p["phrase"], limit=1))
            and _phrase_form(p["phrase"]) in _phrase_form(hits[0].text))
    print("\nremembered phrases first: " + ", ".join(f"{k} {v}/{len(judged)}" for k, v in found.items()))
    assert found["re-ranked"] >= 0.95 * len(judged)


def test_quotebot_search_gives_the_hits_quote_gives(data, capsys):
    """The same text, through signed HTTP to /quote and through `quotebot search`: the same hits, in order."""
    root, library, store = data
    slack = LocalSlack()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                        QUOTEBOT_DATA_DIR=str(root))
    app = build_app(settings, library, EventLog(store.engine))
    server = http_server(app, library, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        for item in LABELLED:
            capsys.readouterr()
            assert main(["search", item["query"], "--json", "--limit", "20"]) == 0
            cli = json.loads(capsys.readouterr().out)
            card = command(url, slack, item["query"])
            count = next(b for b in card["blocks"] if b.get("block_id") == "quote_count")["elements"][0]["text"]
            assert count.startswith(f"1 of {len(cli)} ")
            quote = next(b for b in card["blocks"] if b.get("block_id") == "quote_text")["text"]["text"]
            first = cli[0]["text"].split()[:6]
            assert all(w.strip("*") in quote.replace("*", "") for w in first), (item["query"], first)
    finally:
        server.shutdown()
        server.server_close()
        slack.close()


@pytest.mark.parametrize(("phrase", "passage"), [
    ("less than i think from gpt 4", "Is less than I think, from GPT-4 in 2022"),
    ("the cost of inference is", "the cost of inference is actually much cheaper"),
    ("cost per intelligence now the", "the humongous cost per intelligence, right? Now, the freak out"),
])
def test_the_issues_remembered_phrases_come_first(data, phrase, passage):
    _, library, _ = data
    [hit] = library.search(phrase, limit=1)
    assert _phrase_form(passage) in _phrase_form(hit.text)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("TSMC is way ahead, right? And he went to Taiwan and made TSMC, right?", False),
        ("It is cheap, you know? Really cheap.", False),
        ("Right? And that is the whole story.", False),
        ("What do you think about TSMC?", True),
        ("Is it true?", True),
        ("Do you know?", True),
        ("So is scaling dead? Is it over? I doubt it.", True),
    ],
)
def test_tag_questions_are_statements(text, question):
    """A speaker's "..., right?" habit does not make a statement a question (which the re-rank
    would halve): Dylan Patel's TSMC answer was ranked below a Taiwan-only one for it."""
    assert rank.is_question(text) is question
