"""The vocabulary (index/engine/vocab.py): every token finds its id, unknown tokens find -1."""

from __future__ import annotations

from index.engine.vocab import Vocab


def test_every_token_round_trips_and_unknown_tokens_are_absent():
    tokens = ["the", "é", "naïve", "日本", "emoji🙂", "", "a" * 300, "\udcff"] + [f"w{i}" for i in range(5000)]
    vocab = Vocab.build(tokens)
    assert len(vocab) == len(tokens)
    for i, t in enumerate(tokens):
        assert vocab.get(t) == i
        assert vocab.token(i) == t
    for t in ("zz", "The", "w5000", "日"):
        assert vocab.get(t) == -1
    back = Vocab.from_arrays(vocab.arrays())
    assert back.get("naïve") == 2 and back.token(4) == "emoji🙂"


def test_empty_vocabulary():
    vocab = Vocab.build([])
    assert len(vocab) == 0 and vocab.get("a") == -1
