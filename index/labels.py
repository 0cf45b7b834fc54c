"""Speaker labels: the one home for who speaks, whatever the format writes.

Every caption and text format hands its label text here, so that one rule
decides what a label means:

- a **placeholder** (``Unknown``, ``Unknown Speaker``, ``Speaker ?``, ``??``)
  means no speaker: the cue's ``speaker`` and ``label`` are both None;
- a **diarization label** (``SPEAKER_00`` from pyannote/WhisperX, ``spk_1``
  from AWS Transcribe, ``Speaker 1``; and, where the source's speaker field is
  known to be a diarization id, ``A``/``B`` from AssemblyAI or ``0``/``1``
  from Deepgram and Rev.ai) tells voices apart without naming anyone. It is
  kept as the cue's ``label`` (``speaker`` stays None), so a sidecar or
  speaker inference can name it later; cards show it as "Speaker 1"
  (``label_name``), never as ``SPEAKER_00``;
- anything else is a **name**: the cue's ``speaker``.

And one reader for labels written inside cue text (``cue_pieces``), shared by
SRT, WebVTT, bracket captions, whisper.cpp and plain text:

- ``Name: text`` (Zoom VTT, SRT, Podcasting 2.0), ``>> NAME: text``
  (broadcast captions), ``[SPEAKER_00]: text`` (WhisperX), ``[Name] text``
  (SDH subtitles) and ``- text`` dialogue dashes (SDH: two or more dashes in
  one cue are two turns);
- ``>>`` alone marks a new turn without a name.

Whether a ``Name:`` prefix is a speaker is decided over the whole file
(``accepted_names``): upper case names, diarization labels and placeholders
always; other names when used at least twice, or once when the name has a
clear shape (capitalised words, not a common heading such as ``Note``) in a
file where other labels are speakers (a caller on the line). ``Step two: …``
or ``Note: …`` once in prose stays text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .text import NOISE_TAG, split_turns, squash
from .tokens import fold

# Labels that say "someone, we don't know who".
PLACEHOLDERS = frozenset({
    "unknown", "unknown speaker", "speaker ?", "speaker?", "?", "??", "???", "unidentified",
    "unidentified speaker", "unknown voice", "speaker unknown", "n/a", "none", "unk",
})
# Diarization labels as tools write them: SPEAKER_00, Speaker 1, spk_0, spk1, Speaker A, S1.
_DIARIZATION = re.compile(
    r"^(?:speaker[ _-]?(?P<n1>\d{1,3})|spk[ _-]?(?P<n2>\d{1,3})|speaker[ _-](?P<letter>[a-z])|s(?P<n3>\d{1,2}))$",
    re.IGNORECASE,
)
# Where the source's speaker field is a diarization id: AssemblyAI "A", Deepgram/Rev.ai 0.
_VENDOR_ID = re.compile(r"^(?:(?P<letter>[A-Z])|(?P<n>\d{1,3}))$")
# Words that start a line with a colon in prose or on a page, and are not speakers.
STOP = frozenset({
    "note", "notes", "edit", "update", "source", "sources", "example", "warning", "tip", "summary",
    "transcript", "published", "transcribed by", "date", "title", "url", "link", "links", "episode",
    "duration", "length", "keywords", "tags", "description", "chapters", "outline", "http", "https",
    "question", "answer", "step", "chapter", "part", "caution", "important", "credit", "credits",
    "music", "lyrics", "translation", "subtitles", "captions", "sponsor", "ad", "intro", "outro",
    "ps", "nb", "fyi", "re", "q", "a", "time", "location", "speakers", "host", "guest", "guests",
})


@dataclass(frozen=True)
class Voice:
    """Who speaks a cue: a named ``speaker``, or a diarization ``label``, or neither (unknown)."""

    speaker: str | None = None
    label: str | None = None


NOBODY = Voice()


def is_placeholder(name: str) -> bool:
    return squash(name).casefold() in PLACEHOLDERS


def is_diarization_label(name: str, *, vendor_ids: bool = False) -> bool:
    """True for ``SPEAKER_00``, ``spk_1``, ``Speaker 2``; with ``vendor_ids`` also ``A`` and ``0``."""
    name = squash(name)
    return bool(_DIARIZATION.match(name) or (vendor_ids and _VENDOR_ID.match(name)))


def voice(name: str | int | None, *, vendor_ids: bool = False) -> Voice:
    """What a label means: NOBODY for a placeholder, Voice(label=…) for a diarization
    label, Voice(speaker=…) for a name. ``vendor_ids``: the field is a vendor's
    diarization id, so bare letters and numbers are labels too."""
    if name is None:
        return NOBODY
    text = squash(str(name))
    if not text or is_placeholder(text):
        return NOBODY
    if is_diarization_label(text, vendor_ids=vendor_ids):
        return Voice(label=text)
    return Voice(speaker=text)


def label_number(label: str) -> int | None:
    """The 1-based number a diarization label stands for, or None.

    Zero-based schemes are recognised by shape: bare numbers (Deepgram, Rev.ai),
    ``spk_N`` (AWS Transcribe), zero-padded ``SPEAKER_00`` (pyannote, WhisperX)
    and any ``…0``. ``SPEAKER_1`` and ``Speaker 1`` (Apple, Podnews, Otter) are
    1-based; letters count from A = 1 (AssemblyAI).
    """
    text = squash(label)
    m = _DIARIZATION.match(text)
    if m:
        if m.group("letter"):
            return ord(m.group("letter").upper()) - ord("A") + 1
        digits = m.group("n1") or m.group("n2") or m.group("n3")
        n = int(digits)
        zero_based = m.group("n2") is not None or (len(digits) > 1 and digits.startswith("0")) or n == 0
        return n + 1 if zero_based else n
    m = _VENDOR_ID.match(text)
    if m:
        if m.group("letter"):
            return ord(m.group("letter")) - ord("A") + 1
        return int(m.group("n")) + 1
    return None


def label_name(label: str | None) -> str | None:
    """How a diarization label is shown: ``SPEAKER_00`` → "Speaker 1", ``B`` → "Speaker 2"."""
    if not label:
        return None
    n = label_number(label)
    return f"Speaker {n}" if n is not None else squash(label)


def display_name(speaker: str | None, label: str | None) -> str | None:
    """The name a card shows: the named speaker, else the label as "Speaker N", else None."""
    return speaker or label_name(label)


def names_speaker(wanted: str, name: str) -> bool:
    """Whether a ``speaker:`` filter's text ``wanted`` names the speaker shown as ``name``
    (``display_name``: "Dylan Patel", "Speaker 2").

    A diarization label names that one label, however the source wrote it: ``speaker 1``,
    ``SPEAKER_00`` and ``spk_0`` are all "Speaker 1", and none is "Speaker 12". Anything else
    names a speaker whose name holds it, case aside (``dylan`` is "Dylan Patel"); ``fold`` also
    sets accents aside (``index.tokens.fold``).
    """
    if is_diarization_label(wanted):
        return label_name(wanted) == squash(name)
    return fold(wanted) in fold(name)


# ---------------------------------------------------------------------------
# Labels inside cue text

# "JOHN: hi", "Dr. Smith: hi", "SPEAKER 1: hi"; the name starts with a letter.
_PREFIX = re.compile(r"^(?P<name>[^\W\d_][\w.'’&() -]{0,40}?)\s*:(?:\s+|$)(?P<rest>.*)$", re.DOTALL)
# "[SPEAKER_00]: hi", "[SPEAKER_00] hi", "[Marta] hi", "[?]: hi".
_BRACKET = re.compile(r"^\[(?P<name>[^\[\]\n]{1,40})\]\s*:?(?:\s+|$)(?P<rest>.*)$", re.DOTALL)
_DASH = re.compile(r"^\s*[-–—]\s+|^\s*[-–—](?=\S)(?!-)")


@dataclass
class Prefix:
    name: str
    rest: str
    bracketed: bool


def is_upper_name(name: str) -> bool:
    return any(ch.isalpha() for ch in name) and name.upper() == name


def _capitalised(name: str) -> bool:
    words = name.split()
    return 1 <= len(words) <= 3 and all(w[:1].isupper() for w in words) and all(
        ch.isalpha() or ch in ".'’-" for ch in name.replace(" ", "")
    )


def prefix(line: str) -> Prefix | None:
    """The label a line starts with: ``Name: rest`` or ``[Name]: rest`` (at most four words);
    a leading ``>>`` turn mark is passed over (``>> NAME: rest``)."""
    if ":" not in line and "[" not in line:
        return None  # every label shape has one of these (a fast exit: most lines are text)
    line = line.strip().lstrip(">").strip() if line.lstrip().startswith(">>") else line.strip()
    m = _BRACKET.match(line)
    if m:
        name = squash(m.group("name"))
        if name and len(name.split()) <= 4 and not name[0].isdigit() and not NOISE_TAG.fullmatch(f"[{name}]"):
            return Prefix(name, m.group("rest"), True)
        return None
    m = _PREFIX.match(line)
    if not m:
        if is_placeholder(line.rstrip(":").strip()) and line.rstrip().endswith(":"):
            return Prefix(line.rstrip().rstrip(":").strip(), "", False)
        m2 = re.match(r"^(?P<name>\?{1,3}|speaker \?)\s*:\s*(?P<rest>.*)$", line, re.IGNORECASE | re.DOTALL)
        return Prefix(m2.group("name"), m2.group("rest"), False) if m2 else None
    name = squash(m.group("name"))
    if not name or len(name.split()) > 4 or line[m.end("name"):].lstrip().startswith(":/"):
        return None
    return Prefix(name, m.group("rest"), False)


def accepted_names(candidates: Iterable[Prefix]) -> set[str]:
    """The label names that are speakers in a file, from every prefix it uses (see the module doc)."""
    listed = list(candidates)
    counts = Counter(p.name for p in listed)
    always = {p.name for p in listed if is_placeholder(p.name) or is_diarization_label(p.name)}
    names = set(always)
    for name, k in counts.items():
        if name.casefold() in STOP or name in always:
            continue
        bracketed = all(p.bracketed for p in listed if p.name == name)
        if k >= 2 or (is_upper_name(name) and not bracketed):
            names.add(name)
    if names - always or len(always) >= 1:
        for name, k in counts.items():
            if k == 1 and name not in names and name.casefold() not in STOP and _capitalised(name):
                names.add(name)
    return names


def line_candidates(lines: list[str], *, dashes: bool = True) -> list[Prefix]:
    """The prefixes a cue's lines offer as labels: on its first line, after ``>>``, and on dash lines."""
    out: list[Prefix] = []
    for j, raw in enumerate(lines):
        dash = _DASH.match(raw) if dashes else None
        line = raw[dash.end():] if dash else raw
        for _k, (turn, piece) in enumerate(split_turns(line)):
            if j == 0 or dash or turn:
                hit = prefix(piece)
                if hit:
                    out.append(hit)
    return out


