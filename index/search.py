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
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from . import rank
from .engine import BM25Index
from .labels import display_name, names_speaker
from .links import link_time, video_id
from .model import Segment
from .query import Query
from .store import Store
from .text import norm_word
from .tokens import fold, tokenize
from .understand import MIN_COUNT, Lexicon, Understanding, name_words, understand

# A hit must contain the query's rarest term, or this share of its idf mass.
IDF_MASS_SHARE = 0.6
# Two texts sharing this share of the shorter one's word 3-grams are one quote.
DUPLICATE_SHARE = 0.5
DUPLICATE_MIN = 3  # ... and at least this many 3-grams (a five-word run), unless the shorter is all shared
MAX_CANDIDATES = 4000
BROWSE_SAMPLE = 160  # a filter alone: the segments (spread over the matches) ranked by quotability
PHRASE_NARROW = 2  # a quoted phrase narrows the search by this many of its rarest words
UNFILTERED_COUNT = 10  # when filters emptied the result: count up to this many hits without them

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
    rank: float | None = None  # the re-rank's order key (index.rank); ``score`` stays the exact BM25 score
    speaker_label: str | None = None  # the source's diarization label, when no name is known

    @property
    def who(self) -> str | None:
        """The named speaker, else the diarization label as "Speaker N", else None."""
        return display_name(self.speaker, self.speaker_label)

    def to_dict(self) -> dict:
        return {**asdict(self), "who": self.who}


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
class Overview:
    """The library at a glance (App Home)."""

    episodes: int
    segments: int
    newest: EpisodeInfo | None  # by publication date
    hours: float  # of audio, from the episodes' durations
    speaker_share: float  # 0..1, segments that name their speaker


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
    asker_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # speaker -> share of their segments that ask
    doc_bits: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))  # document -> rank.features bits
    doc_words: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint16))  # document -> words
    vocabulary: list[str] = field(default_factory=list)  # folded library words, for typo look-ups
    counts: list[int] = field(default_factory=list)  # vocabulary word -> segments holding it
    lexicon: Lexicon | None = None


