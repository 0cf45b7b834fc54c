"""The searchable library: the store, its BM25 index on disk, and the rules a hit must pass.

The index lives in ``<index_dir>/v<library version>-<id>/`` and ``CURRENT``
names the one in use. A rebuild writes a new folder and then replaces
``CURRENT`` in one rename, so a search never sees a half-built index; an open
``Library`` swaps in the new index with one assignment.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .engine import BM25Index
from .links import link_time, video_id
from .model import Segment
from .query import Query, parse_query
from .store import Store
from .text import norm_word
from .tokens import fold, tokenize

# A hit must contain the query's rarest term, or this share of its idf mass.
IDF_MASS_SHARE = 0.6
# Two texts sharing this share of the shorter one's word 3-grams are one quote.
DUPLICATE_SHARE = 0.5
MAX_CANDIDATES = 4000
OPENING_S = 180  # an episode's first minutes: introductions and sponsors
# words of a sponsor read or a sign-off: never a quote of the day
_ADVERT = re.compile(r"\b(sponsor(ed|s)?|promo code|use code|check out|in the description|brought to you|"
                     r"sign up|subscribe|we've been using|discount|[a-z]+\.(com|ai|io)/)\b", re.I)

Progress = Callable[[str, int, int], None]


@dataclass
class Hit:
    text: str
    speaker: str | None
    start_s: float | None
    end_s: float | None
    episode: str | None
    podcast: str | None
    url: str | None
    score: float
    matched: list[str]
    translation: str | None
    episode_id: str
    segment_id: int
    chapter: str | None = None
    published: str | None = None
    episode_url: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EpisodeInfo:
    id: str
    title: str | None
    podcast: str | None
    published: dt.date | None
    url: str | None


STALE_RETRIES = 3  # reloads a search may wait for when the library keeps changing under it


class _Stale(Exception):
    """The index names a segment the store no longer has: the library changed since it was built."""


@dataclass
class _Snapshot:
    """One built index with what filters need per document."""

    version: int
    engine: BM25Index
    segment_ids: np.ndarray  # document -> segment row id
    doc_episode: np.ndarray  # document -> index into episodes
    doc_speaker: np.ndarray  # document -> index into speakers, -1 for none
    episodes: list[EpisodeInfo]
    speakers: list[str]


def document_terms(segment: Segment) -> list[str]:
    """What the index holds for a segment: its text and its translation."""
    return tokenize(segment.text + (" " + segment.translation if segment.translation else ""), document=True)


class Library:
    """Search over a store, through an index kept in ``index_dir``."""

    def __init__(self, store: Store, index_dir: Path):
        self.store = store
        self.index_dir = Path(index_dir)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    # --- the index's life ------------------------------------------------------

    @classmethod
    def open(cls, store: Store, index_dir: Path, progress: Progress | None = None) -> "Library":
        """Load the saved index, or build it when the library changed since."""
        library = cls(store, index_dir)
        library.refresh(progress)
        return library

    @property
    def version(self) -> int | None:
        return self._snapshot.version if self._snapshot else None

    @property
    def size(self) -> int:
        return len(self._snapshot.segment_ids) if self._snapshot else 0

    def refresh(self, progress: Progress | None = None) -> bool:
        """Make the index match the store; True when a new index was swapped in."""
        with self._lock:
            wanted = self.store.version()
            if self._snapshot is not None and self._snapshot.version == wanted:
                return False
            current = self._current_dir()
            snapshot = _load(current) if current is not None else None
            if snapshot is None or snapshot.version != wanted:
                folder = self._build(progress)
                snapshot = _load(folder)
            self._snapshot = snapshot
            self._clean_old()
            return True

    def _current_dir(self) -> Path | None:
        try:
            name = (self.index_dir / "CURRENT").read_text().strip()
        except OSError:
            return None
        folder = self.index_dir / name
        return folder if name and folder.is_dir() else None

    def _build(self, progress: Progress | None) -> Path:
        version = self.store.version()
        episodes = self.store.episodes()
        episode_index = {e.id: i for i, e in enumerate(episodes)}
        speakers: dict[str, int] = {}
        segment_ids, doc_episode, doc_speaker, docs = [], [], [], []
        total = sum(e.segments for e in episodes)
        for seg in self.store.iter_segments():
            if seg.episode_id not in episode_index:
                continue  # stored by an ingest that landed after ``version`` was read: the next refresh has it
            segment_ids.append(seg.id)
            doc_episode.append(episode_index[seg.episode_id])
            doc_speaker.append(speakers.setdefault(seg.speaker, len(speakers)) if seg.speaker else -1)
            docs.append(document_terms(seg))
            if progress and len(docs) % 50_000 == 0:
                progress("reading segments", len(docs), total)
        if progress:
            progress("indexing", len(docs), total)
        engine = BM25Index.build(docs)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.index_dir / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        engine.save(tmp)
        np.save(tmp / "segment_ids.npy", np.asarray(segment_ids, dtype=np.int64))
        np.save(tmp / "doc_episode.npy", np.asarray(doc_episode, dtype=np.int32))
        np.save(tmp / "doc_speaker.npy", np.asarray(doc_speaker, dtype=np.int32))
        (tmp / "library.json").write_text(json.dumps({
            "version": version,
            "speakers": list(speakers),
            "episodes": [
                dict(id=e.id, title=e.title, podcast=e.podcast, url=e.url,
                     published=e.published.isoformat() if e.published else None)
                for e in episodes
            ],
        }, ensure_ascii=False))
        final = self.index_dir / f"v{version}-{uuid.uuid4().hex[:8]}"
        tmp.rename(final)
        pointer = self.index_dir / f".CURRENT-{uuid.uuid4().hex}"
        pointer.write_text(final.name)
        os.replace(pointer, self.index_dir / "CURRENT")
        return final

    def _clean_old(self) -> None:
        current = self._current_dir()
        for folder in self.index_dir.iterdir():
            if folder.is_dir() and folder != current and (folder.name.startswith("v") or folder.name.startswith(".tmp-")):
                shutil.rmtree(folder, ignore_errors=True)

    # --- searching -------------------------------------------------------------

    def search(self, query: Query | str, limit: int = 10) -> list[Hit]:
        """The best ``limit`` hits: honest, without duplicates, diversified on ties.

        The hits come from the index in use; their text is read from the store by segment id. An
        id the store no longer has means the library changed since the index was built (a
        re-ingest replaced that segment): the new index is loaded (or built) now and the search
        runs again on it, so an answer is never "no match" for want of a reload, and never another
        segment's text (ids are never reused). Raises QueryError for a malformed query string.
        """
        if isinstance(query, str):
            query = parse_query(query)
        for _ in range(STALE_RETRIES):
            snap = self._snapshot
            try:
                return self._search(snap, query, limit)
            except _Stale:
                self._reload_after(snap)
        return self._search(self._snapshot, query, limit, stale_ok=True)

    def _reload_after(self, seen: "_Snapshot | None") -> None:
        """Reload now, unless another thread already swapped in a newer index than ``seen``."""
        with self._lock:
            if self._snapshot is not seen:
                return
        self.refresh()

    def _search(self, snap: "_Snapshot | None", query: Query, limit: int, *, stale_ok: bool = False) -> list[Hit]:
        if snap is None or snap.engine.doc_count == 0 or limit <= 0:
            return []
        terms = tokenize(query.search_text)
        if not terms:
            return []
        allowed = self._allowed(snap, query)
        if allowed is not None and not allowed.any():
            return []
        need = _required(snap.engine, terms)
        if not need({t for t in terms if snap.engine.df(t)}):
            return []  # even a segment holding every known word would not be relevant
        vetting = _Vetting(limit)
        done, k = 0, min(max(limit * 4, 40), MAX_CANDIDATES)
        while True:
            docs, scores = snap.engine.top_k(terms, k, allowed=allowed)
            # top_k is exact and deterministic: a larger k keeps the same first ``done`` docs
            self._vet(snap, query, terms, need, docs[done:], scores[done:], vetting, stale_ok)
            done = len(docs)
            if vetting.full or len(docs) < k or k >= MAX_CANDIDATES:
                return _diversify(vetting.hits)[:limit]
            k = min(k * 4, MAX_CANDIDATES)

    def _allowed(self, snap: _Snapshot, query: Query) -> np.ndarray | None:
        mask: np.ndarray | None = None

        def narrow(extra: np.ndarray) -> None:
            nonlocal mask
            mask = extra if mask is None else mask & extra

        if query.speaker:
            want = fold(query.speaker)
            ids = [i for i, name in enumerate(snap.speakers) if want in fold(name)]
            narrow(np.isin(snap.doc_speaker, ids))
        episode_tests = []
        if query.episode:
            want = fold(query.episode)
            episode_tests.append(lambda e: want in fold(f"{e.id} {e.title or ''}"))
        if query.podcast:
            want_p = fold(query.podcast)
            episode_tests.append(lambda e: want_p in fold(e.podcast or ""))
        if query.after:
            episode_tests.append(lambda e: e.published is not None and e.published > query.after)
        if query.before:
            episode_tests.append(lambda e: e.published is not None and e.published < query.before)
        if episode_tests:
            ids = [i for i, e in enumerate(snap.episodes) if all(test(e) for test in episode_tests)]
            narrow(np.isin(snap.doc_episode, ids))
        for phrase in query.phrases:  # a phrase's words must all be there
            for term in set(tokenize(phrase)):
                narrow(_has(snap, term))
        for word in query.excluded_words:
            for term in set(tokenize(word)):
                narrow(~_has(snap, term))
        return mask

    def _vet(self, snap, query, terms, need, docs, scores, vetting: "_Vetting", stale_ok: bool = False) -> None:
        """Keep the candidates that pass: the honesty rule, phrases, exclusions, no duplicates.

        Which query terms a candidate holds is read off the index (term frequencies), so only the
        candidates that pass the honesty rule are fetched from the store.
        """
        wanted = sorted(set(terms))
        holds = [snap.engine.term_freqs(t, docs) > 0 for t in wanted]
        passing = []
        for i, (doc, score) in enumerate(zip(docs, scores)):
            present = {t for t, held in zip(wanted, holds) if held[i]}
            if score > 0 and need(present):
                passing.append((doc, score, present))
        rows = self.store.segments_by_id([int(snap.segment_ids[doc]) for doc, _, _ in passing])
        if len(rows) < len(passing) and not stale_ok:
            raise _Stale()
        phrases = [_phrase_form(p) for p in query.phrases]
        excluded = [_phrase_form(p) for p in query.excluded_phrases]
        for doc, score, present in passing:
            if vetting.full:
                return
            seg = rows.get(int(snap.segment_ids[doc]))
            if seg is None:
                continue
            if phrases or excluded:
                folded = _phrase_form(seg.text + " " + (seg.translation or ""))
                if any(p not in folded for p in phrases) or any(p in folded for p in excluded):
                    continue
            hit = self._as_hit(seg, snap.episodes[int(snap.doc_episode[doc])])
            hit.score, hit.matched = float(score), sorted(present)
            vetting.offer(hit, seg)

    # --- browsing, for the digest ---------------------------------------------

    def new_episodes(self, since: dt.datetime, until: dt.datetime) -> list[EpisodeInfo]:
        """The searchable episodes first stored after ``since`` and by ``until``, newest first."""
        snap = self._snapshot
        if snap is None:
            return []
        known = {e.id: e for e in snap.episodes}
        return [known[i] for i, _ in self.store.episodes_added(since, until) if i in known]

    def episodes(self) -> list[EpisodeInfo]:
        """The searchable episodes, newest first (by publication date, then id)."""
        snap = self._snapshot
        eps = list(snap.episodes) if snap else []
        return sorted(eps, key=lambda e: (e.published or dt.date.min, e.id), reverse=True)

    def strongest(self, episode_id: str, limit: int = 5) -> list[Hit]:
        """An episode's most quotable segments, best first (see ``quotability``)."""
        snap = self._snapshot
        info = next((e for e in snap.episodes if e.id == episode_id), None) if snap else None
        if info is None:
            return []
        ranked = sorted(
            ((quotability(seg, snap.engine.idf), seg) for seg in self.store.segments_of(episode_id)),
            key=lambda pair: (-pair[0], pair[1].seq),
        )
        hits = []
        for score, seg in ranked[:limit]:
            if score <= 0:
                break
            hit = self._as_hit(seg, info)
            hit.score = score
            hits.append(hit)
        return hits

    def context(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]:
        """The segments around a hit, for "Show context"."""
        return self.store.neighbours(segment_id, before, after)

    def moment(self, url: str) -> Hit | None:
        """The quote said at a link's ``t=`` in an indexed episode (a YouTube link), or None."""
        snap = self._snapshot
        video, second = video_id(url), link_time(url)
        if snap is None or video is None or second is None:
            return None
        for ep in snap.episodes:
            if video_id(ep.url) == video:
                seg = self.store.segment_at(ep.id, second)
                return self._as_hit(seg, ep) if seg else None
        return None

    def _as_hit(self, seg: Segment, ep: "EpisodeInfo | None") -> Hit:
        return Hit(
            text=seg.text, speaker=seg.speaker, start_s=seg.start_s, end_s=seg.end_s,
            episode=ep.title if ep else None, podcast=ep.podcast if ep else None, url=seg.url, score=0.0,
            matched=[], translation=seg.translation, episode_id=seg.episode_id, segment_id=int(seg.id),
            chapter=seg.chapter, published=ep.published.isoformat() if ep and ep.published else None,
            episode_url=ep.url if ep else None,
        )


