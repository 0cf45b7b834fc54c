"""Caption lines with bracketed clocks (seed 001).

The file looks like::

    # Andrej Karpathy — “We’re summoning ghosts, not building animals”

    https://www.youtube.com/watch?v=lXUZvyajciY
    Translation: zh-CN

    [00:00] Reinforcement learning is terrible.
      强化学习很糟糕。

    [01:02:03] works and we're doing it >> but I do think that

A header (``# title``, the video URL, ``Translation: <lang>``), then one caption
per line as ``[mm:ss] text`` or ``[hh:mm:ss] text``. A caption may be followed
by an indented translation line in another script. ``>>`` (or ``>>>``) marks a
change of speaker without naming anyone.

Part of the file is rolling auto-captions: each line repeats the tail of the
line before. Only the new words of each line are emitted (longest overlap with
the words already emitted), with the start time of the line they come from.

Translations are kept only while they can be trusted to match the cue text:

* the line was not rolled or collapsed (a translation covers the whole source
  line, repeated tail included, while the cue keeps only the new words);
* its size (CJK characters, or words in another non-Latin script) is plausible
  for the number of English words it does not keep verbatim;
* Latin words in the translation (names: ``Andre Karpathy``) appear in the
  English, allowing prefixes (``OpenAI`` for ``open a``);
* its ``>>`` marks split it into the same pieces as the English line, and each
  piece goes to its cue. A translation without any marks under an English line
  with turns cannot be split: it is dropped, but does not count as drift.

Where failures bunch up (``_DRIFT_FAILURES`` of ``_DRIFT_WINDOW`` consecutive
checked lines), the translation track has drifted onto other lines: no
translation is kept from the first failure of that bunch to the end.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from ..labels import NOBODY, Voice, accepted_names, line_candidates, prefix, voice
from ..model import Cue, Transcript
from ..text import (
    collapse_repeats,
    is_cjk,
    norm_word,
    parse_clock,
    repair_mojibake,
    rolling_overlap,
    split_title,
    split_turns,
    squash,
    strip_noise,
)

NAME = "bracket-captions"

_ROLL_MAX_K = 40  # longest rolled tail looked for (measured on 001: 63,042 -> ~33.7k words)

# Translation check (CJK characters, or words in other non-Latin scripts, per
# English word). CJK characters per English word on 001's 190 clean lines
# (not rolled, before the drift): median 1.5, range 0.93-2.67; on the drifted
# lines 3.1-4.4 (a line that already holds the next line's translation) or
# 0.29 (what is left of it). Short lines get slack.
_RATIO_LOW, _RATIO_SLACK_LOW = 0.6, 1
_RATIO_HIGH, _RATIO_SLACK_HIGH = 3.0, 6
_DRIFT_WINDOW, _DRIFT_FAILURES = 6, 3

_CAPTION = re.compile(r"^\[(?P<stamp>[^\]\n]{0,40})\][ \t]*(?P<text>.*)$")
_STRICT_CAPTION = re.compile(r"^\[\d{1,3}:\d{1,2}(?::\d{1,2})?\][ \t]+\S", re.M)
_TITLE = re.compile(r"^#\s+(?P<title>\S.*)$")
_DECLARED = re.compile(r"^translation\s*:\s*\S", re.I)
_URL = re.compile(r"^<?(?P<url>https?://\S+?)>?$")
_LATIN = re.compile(r"[A-Za-z0-9]+")
_ALPHA = re.compile(r"[A-Za-z]{2,}")


@dataclass
class _Line:
    """One caption line as read: its clock, English text and translation lines."""

    number: int
    start: float
    english: list[str] = field(default_factory=list)
    translation: list[str] = field(default_factory=list)


def sniff(text: str) -> bool:
    """True when most lines are ``[mm:ss] text`` / ``[hh:mm:ss] text`` captions."""
    head = text[:40000]
    strict = len(_STRICT_CAPTION.findall(head))
    if strict < 3:
        return False
    # Unindented, non-blank lines after the first caption: almost all captions.
    body = head[_STRICT_CAPTION.search(head).start():]  # type: ignore[union-attr]
    lines = [ln for ln in body.splitlines() if ln.strip() and not ln[0].isspace()]
    return strict >= 0.8 * len(lines)


def _is_foreign(text: str) -> bool:
    """True when the line is mostly in a non-Latin script (a translation, not English).

    A CJK character stands for about a word, so one non-Latin letter in four is
    enough: ``我想今天我正在和Andre Karpathy交谈。`` is a translation.
    """
    latin = foreign = 0
    for ch in text:
        if ch.isalpha():
            if ch.isascii() or unicodedata.name(ch, "").startswith("LATIN"):
                latin += 1
            else:
                foreign += 1
    return foreign > 0 and 3 * foreign >= latin


def _clean(text: str) -> str:
    if not text.isascii():  # ASCII cannot be mojibake; ftfy is slow
        text = repair_mojibake(text)
    if "&" in text:
        text = html.unescape(text)
    return strip_noise(text)




def _read(lines: list[str], transcript: Transcript) -> list[_Line]:
    """Header metadata into ``transcript``; caption lines with their translations."""
    captions: list[_Line] = []
    declared = False  # the header names a translation ("Translation: zh-CN")
    for index, raw in enumerate(lines):
        number = index + 1
        if not raw.strip():
            continue
        stripped = raw.strip()
        m = _CAPTION.match(stripped) if not raw[0].isspace() else None
        if m and any(ch.isdigit() or ch == ":" for ch in m.group("stamp")):
            start = parse_clock(m.group("stamp"), line=number)
            captions.append(_Line(number, start, [m.group("text")]))
            continue
        if not captions:
            title = _TITLE.match(stripped)
            url = _URL.match(stripped)
            if _DECLARED.match(stripped):
                declared = True
            elif title and transcript.title is None:
                transcript.title = squash(_clean(title.group("title"))) or None
            elif url and transcript.url is None:
                transcript.url = url.group("url")
            continue  # other header lines carry nothing we keep
        if raw[0].isspace() and (declared or _is_foreign(stripped)):
            captions[-1].translation.append(stripped)
        else:
            captions[-1].english.append(stripped)  # a wrapped caption line
    return captions


def _unassignable(pieces: list[tuple[bool, str]], translation: str) -> bool:
    """True when the English has ``>>`` turns the translation does not mark at all.

    The translation cannot be split between the English pieces then; it is not
    kept, but this is no sign of drift (the translator just dropped the marks).
    """
    return len(pieces) > 1 and len(split_turns(translation)) == 1


def _latin_in(token: str, english: list[str], joined: str) -> bool:
    """A Latin word of the translation is in the English (``Alexnet`` for ``Alex``, ``OpenAI`` for ``open a``)."""
    if token in joined:
        return True
    return any(len(w) >= 3 and (token.startswith(w) or w.startswith(token)) for w in english)


def _translated_size(translation: str) -> int:
    """How much a translation says: its CJK characters plus its words in other non-Latin scripts.

    A CJK character and a Cyrillic word each stand for about one English word.
    """
    size = 0
    for token in translation.split():
        cjk = sum(1 for ch in token if is_cjk(ch))
        if cjk:
            size += cjk
        elif any(
            ch.isalpha() and not ch.isascii() and not unicodedata.name(ch, "").startswith("LATIN") for ch in token
        ):
            size += 1
    return size


def _check_translation(english: str, pieces: list[tuple[bool, str]], translation: str) -> str | None:
    """Why ``translation`` does not match its English caption line; None when it does."""
    words = [norm_word(w) for w in english.split()]
    joined = "".join(words)
    t_words = {norm_word(t) for t in _LATIN.findall(translation)}
    # English words the translation keeps as they are (names) carry no CJK.
    words_translated = sum(1 for w in words if w and w not in t_words)
    size = _translated_size(translation)
    low = _RATIO_LOW * words_translated - _RATIO_SLACK_LOW
    high = max(_RATIO_HIGH * words_translated, words_translated + _RATIO_SLACK_HIGH)
    if not low <= size <= high:
        return f"{size} translated characters/words for {words_translated} English words"
    for token in _ALPHA.findall(translation):
        if not _latin_in(norm_word(token), words, joined):
            return f"{token!r} is not in the English"
    if [turn for turn, _ in split_turns(translation)] != [turn for turn, _ in pieces]:
        return "its >> turn marks differ from the English"
    return None


def _rolled_turn(cues: list[Cue], pieces: list[tuple[bool, str]], previous_line: int) -> bool:
    """A short turn rolled whole onto the next line: ``… do. >> Yeah.`` then ``>> Yeah. >> Um, …``.

    Too short for ``rolling_overlap`` (one word is no evidence of a roll), but
    the repeated turn mark is: the line starts with a marked turn equal to the
    marked turn the line before ended with. Kept twice, it would be a spurious
    extra turn.
    """
    if not cues or not pieces or not pieces[0][0] or not cues[-1].turn or cues[-1].line != previous_line:
        return False
    last = [norm_word(w) for w in cues[-1].text.split()]
    first = [norm_word(w) for w in pieces[0][1].split()]
    return bool(first) and last == first and len(pieces) > 1


def parse(text: str) -> list[Transcript]:
    """The one transcript in a bracketed-caption file."""
    transcript = Transcript(format=NAME)
    captions = _read(text.splitlines(), transcript)
    if transcript.title:
        transcript.podcast = split_title(transcript.title)[0]

    # Speaker labels in the caption text ("[00:00:12] Marta Kowal: text"), by index.labels' rule.
    names = accepted_names(line_candidates([_clean(" ".join(c.english))]) for c in captions)
    speaking = NOBODY
    cues: list[Cue] = []
    tail: list[str] = []  # the last words emitted, for rolling overlap
    previous_line = 0
    # Translation bookkeeping: checked lines as (passed, first cue index).
    checked: list[tuple[bool, int]] = []
    drifted = False
    for caption in captions:
        english = _clean(" ".join(caption.english))
        raw_pieces = split_turns(english)
        voice_at: dict[int, Voice] = {}  # word index -> the voice from there on
        labelled: list[tuple[bool, str]] = []
        for k, (turn, piece) in enumerate(raw_pieces):
            hit = prefix(piece) if (k == 0 or turn) else None
            if hit and hit.name in names:
                labelled.append((True, hit.rest))
                voice_at[k] = voice(hit.name)
            else:
                labelled.append((turn, piece))
                if turn:
                    voice_at[k] = NOBODY
        raw_pieces = labelled
        pieces = [(turn, collapse_repeats(piece)) for turn, piece in raw_pieces]
        collapsed = pieces != raw_pieces
        words: list[str] = []
        turn_at: set[int] = set()
        voices: dict[int, Voice] = {}
        for k, (turn, piece) in enumerate(pieces):
            if k in voice_at:
                changed = voice_at[k] != speaking or voice_at[k] == NOBODY
                speaking = voice_at[k]
                if changed:
                    turn_at.add(len(words))
                voices[len(words)] = speaking
            elif turn:
                turn_at.add(len(words))
            words.extend(piece.split())
        if not words:
            continue
        overlap = rolling_overlap(tail, words, max_k=_ROLL_MAX_K)
        if not overlap and _rolled_turn(cues, pieces, previous_line):
            overlap = len(pieces[0][1].split())
        previous_line = caption.number
        first_cue = len(cues)
        current: list[str] = []
        current_turn = False
        who = cues[-1].voice if cues else (None, None)
        for i in range(overlap, len(words)):
            if i in turn_at and current:
                cues.append(Cue(" ".join(current), caption.start, turn=current_turn, line=caption.number,
                                speaker=who[0], label=who[1]))
                current = []
            if i in voices:
                who = (voices[i].speaker, voices[i].label)
            if not current:
                current_turn = i in turn_at
            current.append(words[i])
        if current:
            cues.append(Cue(" ".join(current), caption.start, turn=current_turn, line=caption.number,
                            speaker=who[0], label=who[1]))
        if overlap < len(words):
            tail = (tail + words[overlap:])[-_ROLL_MAX_K:]

        translation = squash(_clean(" ".join(caption.translation))) if caption.translation else ""
        if not translation or drifted or overlap or collapsed or _unassignable(pieces, translation):
            continue  # a rolled or collapsed line's translation covers text the cue dropped
        reason = _check_translation(" ".join(words), pieces, translation)
        checked.append((reason is None, first_cue))
        if reason is None:
            for cue, (_, piece) in zip(cues[first_cue:], split_turns(translation)):
                cue.translation = piece
            continue
        window = checked[-_DRIFT_WINDOW:]
        if sum(1 for passed, _ in window if not passed) >= _DRIFT_FAILURES:
            drifted = True
            drift_cue = next(first for passed, first in window if not passed)
            for cue in cues[drift_cue:]:
                cue.translation = None
            at = cues[drift_cue] if drift_cue < len(cues) else None
            transcript.warnings.append(
                "translations drift away from their captions"
                + (f" from line {at.line}; none kept after it" if at else "; none kept after it")
            )

    for this, nxt in itertools.pairwise(cues):
        if nxt.start_s is not None and nxt.line != this.line:
            this.end_s = nxt.start_s
    for i in range(len(cues) - 2, -1, -1):
        if cues[i].line == cues[i + 1].line:
            cues[i].end_s = cues[i + 1].end_s
    transcript.cues = cues
    return [transcript]
