"""A scraped "podcast appearances" page: snippets of episodes under a person's name.

    Menu
    Sign In Search Podcasts Charts Entities Add Podcast API Pricing

    Dylan Patel

    👤 Person
    1122 appearances

    Podcast Appearances

    Lex Fridman Podcast
    #459 – DeepSeek, China, OpenAI, NVIDIA, xAI, TSMC, Stargate, and AI Megaclusters

    And there's a lot of history here. So we can go through multiple examples …

- A block is a two-line header (podcast name, episode title), a blank line and
  the snippet paragraph. A header is a two-line paragraph whose pair repeats on
  the page, or whose podcast line heads a pair that repeats; anything outside
  the blocks (menus, the person's name, counts) is page chrome and is dropped.
- The page repeats snippets (three times each in the seed), some copies differing
  only in case or spacing: each (podcast, episode, snippet) is kept once, the
  first copy's text, compared on case-folded, space-squashed text.
- One Transcript per (podcast, episode), in order of first appearance; cues are
  separate passages (``separate_cues``) with no times, no speaker, no turns.
- The page's person did not necessarily speak the snippets (in the seed almost
  all are another guest's): it is never a speaker, and a warning says so.
"""

from __future__ import annotations

import re
from collections import Counter

from ..errors import TranscriptError
from ..model import Cue, Transcript
from ..text import repair_mojibake, squash, strip_noise

NAME = "snippets"

_PERSON_MARK = re.compile(r"^\W*\s*person\s*$", re.IGNORECASE)  # "👤 Person"
_APPEARANCES = re.compile(r"^\s*[\d,.]+[kKmM]?\s+appearances?\s*$", re.IGNORECASE)


def _paragraphs(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, stripped lines) for each run of non-blank lines."""
    paras: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            if current:
                paras.append((start, current))
                current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        paras.append((start, current))
    return paras


def _pairs(paras: list[tuple[int, list[str]]]) -> Counter[tuple[str, str]]:
    """How often each two-line paragraph occurs."""
    return Counter((p[0], p[1]) for _, p in paras if len(p) == 2)


def _headers(pairs: Counter[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (podcast, episode) pairs that head snippet blocks on this page: a
    pair that repeats, or one whose podcast line heads a pair that repeats."""
    repeated = {pair for pair, n in pairs.items() if n >= 2}
    podcasts = {podcast for podcast, _ in repeated}
    return repeated | {pair for pair in pairs if pair[0] in podcasts}


def _blocks(
    paras: list[tuple[int, list[str]]], headers: set[tuple[str, str]]
) -> tuple[list[tuple[str, str, str, int]], int]:
    """(podcast, episode, snippet, line) for each block in page order, and the
    number of paragraphs after the first block that belong to no block.

    A snippet never starts with a line that starts a two-line paragraph, or
    two different paragraphs: in a "Name / text" transcript that line is the
    next speaker's name, not a snippet.
    """
    firsts = {p[0] for _, p in paras if len(p) == 2}
    starts: dict[str, tuple[str, ...]] = {}
    for _, p in paras:
        if len(p) > 2 and p[0] not in firsts and starts.setdefault(p[0], tuple(p)) != tuple(p):
            firsts.add(p[0])
    blocks: list[tuple[str, str, str, int]] = []
    skipped = 0
    i = 0
    while i < len(paras):
        lines = paras[i][1]
        pair = (lines[0], lines[1]) if len(lines) == 2 else None
        if pair is not None and pair in headers and i + 1 < len(paras):
            number, nxt = paras[i + 1]
            if nxt[0] not in firsts:
                blocks.append((pair[0], pair[1], " ".join(nxt), number))
                i += 2
                continue
        elif blocks:
            skipped += 1
        i += 1
    return blocks, skipped


def sniff(text: str) -> bool:
    """A header pair heads at least three blocks, and blocks under repeated
    header pairs make up at least half of the page's paragraphs."""
    paras = _paragraphs(text)
    pairs = _pairs(paras)
    if not pairs or max(pairs.values()) < 3:
        return False
    blocks, _ = _blocks(paras, {pair for pair, n in pairs.items() if n >= 2})
    return len(blocks) >= 3 and 4 * len(blocks) >= len(paras)


def _person(paras: list[tuple[int, list[str]]]) -> str | None:
    """The page's person: the line before "👤 Person" or "N appearances"."""
    flat = [line for _, p in paras[:12] for line in p]
    for k, line in enumerate(flat):
        if k and (_PERSON_MARK.match(line) or _APPEARANCES.match(line)):
            name = flat[k - 1]
            if not (_PERSON_MARK.match(name) or _APPEARANCES.match(name)):
                return squash(repair_mojibake(name))
    return None


def _key(text: str) -> str:
    return squash(text).casefold()


def parse(text: str) -> list[Transcript]:
    paras = _paragraphs(text)
    blocks, skipped = _blocks(paras, _headers(_pairs(paras)))
    if not blocks:
        raise TranscriptError(
            "no snippet blocks found: expected a podcast line, an episode title line,"
            " a blank line and the snippet, repeated"
        )
    by_episode: dict[tuple[str, str], Transcript] = {}
    seen: set[tuple[str, str, str]] = set()
    clean: dict[str, str] = {}
    for podcast, episode, snippet, number in blocks:
        for raw, tidy in ((podcast, squash), (episode, squash), (snippet, strip_noise)):
            if raw not in clean:
                clean[raw] = tidy(repair_mojibake(raw))
        episode_key = (_key(clean[podcast]), _key(clean[episode]))
        key = (*episode_key, _key(clean[snippet]))
        if key in seen:
            continue
        seen.add(key)
        transcript = by_episode.get(episode_key)
        if transcript is None:
            transcript = Transcript(
                format=NAME, podcast=clean[podcast] or None, title=clean[episode] or None, separate_cues=True
            )
            by_episode[episode_key] = transcript
        if clean[snippet]:
            transcript.cues.append(Cue(clean[snippet], line=number))
    transcripts = list(by_episode.values())
    # Page-level warnings go on the first transcript only: ingestion collects
    # the warnings of all of a source's transcripts into one list.
    person = _person(paras)
    if person:
        transcripts[0].warnings.append(
            f"page person {person!r} is not used as speaker: a page's person"
            " did not necessarily say its snippets"
        )
    if skipped:
        transcripts[0].warnings.append(f"skipped {skipped} paragraph(s) outside snippet blocks (page chrome)")
    return transcripts