@dataclass
class Piece:
    """A stretch of one cue's text with its voice: ``turn`` when a new turn starts
    there; ``voice`` is the voice from then on (the current one when no label is given)."""

    text: str
    voice: Voice
    turn: bool


class Voices:
    """Reads labels in cue text with the file's accepted names, carrying the voice forward.

    A label names the speaker until the next label; ``>>`` or a dialogue dash
    without a label starts a turn whose speaker is unknown.
    """

    def __init__(self, names: set[str], *, dashes: bool = True) -> None:
        """``dashes``: the format uses SDH dialogue dashes (subtitles do; ASR text does not)."""
        self.names = names
        self.dashes = dashes
        self.current: Voice = NOBODY

    def set(self, v: Voice) -> None:
        self.current = v

    def pieces(self, lines: list[str]) -> list[Piece]:
        """A cue's text lines (tags removed) as pieces with their voices, in order."""
        dashes = sum(1 for raw in lines if _DASH.match(raw)) if self.dashes else 0
        out: list[Piece] = []
        for j, raw in enumerate(lines):
            dash = _DASH.match(raw) if self.dashes else None
            line = raw[dash.end():] if dash else raw
            split = split_turns(line)
            if not split:
                continue
            for k, (turn, piece) in enumerate(split):
                new_turn = turn or bool(dash and dashes >= 2 and k == 0)
                hit = prefix(piece) if (j == 0 or dash or turn) else None
                if hit and hit.name in self.names:
                    given = voice(hit.name)
                    # The same label again continues the turn, unless ">>" or a dash says otherwise.
                    changed = new_turn or given != self.current or given == NOBODY
                    self.current = given
                    out.append(Piece(hit.rest, given, changed))
                    continue
                if new_turn:
                    self.current = NOBODY
                    out.append(Piece(piece, self.current, True))
                elif out:
                    out[-1].text += "\n" + piece
                else:
                    out.append(Piece(piece, self.current, False))
        return out
