"""Carry speakers and times across transcripts of one episode.

- ``align_speakers``: a timed transcript without speakers (a whisper export)
  and a speaker-labelled one without times (a transcript site) are aligned
  word by word (rapidfuzz's Indel opcodes over normalised words). Each timed
  word takes the speaker of the labelled word it matched; unmatched words take
  their neighbours' speaker. A caption line that spans a turn change is split
  there, with its time shared out by word position.
- ``locate_passages``: snippets (no time, no speaker) are found in the timed
  words by n-grams that occur once in the episode.

Naming unnamed turns is ``speakers.py``'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from rapidfuzz.distance import Indel

from .model import Cue, Transcript
from .text import norm_word

ANCHOR_N = 6  # words in a locating n-gram
MIN_ANCHORS = 2  # n-grams that must agree to place a passage


@dataclass
class Words:
    """A transcript's words, normalised, each with the cue it came from."""

    keys: list[str]
    cue: list[int]  # the cue of each word
    pos: list[int]  # the word's place in its cue's text.split()


def words(transcript: Transcript) -> Words:
    keys, cue, pos = [], [], []
    for i, c in enumerate(transcript.cues):
        for k, w in enumerate(c.text.split()):
            key = norm_word(w)
            if key:
                keys.append(key)
                cue.append(i)
                pos.append(k)
    return Words(keys, cue, pos)


@dataclass
class SpeakerAlignment:
    transcript: Transcript  # the timed transcript, with speakers and split cues
    matched_share: float  # share of timed words matched to a labelled word
    anchors_checked: int  # the labelled source's own time anchors that were compared
    anchors_within_10s: int


