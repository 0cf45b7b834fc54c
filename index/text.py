"""Text clean-up shared by the parsers: clocks, mojibake, noise tags and repeats."""

from __future__ import annotations

import functools
import re
import unicodedata

import ftfy

from .errors import TranscriptError

_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")


def parse_clock(value: str, *, line: int | None = None) -> float:
    """``hh:mm:ss.mmm``, ``mm:ss`` or ``h:mm:ss,mmm`` to seconds.

    Raises TranscriptError for anything else, or for minutes/seconds over 59.
    """
    m = _CLOCK.match(value.strip())
    if not m:
        raise TranscriptError(f"malformed timestamp {value.strip()!r}", line=line)
    hours, minutes, seconds, frac = m.groups()
    h = int(hours) if hours else 0
    mi, s = int(minutes), int(seconds)
    if s > 59 or (hours and mi > 59):
        raise TranscriptError(f"malformed timestamp {value.strip()!r} (field over 59)", line=line)
    result = h * 3600 + mi * 60 + s
    if frac:
        result += int(frac.ljust(3, "0")) / 1000
    return float(result)


def format_clock(seconds: float) -> str:
    """Seconds to ``hh:mm:ss`` (rounded down)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


# Runs of characters that MacRoman maps into 0x80-0xFF: UTF-8 decoded as MacRoman.
_MACROMAN_HIGH = "".join(bytes([b]).decode("mac_roman") for b in range(0x80, 0x100))
_MACROMAN_RUN = re.compile("[" + re.escape(_MACROMAN_HIGH) + "]{2,}")
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False)


def _fix_macroman(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return run.encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return run


def repair_mojibake(text: str) -> str:
    """Repair text that was decoded with the wrong codec (``‚ù§`` → ``❤``).

    ftfy handles the common cases; a targeted MacRoman pass handles what ftfy
    leaves. Curly quotes are kept: display text stays as the source wrote it.
    """
    text = ftfy.fix_text(text, _FTFY)
    if any(ch in _MACROMAN_HIGH for ch in text):
        text = _MACROMAN_RUN.sub(_fix_macroman, text)
    return text


# Non-speech tags from whisper and caption tools: [MUSIC], (upbeat music), [BLANK_AUDIO] ...
_NOISE_WORDS = (
    r"music|blank[_ ]audio|audio out|applause|laughter|laughs|laughing|silence|"
    r"no audio|inaudible|crosstalk|noise|background noise|cheering|static|beep|"
    r"sound|upbeat music|gentle music|soft music|dramatic music|music playing|"
    r"bell rings|coughs|sighs|clears throat|foreign|speaking foreign language|"
    r"chuckles|indistinct|pause|intro music|outro music|theme music"
)
# A tag may carry the time it refers to: "[inaudible 00:00:12]", "[crosstalk 01:02]".
_TAG_TIME = r"(?:\s+\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?)?"
NOISE_TAG = re.compile(
    r"\s*(?:\[\s*(?:[a-z ]+\s)?(?:" + _NOISE_WORDS + r")" + _TAG_TIME + r"\s*\]|\(\s*(?:[a-z ]+\s)?(?:"
    + _NOISE_WORDS + r")" + _TAG_TIME + r"\s*\)|[♪♫]+)\s*",
    re.IGNORECASE,
)


def _noise_gap(match: re.Match[str]) -> str:
    following = match.string[match.end():match.end() + 1]
    return "" if following and following in ",.!?;:" else " "


def strip_noise(text: str) -> str:
    """Drop non-speech tags such as ``[MUSIC]``, ``(upbeat music)``, ``[BLANK_AUDIO]``.

    No space is left before punctuation ("studio [laughs]." → "studio."). White
    space is squashed first: the tag pattern's leading ``\\s*`` is quadratic on
    long runs of spaces.
    """
    return squash(NOISE_TAG.sub(_noise_gap, squash(text)))


def clean_text(text: str) -> str:
    """Display text: noise tags dropped, mojibake repaired, white space squashed."""
    text = strip_noise(text)
    return repair_mojibake(text) if not text.isascii() else text


_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Collapse runs of white space to one space and trim."""
    return _SPACE.sub(" ", text).strip()