def quotability(seg: Segment, idf: Callable[[str], float]) -> float:
    """How well a segment stands alone as a quote: 0 for one that cannot, else higher is better.

    A quote needs a time (so the card links the moment) and 20 to 80 words. Among those, the
    denser in rare words the better (the idf of its distinct words over the square root of its
    length), with bonuses for a named speaker, for ending on a full sentence, and for coming after
    the episode's opening minutes. Sponsor reads and sign-offs are left out.
    """
    words = len(seg.text.split())
    if seg.start_s is None or not 20 <= words <= 80:
        return 0.0
    opening = 0.5 if seg.start_s < OPENING_S else 1.0  # greetings and sponsors, seldom quotable
    if _ADVERT.search(seg.text):
        return 0.0
    substance = sum(max(idf(t), 0.0) for t in set(tokenize(seg.text)))
    named = 1.0 if seg.speaker else 0.6
    finished = 1.0 if seg.text.rstrip().endswith((".", "!", "?", "”", "\"")) else 0.8
    return substance / math.sqrt(words) * named * finished * opening


def _load(folder: Path) -> _Snapshot | None:
    try:
        meta = json.loads((folder / "library.json").read_text())
        return _Snapshot(
            version=int(meta["version"]),
            engine=BM25Index.load(folder),
            segment_ids=np.load(folder / "segment_ids.npy"),
            doc_episode=np.load(folder / "doc_episode.npy"),
            doc_speaker=np.load(folder / "doc_speaker.npy"),
            episodes=[
                EpisodeInfo(
                    id=e["id"], title=e["title"], podcast=e["podcast"], url=e.get("url"),
                    published=dt.date.fromisoformat(e["published"]) if e["published"] else None,
                )
                for e in meta["episodes"]
            ],
            speakers=list(meta["speakers"]),
        )
    except (OSError, ValueError, KeyError):
        return None  # missing or damaged: the caller rebuilds it