def align_speakers(timed: Transcript, labelled: Transcript) -> SpeakerAlignment:
    """The timed transcript with the labelled transcript's speakers on it."""
    a, b = words(timed), words(labelled)
    speaker_of_b = [labelled.cues[c].speaker for c in b.cue]
    turn_of_b = _turn_ids(labelled, b)
    spk: list[str | None] = [None] * len(a.keys)
    turn: list[int] = [-1] * len(a.keys)
    match_of_b: dict[int, int] = {}
    matched = 0
    for op in Indel.opcodes(a.keys, b.keys):
        if op.tag == "equal":
            for i, j in zip(range(op.src_start, op.src_end), range(op.dest_start, op.dest_end)):
                spk[i], turn[i] = speaker_of_b[j], turn_of_b[j]
                match_of_b[j] = i
            matched += op.src_end - op.src_start
        elif op.tag == "replace":
            # words that differ (whisper vs human edits): share the span out in proportion
            n, m = op.src_end - op.src_start, op.dest_end - op.dest_start
            for k in range(n):
                j = op.dest_start + min(m - 1, k * m // n)
                spk[op.src_start + k], turn[op.src_start + k] = speaker_of_b[j], turn_of_b[j]
    _fill_gaps(spk, turn)
    checked, within = _check_anchors(timed, labelled, a, b, match_of_b)
    return SpeakerAlignment(
        transcript=_split_at_turns(timed, a, spk, turn),
        matched_share=matched / len(a.keys) if a.keys else 0.0,
        anchors_checked=checked,
        anchors_within_10s=within,
    )


def _turn_ids(t: Transcript, w: Words) -> list[int]:
    ids, current, last_cue = [], -1, -1
    for c in w.cue:
        if c != last_cue:
            cue = t.cues[c]
            if cue.turn or current < 0 or (last_cue >= 0 and cue.speaker != t.cues[last_cue].speaker):
                current += 1
            last_cue = c
        ids.append(current)
    return ids


def _fill_gaps(spk: list[str | None], turn: list[int]) -> None:
    """Unmatched words take the speaker of the nearest matched word before them (else after)."""
    last: tuple[str | None, int] | None = None
    for i in range(len(spk)):
        if turn[i] >= 0:
            last = (spk[i], turn[i])
        elif last is not None:
            spk[i], turn[i] = last
    following: tuple[str | None, int] | None = None
    for i in range(len(spk) - 1, -1, -1):
        if turn[i] >= 0:
            following = (spk[i], turn[i])
        elif following is not None:
            spk[i], turn[i] = following


def _split_at_turns(t: Transcript, a: Words, spk: list[str | None], turn: list[int]) -> Transcript:
    """Cues carrying speakers; a cue spanning a turn change is cut there."""
    by_cue: dict[int, list[int]] = {}
    for i, c in enumerate(a.cue):
        by_cue.setdefault(c, []).append(i)
    cues: list[Cue] = []
    previous_turn = None
    for c, cue in enumerate(t.cues):
        idx = by_cue.get(c)
        if not idx:
            cues.append(replace(cue))
            continue
        text = cue.text.split()
        pieces: list[tuple[int, int]] = []  # (first word index in text, turn id)
        for i in idx:
            if not pieces or turn[i] != pieces[-1][1]:
                pieces.append((0 if not pieces else a.pos[i], turn[i]))
        for n, (start_word, turn_id) in enumerate(pieces):
            end_word = pieces[n + 1][0] if n + 1 < len(pieces) else len(text)
            first_i = next(i for i in idx if turn[i] == turn_id and a.pos[i] >= start_word)
            cues.append(
                Cue(
                    text=" ".join(text[start_word:end_word]),
                    start_s=_share(cue, start_word, len(text), cues_after=t.cues[c + 1 : c + 2]),
                    end_s=_share(cue, end_word, len(text), cues_after=t.cues[c + 1 : c + 2])
                    if n + 1 < len(pieces)
                    else cue.end_s,
                    speaker=spk[first_i],
                    turn=turn_id != previous_turn,
                    translation=cue.translation if len(pieces) == 1 else None,
                    line=cue.line,
                )
            )
            previous_turn = turn_id
    return replace(t, cues=[c for c in cues if c.text])


def _share(cue: Cue, word: int, count: int, cues_after: list[Cue]) -> float | None:
    if cue.start_s is None or word == 0:
        return cue.start_s
    end = cue.end_s if cue.end_s is not None else (cues_after[0].start_s if cues_after else None)
    if end is None:
        return cue.start_s
    return cue.start_s + (end - cue.start_s) * word / count


def _check_anchors(timed: Transcript, labelled: Transcript, a: Words, b: Words,
                   match_of_b: dict[int, int]) -> tuple[int, int]:
    """Compare the labelled source's own time anchors ([inaudible 01:14:37]) with the aligned times.

    Returns (anchors compared, anchors whose aligned time is within 10 s).
    """
    index_of = {(c, p): j for j, (c, p) in enumerate(zip(b.cue, b.pos))}
    checked = within = 0
    for cue_index, seconds, word in labelled.anchors:
        # the matched word nearest the anchor, looking back first
        candidates = [index_of.get((cue_index, p)) for p in range(word, -1, -1)]
        candidates += [index_of.get((cue_index, p)) for p in range(word + 1, word + 50)]
        near = next((match_of_b[j] for j in candidates if j is not None and j in match_of_b), None)
        if near is None:
            continue
        t = timed.cues[a.cue[near]].start_s
        if t is None:
            continue
        checked += 1
        within += abs(t - seconds) <= 10
    return checked, within


@dataclass
class Located:
    passage: int  # cue index in the snippets transcript
    word: int  # where it starts in the timed transcript's words


def locate_passages(timed: Words, passages: Transcript) -> list[Located]:
    """Find each passage in the timed words by n-grams that occur once in both."""
    counts = Counter(tuple(timed.keys[i:i + ANCHOR_N]) for i in range(len(timed.keys) - ANCHOR_N + 1))
    where = {
        tuple(timed.keys[i:i + ANCHOR_N]): i
        for i in range(len(timed.keys) - ANCHOR_N + 1)
        if counts[tuple(timed.keys[i:i + ANCHOR_N])] == 1
    }
    found = []
    for p, cue in enumerate(passages.cues):
        keys = [k for k in (norm_word(w) for w in cue.text.split()) if k]
        starts: Counter[int] = Counter()
        for i in range(len(keys) - ANCHOR_N + 1):
            at = where.get(tuple(keys[i:i + ANCHOR_N]))
            if at is not None:
                starts[at - i] += 1
        if starts:
            start, votes = starts.most_common(1)[0]
            if votes >= min(MIN_ANCHORS, max(1, len(keys) - ANCHOR_N + 1)):
                found.append(Located(p, max(0, start)))
    return found


def overlap(a: Words, b: Words, n: int = 5) -> float:
    """Share of b's word n-grams found in a: do two sources hold the same words?"""
    if len(b.keys) < n or len(a.keys) < n:
        return 0.0
    grams = {tuple(a.keys[i:i + n]) for i in range(len(a.keys) - n + 1)}
    sample = [tuple(b.keys[i:i + n]) for i in range(0, len(b.keys) - n + 1, max(1, (len(b.keys) - n + 1) // 2000))]
    return sum(g in grams for g in sample) / len(sample)