@functools.lru_cache(maxsize=1 << 16)
def norm_word(word: str) -> str:
    """A word reduced for comparison: lowercase, no accents, no punctuation."""
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in word if ch.isalnum())


def collapse_repeats(text: str, min_n: int = 4, max_n: int = 40) -> str:
    """Collapse an n-gram (min_n <= n <= max_n words) repeated immediately in one line.

    ``in terms of like the pre-training in terms of like the`` keeps one copy.
    Short repeats ("not, not, not") are kept: they are usually real speech.
    One pass: whenever the words kept so far end with the same n-gram twice,
    the second copy is dropped. Linear in the line's length for a fixed max_n.
    """
    words = text.split()
    if len(words) < 2 * min_n:
        return text
    kept: list[str] = []
    keys: list[str] = []
    for word in words:
        kept.append(word)
        keys.append(norm_word(word))
        size = len(keys)
        for n in range(min_n, min(max_n, size // 2) + 1):
            if keys[size - n] == keys[size - 2 * n] and keys[size - n:] == keys[size - 2 * n:size - n] \
                    and any(keys[size - n:]):
                del kept[size - n:]
                del keys[size - n:]
                break
    return " ".join(kept)


def rolling_overlap(previous: list[str], current: list[str], *, max_k: int = 40, min_k: int = 2) -> int:
    """How many leading words of ``current`` repeat the tail of ``previous``.

    Rolling auto-captions start each line with the tail of the line before.
    Returns the length of the longest suffix of ``previous`` that is a prefix of
    ``current`` (compared on normalised words), at least ``min_k`` words unless
    the whole of ``current`` repeats; 0 when there is none.
    """
    prev = [norm_word(w) for w in previous[-max_k:]]
    cur = [norm_word(w) for w in current[:max_k]]
    for k in range(min(len(prev), len(cur)), 0, -1):
        if prev[-k:] == cur[:k]:
            if k >= min_k or k == len(current):
                return k
            return 0
    return 0


def is_rolling(texts: list[str], sample: int = 200) -> bool:
    """Rolling auto-captions: most consecutive captions start with the tail of the one before
    (looked at on up to ``sample`` pairs spread over the file)."""
    step = max(1, (len(texts) - 1) // sample)
    pairs = overlapping = 0
    for i in range(1, len(texts), step):
        a, b = texts[i - 1].split(), texts[i].split()
        if a and b:
            pairs += 1
            overlapping += rolling_overlap(a, b) > 0
    return pairs >= 2 and overlapping >= 0.5 * pairs


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3040 <= o <= 0x30FF
        or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2A6DF
    )


_TURN = re.compile(r"\s*>{2,3}\s*")


def split_turns(text: str) -> list[tuple[bool, str]]:
    """Split a caption line at ``>>`` turn marks: [(starts_a_turn, text), ...].

    ``>> Yeah, yeah. >> And obviously,`` gives [(True, "Yeah, yeah."), (True, "And obviously,")].
    Empty pieces are dropped.
    """
    parts = _TURN.split(text)
    out: list[tuple[bool, str]] = []
    for i, part in enumerate(parts):
        part = part.strip()
        if part:
            out.append((i > 0, part))
    return out


_EPISODE_NO = re.compile(
    r"^(?P<podcast>.*?)\s*(?:#|№|\bep(?:isode)?\.?\s*)(?P<number>\d{1,5})\b", re.IGNORECASE
)


def split_title(title: str) -> tuple[str | None, int | None]:
    """(podcast, episode number) named in a title, where it names them.

    ``DeepSeek, … | Lex Fridman Podcast #459`` → ("Lex Fridman Podcast", 459);
    ``Lex Fridman Podcast #459 - DeepSeek, …`` → ("Lex Fridman Podcast", 459);
    ``#459 – DeepSeek …`` → (None, 459).
    """
    for part in reversed(re.split(r"\s+[|]\s+", title)):
        m = _EPISODE_NO.search(part)
        if m:
            podcast = m.group("podcast").strip(" -–—:|") or None
            return podcast, int(m.group("number"))
    return None, None