def _has(snap: _Snapshot, term: str) -> np.ndarray:
    mask = np.zeros(snap.engine.doc_count, dtype=bool)
    mask[snap.engine.docs_with(term)] = True
    return mask


def _required(engine: BM25Index, terms: list[str]) -> Callable[[set], bool]:
    """The honesty rule: a hit holds the rarest query term, or most of the query's idf mass.

    A term the library has never seen counts with the largest idf possible, so
    that a query about something absent ("sourdough") finds nothing rather
    than weak hits on its other words.
    """
    unseen = math.log(engine.doc_count + 0.5) - math.log(0.5)
    # A compound ("o3-mini") is judged by its parts, which the query also holds:
    # "O3 mini" in a transcript is the same thing said.
    atoms = {t for t in terms if not ("-" in t and set(tokenize(t.replace("-", " "))) <= set(terms))}
    weight = {t: (engine.idf(t) if engine.df(t) else unseen) for t in atoms or set(terms)}
    total = sum(weight.values())
    rarest = max(weight, key=lambda t: (weight[t], t))

    def need(present: set) -> bool:
        return rarest in present or sum(weight.get(t, 0.0) for t in present) >= IDF_MASS_SHARE * total

    return need


def _phrase_form(text: str) -> str:
    return " " + " ".join(w for w in (norm_word(x) for x in text.split()) if w) + " "


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = [w for w in (norm_word(x) for x in text.split()) if w]
    if len(words) < 3:
        return {tuple(words)}
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