@dataclass
class Answer:
    """What a query gets: the hits, and what was understood (for the card's notes).

    ``kind``: "hits", "none" (an honest no-match), "help", "error" (``understanding.error`` says how
    to fix the query). ``relaxed``: the named speaker or episode had nothing, so these are from a
    fallback: the speaker's own episode (its title) or "anyone".
    ``unfiltered``: when explicit filters emptied the result, how many hits the words get without them.
    """

    understanding: Understanding
    hits: list[Hit]
    relaxed: str | None = None
    unfiltered: int = 0

    @property
    def kind(self) -> str:
        if self.understanding.kind in ("help", "error"):
            return self.understanding.kind
        return "hits" if self.hits else "none"

    def notes(self, mark: Callable[[str], str] = lambda s: s) -> list[str]:
        """What to tell the person about their query, one sentence each; every typed word goes through
        ``mark`` (a surface bolds and escapes it). With hits: corrections, words left out, the named
        preference. With none: why, and what to try next."""
        u, out = self.understanding, []
        listed = lambda words: ", ".join(mark(w) for w in words)  # noqa: E731
        if u.corrected:
            typed = u.text  # the query as typed, its corrected words quoted (so that they are not corrected)
            for t, _ in u.corrected:
                typed = re.sub(rf'(?<![\w"]){re.escape(t)}(?![\w"])', f'"{t}"', typed, count=1)
            out.append(f"Showing results for {mark(u.searched)}; search instead for {mark(typed)}.")
        if u.suggested:
            out.append(f"Did you mean {listed([f for _, f in u.suggested])}?")
        if u.left_out and self.hits:
            out.append(f"Left out {listed(u.left_out)}: no transcript in the library has "
                       f"{'it' if len(u.left_out) == 1 else 'them'}.")
        elif u.left_out:
            out.append(f"No transcript in the library has {listed(u.left_out)}.")
        if u.preferred and self.hits:
            out.append(f"From {mark(u.preferred)}." if self.relaxed is None else
                       f"Nothing from {mark(u.preferred)} matched; these are from "
                       f"{'anyone' if self.relaxed == 'anyone' else mark(self.relaxed)}.")
        if self.kind == "none":
            query = u.query
            if self.unfiltered and query is not None:
                drop = " ".join(query.filters)
                many = "s match" if self.unfiltered > 1 else " matches"
                more = "+" if self.unfiltered >= UNFILTERED_COUNT else ""
                out.append(f"Without {mark(drop)}, {self.unfiltered}{more} quote{many}: drop the filter.")
            elif not (u.left_out or u.suggested):
                out.append("Try fewer or other words, drop a filter, or check the spelling of a name.")
        return out


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
        # how a search that meets a replaced segment reloads; a server sets its own (under its lock)
        self.reload_now: Callable[[], object] = self.refresh

    # --- the index's life ------------------------------------------------------

    @classmethod
    def open(cls, store: Store, index_dir: Path, progress: Progress | None = None) -> Library:
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

    def unload(self) -> None:
        """Drop the loaded index (an HTTP server's master once its workers have theirs); the next
        ``refresh`` loads it again."""
        with self._lock:
            self._snapshot = None

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
        said: Counter[int] = Counter()  # speaker -> segments
        asked: Counter[int] = Counter()  # speaker -> question segments
        words: Counter[str] = Counter()  # folded word -> segments holding it
        doc_bits, doc_words = [], []  # the re-rank's features of each document (index.rank.features)
        total = sum(e.segments for e in episodes)
        for seg in self.store.iter_segments():
            if seg.episode_id not in episode_index:
                continue  # stored by an ingest that landed after ``version`` was read: the next refresh has it
            segment_ids.append(seg.id)
            doc_episode.append(episode_index[seg.episode_id])
            who = seg.who  # a label is found as "Speaker 1" too
            speaker = speakers.setdefault(who, len(speakers)) if who else -1
            doc_speaker.append(speaker)
            said[speaker] += 1
            bits, count = rank.features(seg.text, seg.start_s)
            doc_bits.append(bits)
            doc_words.append(min(count, 65535))
            asked[speaker] += bool(bits & rank.QUESTION)
            words.update(set(_WORD.findall(fold(seg.text))))
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
        np.save(tmp / "doc_bits.npy", np.asarray(doc_bits, dtype=np.uint8))
        np.save(tmp / "doc_words.npy", np.asarray(doc_words, dtype=np.uint16))
        vocabulary = sorted((w for w, n in words.items() if n >= MIN_COUNT), key=lambda w: (-words[w], w))
        (tmp / "vocabulary.json").write_text(json.dumps({w: words[w] for w in vocabulary}, ensure_ascii=False))
        (tmp / "library.json").write_text(json.dumps({
            "version": version,
            "speakers": list(speakers),
            "asker_share": [asked[i] / said[i] if said[i] else 0.0 for i in range(len(speakers))],
            "episodes": [
                {"id": e.id, "title": e.title, "podcast": e.podcast, "url": e.url,
                     "published": e.published.isoformat() if e.published else None}
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
            if (
                folder.is_dir()
                and folder != current
                and (folder.name.startswith("v") or folder.name.startswith(".tmp-"))
            ):
                shutil.rmtree(folder, ignore_errors=True)

    # --- searching -------------------------------------------------------------

    def answer(self, text: str, limit: int = 10) -> Answer:
        """Answer what a person typed (a Slack message's text, or a command line): the one entry point.

        ``text`` may hold Slack markup, a question, typos, names and filters (``index.understand``).
        Returns an ``Answer`` with at most ``limit`` hits, best first, and what the card should say
        about the query. Never raises for bad input (``Answer.kind`` is "error" with a fix).
        """
        snap = self._snapshot
        lexicon = self._lexicon(snap)
        got = understand(text, lexicon)
        if got.kind in ("help", "error") or got.query is None or snap is None:
            return Answer(got, [])
        if got.kind == "moment":
            hit = self.moment(got.link) if got.link else self._moment_at(snap, got.query)
            return Answer(got, [hit] if hit else [])
        hits = self._search(got.query, limit, got.order)
        for fallback, whose in got.fallbacks if not hits else ():
            hits = self._search(fallback, limit, got.order)
            if hits:
                return Answer(got, hits, relaxed=whose)
        unfiltered = 0
        query = got.query
        if not hits and query.filters and (query.words or query.phrases):
            bare = replace(query, speaker=None, episode=None, podcast=None, after=None, before=None)
            unfiltered = len(self._search(bare, max(limit, UNFILTERED_COUNT), got.order))
        return Answer(got, hits, unfiltered=unfiltered)

    def understand(self, text: str) -> Understanding:
        """What ``text`` is understood to ask (``index.understand.understand`` over this library)."""
        return understand(text, self._lexicon(self._snapshot))

    def search(self, query: Query | str, limit: int = 10) -> list[Hit]:
        """The best ``limit`` hits: honest, without duplicates, re-ranked for quotes worth posting.

        A string is understood as ``answer`` understands it (markup, questions, names, typos) and
        gives ``answer(text, limit).hits``; a ``Query`` is searched as it stands. Never raises for a
        malformed string: it finds nothing (``answer`` says why).
        """
        if isinstance(query, str):
            return self.answer(query, limit).hits
        return self._search(query, limit, None)

    def _lexicon(self, snap: _Snapshot | None) -> Lexicon:
        if snap is None:
            return Lexicon(speakers=(), episodes=(), df=lambda term: 0)
        if snap.lexicon is None:
            episodes = [(e.id, e.title or "", e.podcast or "") for e in snap.episodes]
            snap.lexicon = Lexicon(
                speakers=snap.speakers, episodes=episodes, df=snap.engine.df, words=snap.vocabulary,
                counts=snap.counts, names=name_words(snap.speakers, episodes, snap.engine.df),
            )
        return snap.lexicon

    def _search(self, query: Query, limit: int, order: tuple[str, ...] | None) -> list[Hit]:
        """The hits of ``query`` in the index in use; their text is read from the store by segment id.

        An id the store no longer has means the library changed since the index was built (a
        re-ingest replaced that segment): the new index is loaded (or built) now and the search
        runs again on it, so an answer is never "no match" for want of a reload, and never another
        segment's text (ids are never reused).
        """
        for _ in range(STALE_RETRIES):
            snap = self._snapshot
            try:
                return self._search_in(snap, query, limit, order, stale_ok=False)
            except _Stale:
                self._reload_after(snap)
        return self._search_in(self._snapshot, query, limit, order, stale_ok=True)

    def _reload_after(self, seen: _Snapshot | None) -> None:
        """Reload now, unless another thread already swapped in a newer index than ``seen``."""
        with self._lock:
            if self._snapshot is not seen:
                return
        self.reload_now()

    def _rows(self, snap: _Snapshot, docs: Iterable[int], stale_ok: bool) -> dict[int, Segment]:
        """The segments of these documents by row id; raises _Stale when one is gone (unless ``stale_ok``)."""
        ids = [int(snap.segment_ids[doc]) for doc in docs]
        rows = self.store.segments_by_id(ids)
        if len(rows) < len(set(ids)) and not stale_ok:
            raise _Stale()
        return rows

    def _search_in(self, snap: _Snapshot | None, query: Query, limit: int, order: tuple[str, ...] | None,
                   *, stale_ok: bool) -> list[Hit]:
        if snap is None or snap.engine.doc_count == 0 or limit <= 0:
            return []
        if query.at_s is not None:
            hit = self._moment_at(snap, query)
            return [hit] if hit else []
        allowed = self._allowed(snap, query)
        if allowed is not None and not allowed.any():
            return []
        sides = [_side(side) for side in query.alternatives] or [(query.search_text, query.phrases)]
        terms = tokenize(" ".join(text for text, _ in sides))
        if not terms:
            return self._browse(snap, query, allowed, limit, stale_ok) if allowed is not None else []
        needs = []
        for side_text, phrases in sides:
            side_terms = tokenize(side_text)
            need = _required(snap.engine, side_terms) if side_terms else None
            if need is not None and need({t for t in side_terms if snap.engine.df(t)}):
                needs.append((need, [_phrase_form(p) for p in phrases], set(side_terms)))
        if not needs:
            return []  # even a segment holding every known word would not be relevant
        if order is None:  # a Query as it stands: proximity over its words and phrases when three or more
            typed = query.words + query.phrases
            order = tuple(tokenize(" ".join(typed))) if len(typed) >= 3 else ()
        order_terms = list(order)
        vetting = _Vetting(limit)
        done, k = 0, min(max(limit * 4, 40), MAX_CANDIDATES)
        while True:
            docs, scores = snap.engine.top_k(terms, k, allowed=allowed)
            # top_k is exact and deterministic: a larger k keeps the same first ``done`` docs
            self._vet(snap, query, terms, needs, order_terms, docs[done:], scores[done:], vetting, stale_ok)
            done = len(docs)
            if vetting.full or len(docs) < k or k >= MAX_CANDIDATES:
                return _diversify(vetting.hits)[:limit]
            k = min(k * 4, MAX_CANDIDATES)

    def _browse(self, snap: _Snapshot, query: Query, allowed: np.ndarray, limit: int,
                stale_ok: bool = False) -> list[Hit]:
        """A filter alone (``speaker:dylan``, ``speaker:"Speaker 2"``): the most quotable of a spread
        of its segments, those of a quote's length first (``stands_alone``), then the rest by the
        same score: a speaker who only ever says a sentence or two (a diarization label's short
        turns, an interviewer's questions) is listed too, not answered with nothing. Segments
        without a time (an untimed plain-text transcript) come after every timed one, in the same
        order: their speakers are listed too, never ahead of a quote that links its moment."""
        docs = np.flatnonzero(allowed)
        if len(docs) > BROWSE_SAMPLE:
            docs = docs[np.linspace(0, len(docs) - 1, BROWSE_SAMPLE).astype(np.int64)]
        rows = self._rows(snap, docs, stale_ok)
        excluded = [_phrase_form(p) for p in query.excluded_phrases]
        scored: list[tuple[tuple[bool, bool], float, int, Segment]] = []
        for doc in docs:
            seg = rows.get(int(snap.segment_ids[doc]))
            if seg is None or (excluded and any(p in _phrase_form(seg.text) for p in excluded)):
                continue
            score = quotability(seg, snap.engine.idf, any_length=True, untimed=True)
            if score > 0:  # tier: untimed last, then shorter turns after quote-length ones
                scored.append(((seg.start_s is None, not stands_alone(seg)), score, int(doc), seg))
        scored.sort(key=lambda x: (x[0], -x[1], x[2]))
        vetting = _Vetting(limit)
        for _, score, doc_id, seg in scored:
            if vetting.full:
                break
            hit = self._as_hit(seg, snap.episodes[int(snap.doc_episode[doc_id])])
            hit.score = hit.rank = score
            vetting.offer(hit, seg)
        return vetting.hits

    def _moment_at(self, snap: _Snapshot, query: Query) -> Hit | None:
        """``at:1:23:45 episode:459``: the segment said then in the first episode the filter matches."""
        want = fold(query.episode or "")
        for ep in snap.episodes:
            if want and want in fold(f"{ep.id} {ep.title or ''}"):
                seg = self.store.segment_at(ep.id, query.at_s or 0.0)
                return self._as_hit(seg, ep) if seg else None
        return None

    def _allowed(self, snap: _Snapshot, query: Query) -> np.ndarray | None:
        mask: np.ndarray | None = None

        def narrow(extra: np.ndarray) -> None:
            nonlocal mask
            mask = extra if mask is None else mask & extra

        if query.speaker:
            wanted = query.speaker
            ids = [i for i, name in enumerate(snap.speakers) if names_speaker(wanted, name)]
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
        for phrase in () if query.alternatives else query.phrases:
            # a phrase's words must all be there: its PHRASE_NARROW rarest ones narrow the search (a
            # common word's postings would cost more than they save); the text check does the rest
            for term in sorted(set(tokenize(phrase)), key=lambda t: (snap.engine.df(t), t))[:PHRASE_NARROW]:
                narrow(_has(snap, term))
        for word in query.excluded_words:
            for term in set(tokenize(word)):
                narrow(~_has(snap, term))
        return mask

    def _vet(
        self,
        snap: _Snapshot,
        query: Query,
        terms: list[str],
        needs: list[tuple[Callable[[set], bool], list[str], set[str]]],
        order: Sequence[str],
        docs: np.ndarray,
        scores: np.ndarray,
        vetting: _Vetting,
        stale_ok: bool = False,
    ) -> None:
        """Keep the candidates that pass, re-ranked (``index.rank``): the honesty rule, phrases,
        exclusions, no duplicates.

        Which query terms a candidate holds is read off the index (term frequencies), so only the
        candidates that pass the honesty rule are fetched from the store. A candidate passes when one
        side of the query (``A OR B``; one side without OR) holds enough of its terms and its phrases.
        """
        wanted = sorted(set(terms))
        holds = [snap.engine.term_freqs(t, docs) > 0 for t in wanted]
        passing = []
        for i, (doc, score) in enumerate(zip(docs, scores)):
            present = {t for t, held in zip(wanted, holds) if held[i]}
            # What counts as a match is the honesty rule on the terms a segment holds, not the sign
            # of its score: in a tiny library every BM25Okapi idf is at or below zero (rank-bm25's
            # epsilon floor), yet a segment holding the query's words is still a match. Scores and
            # their order stay rank-bm25's.
            if any(need(present) for need, _, _ in needs):
                passing.append((doc, score, present))
        excluded = [_phrase_form(p) for p in query.excluded_phrases]
        # Each candidate's quality comes from features stored at build time; only the phrase proximity
        # needs its text. Candidates are read from the store a chunk at a time, best upper bound first
        # (quality + the largest proximity bonus), until the next cannot reach the ranks already held
        # by the hits still wanted and half again (room for duplicates). Without proximity the bound is exact.
        cand = np.asarray([doc for doc, _, _ in passing], dtype=np.int64)
        bm25 = np.asarray([score for _, score, _ in passing], dtype=np.float64)
        speakers = snap.doc_speaker[cand] if len(cand) else np.zeros(0, np.int64)
        asker = np.where(speakers >= 0, snap.asker_share[np.maximum(speakers, 0)] if len(snap.asker_share)
                         else 0.0, 0.0)
        # the share of the query's idf a candidate lacks (of its best side, for A OR B): a segment
        # holding every word typed ranks above one that repeats only some (Lucene's classic "coord",
        # weighed by idf)
        weight = {t: max(snap.engine.idf(t), 0.0) for t in wanted}
        lacking = np.asarray([min(_lacking(side, present, weight) for _, _, side in needs)
                              for _, _, present in passing], dtype=np.float64)
        quality = rank.qualities(snap.doc_bits[cand], snap.doc_words[cand], asker, lacking=lacking)
        upper = rank.upper_bounds(bm25, quality, len(order))
        order_of = np.lexsort((cand, -bm25, -upper))
        still = vetting.limit - len(vetting.hits)
        room = still + max(5, still // 2)
        step = max(room, 20)
        ranked: list[tuple[float, float, int, Segment, set]] = []
        for start in range(0, len(order_of), step):
            chunk = order_of[start:start + step]
            if len(ranked) >= room and upper[chunk[0]] < ranked[room - 1][0]:
                break
            rows = self._rows(snap, [int(cand[i]) for i in chunk], stale_ok)
            for i in chunk:
                doc, score, present = passing[i]
                seg = rows.get(int(snap.segment_ids[doc]))
                if seg is None:
                    continue
                if any(p for _, p, _ in needs) or excluded:
                    folded = _phrase_form(seg.text + " " + (seg.translation or ""))
                    if not any(need(present) and all(p in folded for p in phrases) for need, phrases, _ in needs):
                        continue
                    if any(p in folded for p in excluded):
                        continue
                near = rank.proximity(order, tokenize(seg.text)) if len(order) >= 3 else 0.0
                key = rank.rank_score(float(score), float(quality[i]), near)
                ranked.append((key, float(score), doc, seg, present))
            ranked.sort(key=lambda r: (-r[0], -r[1], r[2]))
        for key, score, doc, seg, present in ranked:
            if vetting.full:
                return
            hit = self._as_hit(seg, snap.episodes[int(snap.doc_episode[doc])])
            hit.score, hit.rank, hit.matched = score, key, sorted(present)
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

    def speakers(self) -> list[str]:
        """The named speakers of the searchable segments, in index order."""
        snap = self._snapshot
        return list(snap.speakers) if snap else []

    def overview(self) -> Overview:
        """The library at a glance: episodes, the newest, hours of audio, the share of segments with a speaker."""
        stored = self.store.episodes()
        segments = sum(e.segments for e in stored)
        named = sum(e.segments * float(e.stats.get("speaker_share", 0.0)) for e in stored)
        newest = self.episodes()[0] if self.episodes() else None
        return Overview(episodes=len(stored), segments=segments, newest=newest,
                        hours=sum(e.duration_s or 0.0 for e in stored) / 3600,
                        speaker_share=named / segments if segments else 0.0)

    def strongest(self, episode_id: str, limit: int = 5) -> list[Hit]:
        """An episode's most quotable segments, best first (see ``quotability``)."""
        snap = self._snapshot
        info = next((e for e in snap.episodes if e.id == episode_id), None) if snap else None
        if info is None or snap is None:
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

    def _as_hit(self, seg: Segment, ep: EpisodeInfo | None) -> Hit:
        if seg.id is None:
            raise ValueError("a hit is a stored segment, with a row id")
        return Hit(
            text=seg.text, speaker=seg.speaker, start_s=seg.start_s, end_s=seg.end_s,
            # an untitled episode (a file ingested on its own) is named by its id, as in `quotebot episodes`
            episode=(ep.title or ep.id) if ep else None, podcast=ep.podcast if ep else None, url=seg.url, score=0.0,
            matched=[], translation=seg.translation, episode_id=seg.episode_id, segment_id=int(seg.id),
            chapter=seg.chapter, published=ep.published.isoformat() if ep and ep.published else None,
            episode_url=ep.url if ep else None, speaker_label=seg.speaker_label,
        )


def stands_alone(seg: Segment) -> bool:
    """Whether a segment is of a quote's length: 20 to 80 words."""
    return 20 <= len(seg.text.split()) <= 80


def quotability(seg: Segment, idf: Callable[[str], float], *, any_length: bool = False,
                untimed: bool = False) -> float:
    """How well a segment stands alone as a quote: 0 for one that cannot, else higher is better.

    A quote needs a time (so the card links the moment; ``untimed``: a segment without one is
    scored as if said after the opening minutes) and 20 to 80 words (``stands_alone``;
    ``any_length``: any number of words). Among those, the denser in rare words the better (the
    idf of its distinct words over the square root of its length), with bonuses for a named
    speaker, for ending on a full sentence, and for coming after the episode's opening minutes.
    Sponsor reads and sign-offs are left out.
    """
    words = len(seg.text.split())
    if (seg.start_s is None and not untimed) or not (any_length or stands_alone(seg)):
        return 0.0
    early = seg.start_s is not None and seg.start_s < rank.OPENING_S
    opening = 0.5 if early else 1.0  # greetings and sponsors, seldom quotable
    if rank.is_advert(seg.text):
        return 0.0
    substance = sum(max(idf(t), 0.0) for t in set(tokenize(seg.text)))
    named = 1.0 if seg.speaker else 0.6
    finished = 1.0 if seg.text.rstrip().endswith((".", "!", "?", "”", "\"")) else 0.8
    return substance / math.sqrt(words) * named * finished * opening


def _lacking(side: set[str], present: set[str], weight: dict[str, float]) -> float:
    """The share (0 to 1) of a query side's idf that a segment holding ``present`` lacks; by count
    where every idf is 0 (a tiny library)."""
    total = sum(weight.get(t, 0.0) for t in side)
    if total > 0:
        return 1 - sum(weight.get(t, 0.0) for t in side & present) / total
    return 1 - len(side & present) / len(side) if side else 0.0


def _load(folder: Path) -> _Snapshot | None:
    try:
        meta = json.loads((folder / "library.json").read_text())
        vocabulary: dict[str, int] = json.loads((folder / "vocabulary.json").read_text())
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
            asker_share=np.asarray(meta["asker_share"], dtype=np.float64),
            doc_bits=np.load(folder / "doc_bits.npy"),
            doc_words=np.load(folder / "doc_words.npy"),
            vocabulary=list(vocabulary),
            counts=list(vocabulary.values()),
        )
    except (OSError, ValueError, KeyError):
        return None  # missing or damaged: the caller rebuilds it


_WORD = re.compile(r"[^\W\d_]{4,}")  # the words typo look-ups may offer: letters only, 4 or more


def _has(snap: _Snapshot, term: str) -> np.ndarray:
    mask = np.zeros(snap.engine.doc_count, dtype=bool)
    mask[snap.engine.docs_with(term)] = True
    return mask


def _required(engine: BM25Index, terms: list[str]) -> Callable[[set], bool]:
    """The honesty rule: a hit holds the rarest query term, or most of the query's idf mass.

    A term the library has never seen counts with the largest idf possible, so
    that a query about something absent ("sourdough") finds nothing rather
    than weak hits on its other words. When every known query term's BM25Okapi
    idf is at or below zero (each is in half the documents or more: every term
    of a tiny library), the rule weighs the terms by their smoothed idf
    ln(1 + (N - df + 0.5) / (df + 0.5)) instead, which is positive and smaller
    the commoner the term. These weights only decide what matches, never a score.
    """
    unseen = math.log(engine.doc_count + 0.5) - math.log(0.5)
    known = [t for t in terms if engine.df(t)]
    smoothed = bool(known) and all(engine.idf(t) <= 0 for t in known)

    def rule_weight(t: str) -> float:
        if not engine.df(t):
            return unseen
        if smoothed:
            return math.log1p((engine.doc_count - engine.df(t) + 0.5) / (engine.df(t) + 0.5))
        return engine.idf(t)

    # A compound ("o3-mini") is judged by its parts, which the query also holds:
    # "O3 mini" in a transcript is the same thing said.
    atoms = {t for t in terms if not ("-" in t and set(tokenize(t.replace("-", " "))) <= set(terms))}
    weight = {t: rule_weight(t) for t in atoms or set(terms)}
    total = sum(weight.values())
    rarest = max(weight, key=lambda t: (weight[t], t))

    def need(present: set) -> bool:
        return rarest in present or sum(weight.get(t, 0.0) for t in present) >= IDF_MASS_SHARE * total

    return need


def _side(side: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """One side of ``A OR B``: its words as search text, and its quoted phrases."""
    phrases = tuple(w.strip('"') for w in side if w.startswith('"'))
    return " ".join(w.strip('"') for w in side), phrases


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _norm_words(text: str) -> list[str]:
    """``norm_word`` of each word, empty ones left out; ASCII text (most of it) by one fast path."""
    if text.isascii():
        return [w for w in (_NOT_ALNUM.sub("", t) for t in text.lower().split()) if w]
    return [w for w in (norm_word(x) for x in text.split()) if w]


def _phrase_form(text: str) -> str:
    return " " + " ".join(_norm_words(text)) + " "


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _norm_words(text)
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
            fewer = min(len(grams), self._kept[n][1])
            # most of the shorter one's 3-grams, and either a run of words (DUPLICATE_MIN 3-grams) or
            # all of them: "The shelf is cracking." is no copy of a long quote that says "the shelf is"
            if count >= DUPLICATE_SHARE * fewer and (count >= DUPLICATE_MIN or count == fewer):
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
    if seg.episode_id != other.episode_id:
        return False
    if seg.start_s is None or seg.end_s is None or other.start_s is None or other.end_s is None:
        return False
    return seg.start_s < other.end_s and other.start_s < seg.end_s


def _diversify(hits: list[Hit]) -> list[Hit]:
    """Among hits with equal ranks (equal scores when not re-ranked), alternate episodes."""
    out: list[Hit] = []
    seen: dict[str, int] = {}
    i = 0

    def key(h: Hit) -> float:
        return h.rank if h.rank is not None else h.score

    while i < len(hits):
        j = i
        while j < len(hits) and math.isclose(key(hits[j]), key(hits[i]), rel_tol=1e-9, abs_tol=1e-9):
            j += 1
        group = hits[i:j]
        while group:
            best = min(range(len(group)), key=lambda n: (seen.get(group[n].episode_id, 0), n))
            chosen = group.pop(best)
            seen[chosen.episode_id] = seen.get(chosen.episode_id, 0) + 1
            out.append(chosen)
        i = j
    return out
