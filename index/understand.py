"""Query understanding: what a person typed, read as they meant it. One home for every surface.

``/quote``, mentions, buttons, digests, alerts and ``quotebot search`` all call ``Library.answer(text)``
(``index/search.py``), which calls ``understand`` here and then searches. So the CLI answers what Slack
answers. In order:

1. Chat markup is decoded (``index.markup.plain_text``): ``<!channel> *export* controls`` is
   ``export controls``; ``&amp;`` is ``&``; curly quotes are straight.
2. ``help`` (or nothing) asks for help; the query language is parsed (``index.query``); a malformed
   query gets a message that says how to fix it (``speaker:`` alone lists the library's speakers).
3. Question and request words ("what did … say about", "help me find", "quotes about", "is it true
   that", "?") and other filler words are not required to match: they are left out of the BM25 terms
   (still used for the phrase-proximity re-rank), unless nothing else is left.
4. A speaker named in the query (first, last or full name of a speaker in the library: ``dylan``,
   ``Nathan``, ``Dylan Patel``) becomes a speaker preference, and an episode named (its number, as in
   ``lex 459``, or a distinctive word of its title, as in ``karpathy``) an episode preference: the
   search is narrowed to them, and falls back to everyone's quotes, with the name as a word, when the
   narrowed search finds nothing. Explicit ``speaker:``/``episode:`` filters turn this off.
5. A word no segment holds is a typo or an absent topic. One or two edits (OSA distance: a
   transposition is one edit; rapidfuzz) from a library word that at least ``MIN_COUNT`` segments
   hold, it is corrected when the correction is clear (same first letter, the nearest candidate by
   distance, then by frequency, ``CLEAR_RATIO`` times more frequent than the runner-up), else
   suggested ("Did you mean …?"). Words still unknown are left out and named on the card; when more of
   the meaningful words are unknown than known, nothing is searched: an honest no-match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .links import link_time
from .markup import plain_text
from .query import Query, QueryError, parse_query
from .tokens import fold, tokenize

MIN_COUNT = 3  # a correction must be a word at least this many segments hold
CLEAR_RATIO = 4.0  # … and this many times more frequent than the next candidate at its distance
TOPIC_RANK = 5000  # an English word rarer than the 5,000 most frequent names a topic ("lasagna", "tire")
COMMON_RANK = 2000  # … and one among the 2,000 most frequent says little on its own ("history", "world")
NAME_MAX_DF = 10  # a title word more segments than this hold is a topic ("tsmc"), not an episode's name
HELP_WORDS = {"", "help", "?", "-h", "--help", "usage", "commands"}

# Leading request phrases: "what did <name> say about", "help me find", "is it true that" …
_REQUEST = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so|please|pls)\b[\s,]*)*"
    r"(?:(?:can|could|would|will) (?:you|u) )?(?:please )?"
    r"(?:help me (?:find|get|search for|look for)|find me|find|show me|show|give me|get me|search(?: for)?|"
    r"look(?:ing)? for|i(?:'m| am) looking for|i want|i need|i'd like|any|anything|something|"
    r"is it true that|is it true|did anyone say|did someone say|has anyone said|who said|"
    r"what (?:did|does|do|has|have|is|was|are|were|would|will)|how (?:did|does|do|is|was|are|were|would)|"
    r"why (?:did|does|do|is|was|are|were|would)|when (?:did|does|do|is|was)|where (?:did|does|do|is|was))\b",
    re.I,
)
# Words that carry no topic: question and request words, pronouns, function words.
FILLER = frozenset("""
a an the and or but of to in on at by for from with without into about regarding re as than then so
is are was were be been being am do does did doing done has have had having can could would should will
shall may might must what which who whom whose when where why how that this these those there here it its
i me my mine we us our you your he him his she her they them their one ones someone anyone anybody
something anything everything nothing some any all much many more most very really just also too
say says said saying tell tells told talk talks talked talking mention mentions mentioned mentioning
think thinks thought thinking believe believes feel feels opinion opinions view views take takes
find show give get search look looking quote quotes quoted quotebot help please pls want need like
true false ever anywhere somewhere podcast podcasts episode episodes speaker speakers guest host
""".split())  # noqa: SIM905 - a word list reads best as text


@dataclass(frozen=True)
class Lexicon:
    """What understanding knows of the library: names, and the words its segments hold.

    ``words``/``counts``: library words (folded surface forms) and how many segments hold each, for
    typo look-ups; ``df(term)``: the engine's document frequency of a search term.
    """

    speakers: Sequence[str]
    episodes: Sequence[tuple[str, str, str]]  # (id, title, podcast)
    df: Callable[[str], int]
    words: Sequence[str] = ()
    counts: Sequence[int] = ()
    names: frozenset[str] = frozenset()  # folded name words of speakers and episode titles (``name_words``)


def name_words(speakers: Sequence[str], episodes: Sequence[tuple[str, str, str]],
               df: Callable[[str], int]) -> frozenset[str]:
    """The words that name a speaker (any part of the name) or an episode (a capitalised word of its title
    that at most NAME_MAX_DF segments hold, as "Karpathy"): what names may be corrected to or matched."""
    names = {w for n in speakers for w in re.findall(r"[a-z]{3,}", fold(n)) if w not in FILLER}
    for _, title, _ in episodes:
        for word in re.findall(r"[^\W\d_][\w'’-]*", title):
            folded = fold(word)
            if word[0].isupper() and len(folded) >= 4 and folded.isalpha() \
                    and all(df(t) <= NAME_MAX_DF for t in tokenize(folded)):
                names.add(folded)
    return frozenset(names)


@dataclass(frozen=True)
class Understanding:
    """A query as understood. ``kind``: "search", "help", "moment" (``link``/``query.at_s``) or "error".

    ``query`` is what is searched first; ``fallbacks`` what is searched, in order, when it finds
    nothing because of a named preference: (query, whose quotes they are).  A named speaker's own
    episode first (the episode whose title names them: "karpathy" in "Andrej Karpathy — …"), then
    anyone's quotes of the other words (the name is searched as a word only when nothing else was
    typed: a name alone).
    """

    text: str  # the plain text (markup decoded): what the card echoes, escaped once
    kind: str = "search"
    query: Query | None = None
    fallbacks: tuple[tuple[Query, str], ...] = ()
    error: str | None = None
    link: str | None = None  # a pasted link with a time, for kind "moment"
    corrected: tuple[tuple[str, str], ...] = ()  # (typed, searched instead)
    suggested: tuple[tuple[str, str], ...] = ()  # (typed, did you mean)
    left_out: tuple[str, ...] = ()  # words that match nothing in the library
    ignored: tuple[str, ...] = ()  # question and filler words, not required
    preferred: str | None = None  # "Dylan Patel", "Lex Fridman Podcast #459 …": the named preference
    order: tuple[str, ...] = field(default=(), compare=False)  # every search term typed, in order (proximity)

    @property
    def searched(self) -> str:
        """The words searched, for "Showing results for …"."""
        return " ".join(self.query.words + tuple(f'"{p}"' for p in self.query.phrases)) if self.query else ""


def understand(text: str, lexicon: Lexicon) -> Understanding:
    """Read ``text`` (a Slack message's text, or anything typed) as the person meant it.

    Never raises for bad input: a malformed query gives kind "error" with a message saying how to fix it.
    """
    plain = plain_text(text)
    if text.strip() and not any(ch.isalnum() for ch in plain):  # ":fire:", "🔥", "???": nothing to search
        return Understanding(text=plain or text.strip(), kind="error",
                             error="emoji, punctuation and mentions are not searched; type a few words")
    if fold(plain).strip(" .!") in HELP_WORDS:
        return Understanding(text=plain, kind="help")
    try:
        query = parse_query(plain)
    except QueryError as exc:
        message = str(exc)
        if message.startswith("'speaker:'") and lexicon.speakers:
            message += ". Speakers in the library: " + ", ".join(sorted(lexicon.speakers)[:12])
        return Understanding(text=plain, kind="error", error=message)
    if query.at_s is not None:
        return Understanding(text=plain, kind="moment", query=query)
    links = [w for w in query.words if w.lower().startswith(("http://", "https://"))]
    timed = [w for w in links if link_time(w) is not None]
    if timed and len(query.words) == len(links) and not query.phrases:
        return Understanding(text=plain, kind="moment", link=timed[0], query=query)
    words = [w for w in query.words if w not in links]
    typed = list(words)  # every word typed, in order: what the phrase-proximity re-rank reads
    asked = bool(_REQUEST.match(" ".join(words))) or plain.rstrip().endswith("?")
    if asked or len(words) <= 3:  # a question or a few words: fillers are not required
        words, ignored = _drop_fillers(words, keep_some=not (query.phrases or query.has_filters))
    else:  # a remembered run of words: every word counts, for BM25 and for the phrase re-rank
        words, ignored = [w for w in words if tokenize(w)], []
    if query.alternatives:  # A OR B: each side as typed, minus fillers
        alternatives = tuple(tuple(w for w in side if w in words or w.startswith('"')) for side in query.alternatives)
        query = replace(query, alternatives=tuple(side for side in alternatives if side))
    preferred, relaxed_words = None, list(words)
    named: dict[str, str] = {}
    # a name is a preference in a question or a short query, not inside a remembered run of words
    may_name = not query.speaker and not query.episode and not query.alternatives and (asked or len(words) <= 4)
    if may_name:
        words, named, preferred = _names(words, lexicon)
    corrected, suggested, left_out, kept = [], [], [], []
    for word in words:
        terms = tokenize(word)
        if not terms or any(lexicon.df(t) for t in terms):
            kept.append(word)
            continue
        fix, clear = _correction(fold(word), lexicon)
        if fix and clear:
            corrected.append((word, fix))
            kept.append(fix)
        else:
            if fix:
                suggested.append((word, fix))
            left_out.append(word)
    if may_name and corrected and not named:  # "karpaty" is "karpathy", an episode's name
        kept, named, preferred = _names(kept, lexicon)
    fixes = dict(corrected)
    run = [fixes.get(w, w) for w in typed] + list(query.phrases)
    order = tuple(tokenize(" ".join(run))) if len(run) >= 3 else ()  # three words or more: a remembered run
    base: dict[str, Any] = {"text": plain, "corrected": tuple(corrected), "suggested": tuple(suggested),
            "left_out": tuple(left_out), "ignored": tuple(ignored), "order": order}
    if left_out and _absent_topic(left_out, kept):
        return Understanding(kind="search", query=None, **base)  # about something absent: an honest no-match
    rewritten = replace(query, words=tuple(kept),
                        alternatives=tuple(tuple(fixes.get(w, w) for w in side if w not in left_out)
                                           for side in query.alternatives),
                        **named)  # type: ignore[arg-type]
    if not rewritten.words and not rewritten.phrases and not (rewritten.speaker or rewritten.episode
                                                             or rewritten.podcast):
        return Understanding(kind="search", query=None, **base)
    fallbacks: list[tuple[Query, str]] = []
    if named:
        if "speaker" in named and "episode" not in named:
            own = _episodes_naming(named["speaker"], lexicon)
            if len(own) == 1:
                episode_id, title, _ = own[0]
                fallbacks.append((replace(query, words=tuple(kept), episode=episode_id), title or episode_id))
        others = tuple(kept) or tuple(fixes.get(w, w) for w in relaxed_words if w not in left_out)
        anyone = replace(query, words=others)
        if anyone.words or anyone.phrases:
            fallbacks.append((anyone, "anyone"))
    return Understanding(kind="search", query=rewritten, fallbacks=tuple(fallbacks), preferred=preferred, **base)


def _drop_fillers(words: list[str], keep_some: bool) -> tuple[list[str], list[str]]:
    """The words without a leading request phrase and filler words, unless nothing would be left."""
    text = " ".join(words)
    stripped = text
    while True:
        m = _REQUEST.match(stripped)
        if not m or not m.group(0).strip():
            break
        stripped = stripped[m.end():].lstrip(" ,:")
    kept = [w for w in stripped.split() if fold(w).strip("?!.,;:'\"") not in FILLER and tokenize(w)]
    if not kept and keep_some:
        kept = [w for w in words if tokenize(w)]  # all filler ("to be or not to be"): search it as typed
    dropped = [w for w in words if w not in kept]
    return kept, dropped


def _names(words: list[str], lexicon: Lexicon) -> tuple[list[str], dict[str, str], str | None]:
    """Speaker and episode names among ``words``: (the other words, the filters to set, who/what is meant)."""
    folded = [fold(w).strip("?!.,;:'\"") for w in words]
    used: set[int] = set()
    filters: dict[str, str] = {}
    preferred = []
    parts: dict[str, set[str]] = {}  # a speaker's name word -> the speakers it names
    for name in lexicon.speakers:
        for w in _name_parts(name):
            parts.setdefault(w, set()).add(name)
    # episodes: a number in an episode's id or title ("459"), with the podcast's words before it ("lex"),
    # or a capitalised title word few segments hold ("karpathy", see ``name_words``); not a speaker's name
    for i, w in enumerate(folded):
        if w in FILLER or len(w) < 3 or (not w.isdigit() and (w not in lexicon.names or w in parts)):
            continue
        hits = [e for e in lexicon.episodes if _episode_has(e, w, number=w.isdigit())]
        if len(hits) == 1:
            episode_id, title, _ = hits[0]
            filters["episode"] = episode_id
            preferred.append(title or episode_id)
            used.add(i)
            for j in (i - 1, i - 2):  # "lex 459", "lex fridman 459": the podcast's words name it too
                if j >= 0 and j not in used and _episode_has(hits[0], folded[j], number=False):
                    used.add(j)
            break
    # speakers: a full name (two words in a row), else a first or last name
    for i, w in enumerate(folded):
        if i in used or w not in parts or w in FILLER:
            continue
        names = parts[w]
        if i + 1 < len(folded) and folded[i + 1] in parts and names & parts[folded[i + 1]]:
            names = names & parts[folded[i + 1]]
            used.add(i + 1)
        used.add(i)
        only = sorted(names)[0] if len(names) == 1 else None
        filters["speaker"] = only or w
        preferred.insert(0, only or w.title())
        break
    rest = [w for i, w in enumerate(words) if i not in used]
    return rest, filters, " in ".join(preferred) if preferred else None


def _name_parts(speaker: str) -> list[str]:
    """The folded words of a speaker's name that can name them (three letters or more, no filler):
    none for "Speaker 1", a diarization label."""
    return [w for w in re.split(r"[\s.]+", fold(speaker)) if len(w) >= 3 and w.isalpha() and w not in FILLER]


def _episodes_naming(speaker: str, lexicon: Lexicon) -> list[tuple[str, str, str]]:
    """The episodes whose id or title holds a word of the speaker's name (``_name_parts``)."""
    words = _name_parts(speaker)
    return [e for e in lexicon.episodes if any(_episode_has(e, w, number=False) for w in words)]


def _episode_has(episode: tuple[str, str, str], word: str, *, number: bool) -> bool:
    text = fold(" ".join(episode))
    if number:
        return re.search(rf"(?<![0-9]){re.escape(word)}(?![0-9])", text) is not None
    return word in set(re.findall(r"[a-z0-9]+", text))


@cache
def english_rank() -> dict[str, int]:
    """English words by frequency rank (0: "the"), from the frequency dictionary symspellpy ships
    (``frequency_dictionary_en_82_765.txt``: 82,765 words, from Google Books Ngram counts)."""
    text = (resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return {line.split(" ", 1)[0]: i for i, line in enumerate(text.splitlines()) if line}


def _absent_topic(left_out: list[str], kept: list[str]) -> bool:
    """Whether the words no segment holds say the query is about something the library lacks.

    True when more meaningful words are unknown than known; or when one unknown word is an English
    word rarer than TOPIC_RANK (a topic: "lasagna", "tire"), or any English word while every known
    word is among the COMMON_RANK most frequent ("the history of jazz music"). A word that is no
    English word ("zorblax", a stray name) is left out and the rest answered.
    """
    ranks = english_rank()
    known = [fold(w) for w in kept if fold(w) not in FILLER]
    if len(left_out) > len(known):
        return True
    unknown = [ranks.get(fold(w).strip("?!.,;:'\""), -1) for w in left_out]
    if any(r >= TOPIC_RANK for r in unknown):
        return True
    english = [r for r in unknown if r >= 0]
    return bool(english) and all(0 <= ranks.get(w, -1) < COMMON_RANK for w in known)


def _correction(word: str, lexicon: Lexicon) -> tuple[str | None, bool]:
    """The library word meant by ``word`` (folded), and whether the correction is clear.

    A real English word is never corrected (it is not a typo, it is absent); names are looked up too.
    """
    if len(word) < 4 or not word.isalpha() or not lexicon.words or word in english_rank():
        return None, False
    if len(word) == 4:  # too short to correct; two letters swapped ("tmsc") is suggested
        swaps = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(3)} - {word}
        held = [(-lexicon.df(ts[0]), w) for w in swaps
                if len(ts := tokenize(w)) == 1 and lexicon.df(ts[0]) >= MIN_COUNT]
        return (min(held)[1], False) if held else (None, False)
    limit = 1 if len(word) < 8 else 2
    found = process.extract(word, lexicon.words, scorer=OSA.distance, score_cutoff=limit, limit=20)
    candidates = [(dist, -lexicon.counts[i], choice) for choice, dist, i in found
                  if lexicon.counts[i] >= MIN_COUNT and choice != word]
    for name in lexicon.names:  # speakers and episodes are named more often than transcripts say them
        dist = OSA.distance(word, name, score_cutoff=limit)
        if dist <= limit and name != word:
            candidates.append((dist, -10 * MIN_COUNT, name))
    if not candidates:
        return None, False
    candidates.sort()
    dist, neg_count, best = candidates[0]
    rivals = [c for c in candidates[1:] if c[0] == dist]
    clear = best[0] == word[0] and (not rivals or -neg_count >= CLEAR_RATIO * -rivals[0][1])
    return best, clear
