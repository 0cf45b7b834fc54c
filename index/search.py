"""Search over the stored segments with BM25 (rank-bm25's BM25Okapi)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from .store import Store
from .tokens import fold, tokenize


@dataclass
class Hit:
    text: str
    speaker: str | None
    start_s: float | None
    end_s: float | None
    episode: str | None
    episode_id: str
    podcast: str | None
    url: str | None
    score: float
    translation: str | None = None
    chapter: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Searcher:
    """An in-memory BM25 index over every segment in a store."""

    def __init__(self, store: Store):
        episodes = {e.id: e for e in store.episodes()}
        self.segments = [s for _, s in store.iter_segments()]
        self.episodes = episodes
        corpus = [tokenize(s.text) for s in self.segments]
        self.bm25 = BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25) if corpus else None

    def search(
        self, query: str, *, limit: int = 10, speaker: str | None = None, episode: str | None = None
    ) -> list[Hit]:
        terms = tokenize(query)
        if self.bm25 is None or not terms:
            return []
        scores = self.bm25.get_scores(terms)
        keep = np.ones(len(self.segments), dtype=bool)
        if speaker:
            want = fold(speaker)
            keep &= np.array([bool(s.speaker) and want in fold(s.speaker) for s in self.segments])
        if episode:
            want = fold(episode)
            keep &= np.array(
                [want in fold(f"{s.episode_id} {self.episodes[s.episode_id].title or ''}") for s in self.segments]
            )
        scores = np.where(keep, scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:limit]
        hits = []
        for i in order:
            if not np.isfinite(scores[i]) or scores[i] <= 0:
                break
            s = self.segments[i]
            ep = self.episodes[s.episode_id]
            hits.append(
                Hit(
                    text=s.text, speaker=s.speaker, start_s=s.start_s, end_s=s.end_s,
                    episode=ep.title, episode_id=s.episode_id, podcast=ep.podcast, url=s.url,
                    score=float(scores[i]), translation=s.translation, chapter=s.chapter,
                )
            )
        return hits