class _Vetting:
    """The hits kept so far, with an index of their word 3-grams for the duplicate test."""

    def __init__(self, limit: int):
        self.limit = limit
        self.hits: list[Hit] = []
        self._kept: list[tuple[Segment, int]] = []  # segment, number of its 3-grams
        self._holders: dict[tuple[str, ...], list[int]] = {}  # 3-gram -> kept hits holding it

    @property
    def full(self) -> bool:
        return len(self.hits) >= self.limit

    def offer(self, hit: Hit, seg: Segment) -> bool:
        """Keep the hit unless it repeats one kept already; True when kept."""
        grams = _shingles(seg.text)
        shared: dict[int, int] = {}
        for gram in grams:
            for n in self._holders.get(gram, ()):
                shared[n] = shared.get(n, 0) + 1
        for n, count in shared.items():
            if count >= DUPLICATE_SHARE * min(len(grams), self._kept[n][1]):
                return False  # near-identical words: two sources of one passage
        for other, _ in self._kept:
            if _overlapping(seg, other):
                return False  # overlapping pieces of one passage
        n = len(self._kept)
        self._kept.append((seg, len(grams)))
        for gram in grams:
            self._holders.setdefault(gram, []).append(n)
        self.hits.append(hit)
        return True


def _overlapping(seg: Segment, other: Segment) -> bool:
    if seg.episode_id != other.episode_id or None in (seg.start_s, seg.end_s, other.start_s, other.end_s):
        return False
    return seg.start_s < other.end_s and other.start_s < seg.end_s


def _diversify(hits: list[Hit]) -> list[Hit]:
    """Among hits with equal scores, alternate episodes."""
    out: list[Hit] = []
    seen: dict[str, int] = {}
    i = 0
    while i < len(hits):
        j = i
        while j < len(hits) and math.isclose(hits[j].score, hits[i].score, rel_tol=1e-9, abs_tol=1e-9):
            j += 1
        group = hits[i:j]
        while group:
            best = min(range(len(group)), key=lambda n: (seen.get(group[n].episode_id, 0), n))
            chosen = group.pop(best)
            seen[chosen.episode_id] = seen.get(chosen.episode_id, 0) + 1
            out.append(chosen)
        i = j
    return out
