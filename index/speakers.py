"""Speaker attribution: name turns from what the conversation itself reveals.

Most transcripts say *that* the speaker changes (``>>`` turn marks, diarization
labels) but not *who* speaks. A listener knows anyway: "This is Alessio",
"today we have Dylan Patel … welcome" and the answer "thank you for having
me". ``attribute`` does the same, in three steps, and precision first: a wrong
name on a posted quote is worse than none.

1. **Turns.** A turn starts at a ``>>`` mark (``Cue.turn``) or where the
   given speaker or diarization label changes. A transcript with neither has no
   turns, and nothing in it is named.
2. **Evidence.** Small rules read each turn's sentences (``RULES``; each has a
   test in ``tests/test_speakers.py``) and make claims: *this* turn is X, the
   *next* turn is X, this turn is *not* X. A claim about the next turn counts
   only when its words end the turn. Names heard are matched to the episode's
   known people (``People``: sidecar hosts, guests and speakers, the title's
   guest, full names the conversation introduces), first name to full name;
   a name that matches no one, or more than one person, names nothing.
3. **Propagation with care.** A diarization label named once is named on every
   turn it labels. With ``>>`` marks, a one-person side's name carries to
   every second turn only while the alternation is unbroken: every turn on the
   way starts and ends at a mark, no reaction answers a reaction (a third
   voice), nothing on the way contradicts it, and the marks missed no turn
   change the evidence proves. Where the marks stop, the turn the last mark
   starts is named no longer than the longest turn the marks closed.

A name is given only when the evidence agrees: a turn or label with claims for
two people, or a claim that it is X beside a claim that it is not X, stays
unnamed. A name the transcript (or a sidecar's mapping) gives is never changed;
a claim that contradicts it is dropped. Every inferred name keeps its
``Evidence`` (rule, time, words) so that a person can check it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz

from .labels import is_diarization_label
from .model import Transcript
from .tokens import fold

# Words after a claim about the next turn, at most, for it to "end the turn".
TAIL_WORDS = 25
# A self-introduction counts within the first words of a turn ("Hey everyone,
# welcome to the Latent Space Podcast. This is Alessio, …").
HEAD_WORDS = 60
# Two spellings of one name token: rapidfuzz ratio (0-100) at least this,
# same first letter, both at least MIN_FUZZY_LEN long ("Andre" ~ "Andrej",
# "Lampert" ~ "Lambert").
NAME_SIMILARITY = 85
MIN_FUZZY_LEN = 4


@dataclass(frozen=True)
class Evidence:
    """Why a name was given: the rule, when (seconds, or None), and the words that show it."""

    rule: str
    name: str
    time_s: float | None
    words: str

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "name": self.name, "time_s": self.time_s, "words": self.words}


@dataclass
class Person:
    name: str
    role: str | None = None  # "host", "guest" or None (unknown)
    source: str = ""  # where the episode says so: "sidecar", "title", "text", "transcript"
    # How often the conversation spelled the full name each way (ASR: "Lampert", "Lambert").
    spellings: dict[str, int] = field(default_factory=dict)


class People:
    """The episode's known people, and how a heard name maps to one of them."""

    def __init__(self) -> None:
        self.known: list[Person] = []

    def add(self, name: str, role: str | None, source: str) -> None:
        """Know ``name``; a known person it matches gains a role, and a full name the text spells
        differently counts as a spelling (the text's most frequent spelling is the name, unless
        metadata gave it)."""
        name = " ".join(name.split())
        if not name:
            return
        for p in self.known:
            if p.name == name or (self.match(name) is p and len(name.split()) <= len(p.name.split())):
                if p.role is None:
                    p.role = role
                if p.source == source == "text" and len(name.split()) == len(p.name.split()):
                    p.spellings[name] = p.spellings.get(name, 0) + 1
                    p.name = max(p.spellings, key=lambda n: p.spellings[n])  # ties: the first heard
                return
        self.known.append(Person(name, role, source, {name: 1}))

    def match(self, heard: str) -> Person | None:
        """The one known person ``heard`` names ("Andre" → Andrej Karpathy); None when none or several."""
        tokens = [fold(t) for t in heard.split()]
        found = [p for p in self.known if _tokens_match(tokens, [fold(t) for t in p.name.split()])]
        return found[0] if len(found) == 1 else None

    def sole(self, role: str) -> Person | None:
        """The episode's one person in ``role``, when exactly one is known."""
        found = [p for p in self.known if p.role == role]
        return found[0] if len(found) == 1 else None

    def one_person_side(self, person: Person) -> bool:
        """Whether ``person`` is alone on their side of the conversation (the one guest, the one host)."""
        return person.role is not None and self.sole(person.role) is person


def _tokens_match(heard: list[str], name: list[str]) -> bool:
    if not heard or len(heard) > len(name):
        return False
    return all(any(_same_token(h, n) for n in name) for h in heard)


def _same_token(a: str, b: str) -> bool:
    if a == b:
        return True
    return (
        min(len(a), len(b)) >= MIN_FUZZY_LEN and a[:1] == b[:1] and fuzz.ratio(a, b) >= NAME_SIMILARITY
    )


# --- turns -------------------------------------------------------------------


@dataclass
class Turn:
    """A run of cues by one speaker: ``cues[first:end]``.

    ``marked``: it starts at a turn mark or a change of voice (not the start
    of the transcript, not a boundary the evidence implied). ``speaker`` is
    the name the transcript gives its cues, ``label`` their diarization label
    (``Cue.label``), if any.
    """

    first: int
    end: int
    speaker: str | None
    label: str | None
    marked: bool


def turns_of(t: Transcript, implied: Iterable[int] = ()) -> list[Turn]:
    """The transcript's turns; ``implied`` are cue indexes where evidence proves an unmarked change."""
    extra = set(implied)
    turns: list[Turn] = []
    for i, cue in enumerate(t.cues):
        changed = i > 0 and cue.voice != t.cues[i - 1].voice
        if i == 0 or cue.turn or changed or i in extra:
            if turns:
                turns[-1].end = i
            turns.append(Turn(i, len(t.cues), cue.speaker, cue.label, marked=i > 0 and (cue.turn or changed)))
    return turns


def has_turns(t: Transcript) -> bool:
    """Whether the source gives any turn structure (marks, labels, names)."""
    return any(c.turn or c.speaker or c.label for c in t.cues)


# --- evidence ----------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
NAME = rf"(?P<name>{_CAP}(?:[ \t]+{_CAP}){{0,2}})"
NAME2 = NAME.replace("?P<name>", "?P<name2>")
_F = r"(?:[ \t]+(?:uh|um|uhm|er|erm|ah),?)*"  # fillers auto-captions keep
# Capitalised words that start sentences or fill them, never a name.
_NOT_NAMES = {
    fold(w)
    for w in [
        "I",
        "I'm",
        "I've",
        "I'd",
        "I'll",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "So",
        "And",
        "But",
        "Or",
        "Okay",
        "OK",
        "Well",
        "Yeah",
        "Yes",
        "No",
        "Not",
        "Now",
        "Thanks",
        "Thank",
        "Today",
        "Tonight",
        "Hey",
        "Hi",
        "Hello",
        "Oh",
        "Um",
        "Uh",
        "Mhm",
        "Right",
        "Cool",
        "Great",
        "Everyone",
        "Everybody",
        "All",
        "Sure",
        "Just",
        "Really",
        "Very",
        "What",
        "Why",
        "How",
        "When",
        "Where",
        "Who",
        "Which",
        "Let",
        "Let's",
        "We",
        "You",
        "It",
        "It's",
        "There",
        "Here",
        "My",
        "Our",
        "Your",
        "His",
        "Her",
        "Their",
        "Of",
        "In",
        "On",
        "At",
        "For",
        "With",
        "To",
        "From",
        "By",
        "As",
        "If",
        "Then",
        "Also",
        "Like",
        "Actually",
        "Again",
        "Amazing",
        "Awesome",
        "Nice",
        "Interesting",
        "Wow",
        "Good",
        "Welcome",
        "Please",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "God",
        "AI",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
    ]
}

_SENTENCE_END = re.compile(r"(?<=[.?!…])[\"'”’)]*\s+")


@dataclass
class Sentence:
    text: str
    turn: int
    cue: int  # the cue it starts in
    words_before: int  # in its turn
    words_after: int  # in its turn


@dataclass
class Claim:
    """``turn`` is (``is_it``) or is not (not ``is_it``) ``person``, because of ``evidence``.

    ``implies_change``: the claim is about the turn after a sentence that did
    not end its turn; a later guest's thanks in the same turn proves an unmarked
    change there.
    """

    turn: int
    person: str
    is_it: bool
    evidence: Evidence


@dataclass
class _Said:
    """What one rule found in one sentence: the speaker is / is not someone, or the next turn is."""

    kind: str  # "self", "not_self", "next", "guest_self"
    heard: str | None  # the name heard; None for "the one guest"
    rule: str


Rule = Callable[[str], list[_Said]]


def _names(pattern: re.Pattern[str], text: str) -> list[str]:
    out = []
    for m in pattern.finditer(text):
        name = _trim_name(m.group("name"))
        if name:
            out.append(name)
    return out


def _has(sentence: str, *words: str) -> bool:
    """A cheap test before a rule's regex: does the sentence hold any of these (lower-case) words?"""
    lower = sentence.lower()
    return any(w in lower for w in words)


def _trim_name(name: str) -> str | None:
    """Drop trailing non-name words; None when the first word is not a name."""
    tokens = name.split()
    if any(t.endswith(("'s", "’s")) for t in tokens):
        return None  # "Google's model", "Dylan's work": a possessive names no speaker
    while tokens and fold(tokens[-1]) in _NOT_NAMES:
        tokens.pop()
    if not tokens or fold(tokens[0]) in _NOT_NAMES:
        return None
    return " ".join(tokens)


_SELF_INTRO = re.compile(
    rf"(?:^|[.?!,]\s+|\b(?i:and|hi|hey|hello)\s+)(?i:i'm|i am|my name is|i'm your host,?|i am your host,?)\s+{NAME}"
)
# "This is Alessio" only opens a sentence ("… and this is Harbour Lights" names the show).
_THIS_IS = re.compile(rf"^(?:(?i:hi|hey|hello)(?:\s+\w+)?,?\s+)?(?i:this is)\s+{NAME}")


def self_introduction(sentence: str) -> list[_Said]:
    """"This is Alessio", "I'm Marta Kowal", "my name is …": the speaker is that person."""
    if not _has(sentence, "i'm", "i am", "my name", "this is"):
        return []
    heard = _names(_SELF_INTRO, sentence) + _names(_THIS_IS, sentence.strip())
    return [_Said("self", n, "self-introduction") for n in heard]


_INTRODUCES = re.compile(
    rf"\b(?i:(?:and )?(?:today|tonight|now)?,? ?we(?:'ve| have)(?: got)?|joining (?:us|me)(?: today| now)? (?:is|are)|"
    rf"please welcome|my guests? (?:today |now )?(?:is|are)|our guests? (?:today |now )?(?:is|are)|"
    rf"with me (?:today |now )?(?:is|are)|(?:i'm|i am|we're|we are)(?: \w+){{0,3}} (?:speaking|talking|chatting|"
    rf"sitting down) with|(?:a |this )?conversation with)\s+{NAME}"
)


def introduction(sentence: str) -> list[_Said]:
    """"today we have Dylan Patel … welcome", "I'm speaking with Andre Karpathy": the next turn is
    that person; the speaker is not."""
    if not _has(sentence, "we have", "we've", "joining", "welcome", "guest", " with", "conversation"):
        return []
    out = []
    for n in _names(_INTRODUCES, sentence):
        out += [_Said("next", n, "introduction"), _Said("not_self", n, "introduction")]
    return out


# A name said to someone: opening the sentence ("Andrej, why …", "What Nathan, is there …"),
# between commas ("So, Nathan, what …"), after "for you" ("a question for you Dylan, …"),
# or closing a question ("…, Nathan?").
_ADDRESS_FIRST = re.compile(rf"^(?:[A-Z][a-z]+\s+)?{NAME},")
_ADDRESS_INSIDE = re.compile(rf"(?:,\s+|\b(?i:for you)\s+){NAME},")
_ADDRESS_LAST = re.compile(rf",\s+{NAME}\?[\"'”’]*$")


def addressed_question(sentence: str) -> list[_Said]:
    """"Andrej, why do you say …?": a question addressed by name; the next turn is that person.

    Only a question: "I think, Nathan, you can explain KV cache better." was
    answered by Lex in seed 003 (a third voice cuts in on a request).
    """
    text = sentence.strip()
    if "," not in text or not text.rstrip("\"'”’ ").endswith("?"):
        return []
    out: list[_Said] = []
    for pattern in (_ADDRESS_FIRST, _ADDRESS_INSIDE, _ADDRESS_LAST):
        for m in pattern.finditer(text):
            name = _trim_name(m.group("name"))
            if name and ("next", name) not in [(x.kind, x.heard) for x in out]:
                out += [_Said("next", name, "addressed question"), _Said("not_self", name, "addressed question")]
    return out


_WELCOME_NAMED = re.compile(
    rf"(?i:\bwelcome(?: back)?(?: to the (?:show|podcast|pod|program))?),?\s+{NAME}|^{NAME2},\s+(?i:welcome)\b"
)
_WELCOME_BARE = re.compile(
    r"(?i:\bwelcome\b)(?!\s+(?i:to|back to|everyone|everybody|all|folks|listeners|aboard)\b)"
)
_WELCOME_AUDIENCE = re.compile(r"(?i:\b(?:everyone|everybody|folks|listeners),?\s+welcome\b)")


def welcome(sentence: str) -> list[_Said]:
    """"welcome, Dylan" (or a bare "welcome" ending a turn, to the one guest): the next turn is that
    person; the speaker is not. "welcome to the show, everyone" speaks to the audience: no claim."""
    if not _has(sentence, "welcome"):
        return []
    out = []
    for m in _WELCOME_NAMED.finditer(sentence):
        name = _trim_name(m.group("name") or m.group("name2") or "")
        if name:
            out += [_Said("next", name, "welcome"), _Said("not_self", name, "welcome")]
    if not out and _WELCOME_BARE.search(sentence) and not _WELCOME_AUDIENCE.search(sentence):
        out += [_Said("next", None, "welcome"), _Said("not_self", None, "welcome")]
    return out


_GUEST_THANKS = re.compile(
    rf"(?i:\bthanks?(?: you)?(?: so much| very much| again)?{_F} for{_F} (?:having|inviting) me|"
    rf"\b(?:happy|glad|great|excited|good|a pleasure|pleasure) to be (?:here|on)\b)"
)


def guest_thanks(sentence: str) -> list[_Said]:
    """"thank you for having me": the speaker is a guest. It names no one alone (a sponsor's manager
    thanks the host too, seed 001 at 01:07:02); it corroborates a handover to the one guest, and
    right after a question to that guest in the same turn it proves an unmarked change of turn."""
    if not _has(sentence, " me", "to be "):
        return []
    return [_Said("guest_self", None, "thanks for having me")] if _GUEST_THANKS.search(sentence) else []


_THANKS_NAMED = re.compile(
    rf"(?i:\bthanks?(?: you)?(?: so much| very much)?(?: for (?:coming on|coming|joining (?:us|me)|being here|"
    rf"being on|doing this|taking the time|your time))?),?\s+{NAME}|^{NAME2},\s+(?i:thanks?\b|thank you\b)"
)


def addressed_thanks(sentence: str) -> list[_Said]:
    """"thanks for coming on, Dylan": the speaker is not Dylan; Dylan is the other side (the next turn)."""
    if not _has(sentence, "thank"):
        return []
    out = []
    for m in _THANKS_NAMED.finditer(sentence):
        name = _trim_name(m.group("name") or m.group("name2") or "")
        if name:
            out += [_Said("next", name, "thanks"), _Said("not_self", name, "thanks")]
    return out


_FAREWELL = re.compile(
    rf"^{NAME},\s+(?i:that was|this was|it was|it's been|it has been|great|amazing|awesome|wonderful|"
    rf"thank|thanks|appreciate)\b"
)


def addressed_farewell(sentence: str) -> list[_Said]:
    """"Andre, that was great.": said to that person, who answers in the next turn."""
    out = []
    for m in _FAREWELL.finditer(sentence.strip()):
        if name := _trim_name(m.group("name")):
            out += [_Said("next", name, "farewell"), _Said("not_self", name, "farewell")]
    return out


RULES: list[Rule] = [
    self_introduction, introduction, addressed_question, welcome, guest_thanks, addressed_thanks, addressed_farewell,
]

_TITLE_LEADING = re.compile(rf"^{NAME}\s*[—–:|]\s")
_TITLE_WITH = re.compile(rf"\b(?i:with|ft\.?|feat\.?|featuring)\s+{NAME}")


def title_guests(title: str | None) -> list[str]:
    """The guest a title names: "Andrej Karpathy — …", "… with Dylan Patel of …" (full names only)."""
    if not title:
        return []
    found = _names(_TITLE_LEADING, title) + _names(_TITLE_WITH, title)
    return [n for n in found if len(n.split()) >= 2]


# --- attribution -------------------------------------------------------------


@dataclass
class Attribution:
    """``attribute``'s result: the transcript with inferred names on its cues, and why."""

    transcript: Transcript
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def by_speaker(self) -> dict[str, list[Evidence]]:
        out: dict[str, list[Evidence]] = {}
        for e in self.evidence:
            out.setdefault(e.name, []).append(e)
        return out


def people_of(t: Transcript, hosts: list[str], guests: list[str], title: str | None) -> People:
    """The known people of an episode: sidecar roles, named speakers, the title's guest."""
    people = People()
    for name in hosts:
        people.add(name, "host", "sidecar")
    for name in guests:
        people.add(name, "guest", "sidecar")
    for name in title_guests(title):
        people.add(name, "guest", "title")
    for name in [*t.speakers, *(c.speaker for c in t.cues if c.speaker)]:
        if not is_diarization_label(name):
            people.add(name, None, "transcript")
    return people


def attribute(
    t: Transcript, hosts: list[str] | None = None, guests: list[str] | None = None, title: str | None = None
) -> Attribution:
    """Name the transcript's unnamed turns and labels where the conversation makes it certain.

    ``hosts``/``guests``/``title`` are the episode's metadata (a sidecar's,
    merged across sources). Returns a copy of ``t`` whose cues carry the
    inferred names (a label's cues get its name), the evidence of every name
    given, and notes on what was left unnamed and why. Never raises on odd
    text; a transcript without turn structure comes back unchanged.
    """
    hosts, guests = hosts or [], guests or []
    if not t.cues or not has_turns(t):
        return Attribution(t, notes=["no turns: the transcript marks no speaker changes"] if t.cues else [])
    if all(c.speaker for c in t.cues):
        return Attribution(t)  # every word has its speaker already: nothing to name
    people = people_of(t, hosts, guests, title)
    labelled = any(c.speaker or c.label for c in t.cues)
    turns = turns_of(t)
    sentences = _sentences(t, turns, labelled)
    _learn_names(_sentences(t, turns, True), people)  # names, not claims: every word counts
    claims, implied = _claims(t, turns, sentences, people)
    notes: list[str] = []
    if implied and not labelled:
        turns = turns_of(t, implied)
        sentences = _sentences(t, turns, labelled)
        claims, _ = _claims(t, turns, sentences, people)
        notes.append(
            "the >> marks missed a turn change the evidence proves (at "
            + ", ".join(_clock(t.cues[i].start_s) for i in sorted(implied))
            + "): names do not carry across turns"
        )
    if labelled:
        names, evidence = _name_labels(turns, claims, people, notes)
        cues = [replace(c, speaker=names.get(c.label)) if c.speaker is None and c.label else c for c in t.cues]
        return Attribution(replace(t, cues=cues), evidence, notes)
    named, evidence = _name_turns(t, turns, claims, people, notes, alternate=not implied)
    if not named and len(hosts) == 1 and len(guests) == 1 and not implied:
        named, evidence = _interview(t, turns, hosts, guests, notes)
    cues = list(t.cues)
    for k, (name, last) in named.items():
        turn = turns[k]
        for i in range(turn.first, last):
            cues[i] = replace(cues[i], speaker=name)
        if last < turn.end and last > turn.first:
            cues[last] = replace(cues[last], turn=True)  # the named head ends here
    for i in implied:
        cues[i] = replace(cues[i], turn=True)
    return Attribution(replace(t, cues=cues), evidence, notes)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _sentences(t: Transcript, turns: list[Turn], labelled: bool) -> list[Sentence]:
    """Each turn's sentences. Without labels, the last turn's words past its named head are left
    out: where the marks stop, nobody knows whose words those are."""
    out: list[Sentence] = []
    longest = _longest_closed(t, turns)
    for k, turn in enumerate(turns):
        end = turn.end if labelled or k + 1 < len(turns) else _named_end(t, turns, k, longest)
        texts = [t.cues[i].text for i in range(turn.first, end)]
        joined = " ".join(texts)
        starts, pos = [], 0
        for text in texts:
            starts.append(pos)
            pos += len(text) + 1
        pieces: list[tuple[int, str]] = []
        last = 0
        for m in _SENTENCE_END.finditer(joined):
            pieces.append((last, joined[last:m.start()]))
            last = m.end()
        pieces.append((last, joined[last:]))
        total = len(joined.split())
        before = 0
        for at, text in pieces:
            n = len(text.split())
            if n:
                cue = turn.first + bisect.bisect_right(starts, at) - 1
                out.append(Sentence(text.strip(), k, cue, before, total - before - n))
            before += n
    return out


_STRONG_INTRO = re.compile(
    rf"\b(?i:conversation with|joining (?:us|me)(?: today| now)? (?:is|are)|please welcome|my guests? (?:today |now )?"
    rf"(?:is|are)|our guests? (?:today |now )?(?:is|are)|(?:speaking|talking|chatting|sitting down) with|"
    rf"here's|here is)\s+{NAME}"
)
_FULL_NAME = re.compile(rf"{_CAP}[ \t]+{_CAP}")


def _learn_names(sentences: list[Sentence], people: People) -> None:
    """Full names the conversation introduces ("a conversation with Dylan Patel and Nathan Lampert",
    "my name is Marta Kowal") join the known people. Acronyms ("GPT OSS") are no names, nor are
    capitalised words the same conversation also says in lower case ("I'm Super Excited")."""
    lower_case: set[str] | None = None
    for s in sentences:
        if not _has(s.text, "i'm", "i am", "my name", " with", "joining", "welcome", "guest", "here"):
            continue
        heard: list[tuple[str, str | None]] = []
        if s.words_before < HEAD_WORDS:  # "I'm Marta Kowal", not "this is …" (a show, a product)
            heard += [(name, None) for name in _names(_SELF_INTRO, s.text)]
        for m in _STRONG_INTRO.finditer(s.text):
            rest = s.text[m.start("name"):].split(".")[0]
            heard += [(h, "guest") for h in _FULL_NAME.findall(rest)]
        for name, role in heard:
            trimmed = _trim_name(name)
            if not trimmed or len(trimmed.split()) < 2 or any(w.isupper() and len(w) > 1 for w in trimmed.split()):
                continue
            if lower_case is None:
                lower_case = {w for x in sentences for w in _LOWER_WORD.findall(x.text)}
            if not any(w.lower() in lower_case for w in trimmed.split()):
                people.add(trimmed, role, "text")


_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*")


def _claims(
    t: Transcript, turns: list[Turn], sentences: list[Sentence], people: People
) -> tuple[list[Claim], set[int]]:
    """Every rule's claims about turns, and the cues where the evidence proves an unmarked change."""
    claims: list[Claim] = []
    implied: set[int] = set()
    pending_next: dict[int, tuple[str, Sentence, str]] = {}  # turn -> (person, sentence, rule) said mid-turn
    announced: dict[int, set[str]] = {}  # turn -> whom the turn before it handed over to
    for s in sentences:
        cue = t.cues[s.cue]
        for rule in RULES:
            for said in rule(s.text):
                person = _resolve(said, people, s, sentences)
                if person is None:
                    continue
                evidence = Evidence(said.rule, person, cue.start_s, s.text)
                if said.kind == "self":
                    if s.words_before < HEAD_WORDS:
                        claims.append(Claim(s.turn, person, True, evidence))
                elif said.kind == "not_self":
                    claims.append(Claim(s.turn, person, False, evidence))
                elif said.kind == "guest_self":
                    # a guest's thanks only corroborates: ads and clips thank hosts too
                    if person in announced.get(s.turn, set()):
                        claims.append(Claim(s.turn, person, True, evidence))
                    earlier = pending_next.get(s.turn)
                    if earlier and earlier[0] == person and s.cue > earlier[1].cue:
                        implied.add(_next_cue_after(t, earlier[1], turns))
                elif said.kind == "next":
                    if s.words_after <= TAIL_WORDS and s.turn + 1 < len(turns):
                        claims.append(Claim(s.turn + 1, person, True, evidence))
                        announced.setdefault(s.turn + 1, set()).add(person)
                    elif s.words_after > TAIL_WORDS:
                        pending_next[s.turn] = (person, s, said.rule)
    return claims, {i for i in implied if i is not None}


def _next_cue_after(t: Transcript, s: Sentence, turns: list[Turn]) -> int:
    """The first cue after the one that holds sentence ``s``'s end: where its turn changes."""
    turn = turns[s.turn]
    words = len(s.text.split())
    i, seen = s.cue, 0
    while i < turn.end:
        seen += len(t.cues[i].text.split())
        i += 1
        if seen >= words:
            break
    return i


def _resolve(said: _Said, people: People, s: Sentence, sentences: list[Sentence]) -> str | None:
    """The known person a claim is about, or None (unknown, ambiguous, or no one guest)."""
    if said.heard is None:
        # "the one guest": whom this turn introduced, else the episode's one guest
        if said.kind == "guest_self":
            guest = people.sole("guest")
            return guest.name if guest else None
        for other in sentences:
            if other.turn == s.turn:
                for m in _INTRODUCES.finditer(other.text):
                    person = people.match(_trim_name(m.group("name")) or "")
                    if person:
                        return person.name
        guest = people.sole("guest")
        return guest.name if guest else None
    person = people.match(said.heard)
    return person.name if person else None


def _agreed(claims: list[Claim]) -> tuple[str | None, str]:
    """The one name the claims agree on, or None and why not."""
    yes = {c.person for c in claims if c.is_it}
    no = {c.person for c in claims if not c.is_it}
    if not yes:
        return None, ""
    if len(yes) > 1:
        return None, "claims for " + " and ".join(sorted(yes))
    (name,) = yes
    if name in no:
        return None, f"evidence both for and against {name}"
    return name, ""


def _name_labels(
    turns: list[Turn], claims: list[Claim], people: People, notes: list[str]
) -> tuple[dict[str, str], list[Evidence]]:
    """Diarization labels named by the evidence on any of their turns: {label: name}.

    A turn the transcript (or a sidecar's mapping) names keeps its name: a
    claim against it is dropped, with a note.
    """
    by_label: dict[str, list[Claim]] = {}
    for c in claims:
        turn = turns[c.turn]
        if turn.speaker is not None:
            given = people.match(turn.speaker)
            if c.is_it and (given is None or given.name != c.person):
                notes.append(f"{c.evidence.rule} at {_clock(c.evidence.time_s)} names {c.person} on a turn "
                             f"the transcript gives to {turn.speaker}: kept {turn.speaker}")
            continue
        if turn.label is not None:
            by_label.setdefault(turn.label, []).append(c)
    names: dict[str, str] = {}
    for label, cs in by_label.items():
        name, why = _agreed(cs)
        if name is None and why:
            notes.append(f"{label} left unnamed: {why}")
        elif name is not None:
            names[label] = name
    # one person, one label: a name claimed for two labels names neither
    taken: dict[str, list[str]] = {}
    for label, name in names.items():
        taken.setdefault(name, []).append(label)
    for name, labels in taken.items():
        if len(labels) > 1:
            notes.append(f"{name} left off {', '.join(labels)}: claimed for more than one label")
            for label in labels:
                del names[label]
    evidence = [c.evidence for label, cs in by_label.items() if label in names
                for c in cs if c.is_it and c.person == names[label]]
    return names, evidence


_REACTION = re.compile(
    r"^(?i:(?:(?:oh|ah|uh|um|so|and|well|yeah|yes|yep|right|okay|ok|sure|cool|nice|great|amazing|awesome|"
    r"wow|interesting|totally|exactly|absolutely|indeed|true|mhm|thank you|thanks|thank you so much|"
    r"love it|got it|makes sense|fair enough|of course|perfect|definitely)[\s,.!?…-]*)+)$"
)


def _reaction(sentence: str) -> bool:
    return bool(_REACTION.match(sentence.strip())) and len(sentence.split()) <= 4


def _name_turns(
    t: Transcript, turns: list[Turn], claims: list[Claim], people: People, notes: list[str], *, alternate: bool
) -> tuple[dict[int, tuple[str, int]], list[Evidence]]:
    """Turns named by their own evidence, then along unbroken alternation: {turn: (name, end cue)}."""
    by_turn: dict[int, list[Claim]] = {}
    for c in claims:
        by_turn.setdefault(c.turn, []).append(c)
    anchors: dict[int, str] = {}
    for k, cs in sorted(by_turn.items()):
        name, why = _agreed(cs)
        if name is not None:
            anchors[k] = name
        elif why:
            notes.append(f"turn at {_clock(t.cues[turns[k].first].start_s)} left unnamed: {why}")
    evidence = [c.evidence for k, cs in by_turn.items() if k in anchors for c in cs
                if c.is_it and c.person == anchors[k]]
    named: dict[int, str] = dict(anchors)
    carried: dict[int, tuple[str, int]] = {}
    if alternate:
        breaks = _breaks(t, turns)
        for k, name in anchors.items():
            person = people.match(name)
            if person is None or not people.one_person_side(person):
                continue
            for step in (2, -2):
                chain = _chain(k, step, name, turns, by_turn, breaks)
                for j in chain:
                    if j in named and named[j] != name:
                        notes.append(f"turn at {_clock(t.cues[turns[j].first].start_s)} left unnamed: "
                                     f"alternation gives {name}, evidence {named[j]}")
                        named[j] = ""
                    elif j not in named:
                        carried[j] = (name, k)
        for j, (name, _) in carried.items():
            if named.get(j, name) == name:
                named[j] = name
        counts: dict[str, int] = {}
        for j, (name, _) in carried.items():
            if named.get(j) == name:
                counts[name] = counts.get(name, 0) + 1
        for name, n in counts.items():
            first = min(j for j, (nm, _) in carried.items() if nm == name and named.get(j) == name)
            evidence.append(Evidence(
                "alternation", name, t.cues[turns[first].first].start_s,
                f"{n} more turns on {name}'s side while the >> marks alternate",
            ))
    longest = _longest_closed(t, turns)
    out: dict[int, tuple[str, int]] = {}
    for k, name in named.items():
        if not name:
            continue
        out[k] = (name, _named_end(t, turns, k, longest))
    return out, evidence


def _breaks(t: Transcript, turns: list[Turn]) -> set[int]:
    """Turn indexes k where the alternation may break between turn k-1 and k.

    A reaction that answers a reaction ("Nice, thank you." → "Amazing. So
    you're the author …") is a third voice; a boundary that is no mark (the
    start, an implied change) proves nothing about sides.
    """
    out = set()
    for k in range(1, len(turns)):
        if not turns[k].marked:
            out.add(k)
            continue
        before = " ".join(t.cues[i].text for i in range(turns[k - 1].first, turns[k - 1].end))
        after = " ".join(t.cues[i].text for i in range(turns[k].first, turns[k].end))
        first_after = _SENTENCE_END.split(after.strip(), maxsplit=1)[0]
        if _reaction(before) and _reaction(first_after):
            out.add(k)
    return out


def _chain(
    anchor: int, step: int, name: str, turns: list[Turn], by_turn: dict[int, list[Claim]], breaks: set[int]
) -> list[int]:
    """The same-side turns ``anchor±2, ±4, …`` that ``name`` carries to; [] when the chain meets a
    contradiction (the alternation broke somewhere before it, and where is unknown)."""
    out: list[int] = []
    k = anchor
    while 0 <= k + step < len(turns):
        lo, hi = sorted((k, k + step))
        if any(b in breaks for b in range(lo + 1, hi + 1)):
            break
        other = (k + k + step) // 2
        if any(c.is_it and c.person == name for c in by_turn.get(other, [])):
            return []
        nxt = k + step
        cs = by_turn.get(nxt, [])
        if any((not c.is_it and c.person == name) or (c.is_it and c.person != name) for c in cs):
            return []
        out.append(nxt)
        k = nxt
    return out


def _longest_closed(t: Transcript, turns: list[Turn]) -> float:
    """The longest turn (seconds) that marks open and close: how long a marked turn runs here."""
    best = 0.0
    for k in range(len(turns) - 1):
        if turns[k].marked and turns[k + 1].marked:
            start, end = t.cues[turns[k].first].start_s, t.cues[turns[k + 1].first].start_s
            if start is not None and end is not None:
                best = max(best, end - start)
    return best


def _named_end(t: Transcript, turns: list[Turn], k: int, longest: float) -> int:
    """Where turn k's name ends: the turn's end, or for the open turn where the marks stop, the
    cues within ``longest`` seconds of its start."""
    turn = turns[k]
    if k + 1 < len(turns):
        return turn.end
    start = t.cues[turn.first].start_s
    if start is None:
        return turn.first + 1
    i = turn.first + 1
    while i < turn.end and (t.cues[i].start_s or start) - start < longest:
        i += 1
    return i


def _interview(
    t: Transcript, turns: list[Turn], hosts: list[str], guests: list[str], notes: list[str]
) -> tuple[dict[int, tuple[str, int]], list[Evidence]]:
    """The interview rule's sides, with the alternation's care: named up to the first break (a
    reaction answering a reaction: a missed mark), the open last turn only for its head."""
    interviewed, decision = interview_rule(t, hosts, guests)
    notes.append(f"turns {decision}")
    if interviewed is t:
        return {}, []
    stop = min(_breaks(t, turns), default=len(turns))
    if stop < len(turns):
        notes.append(f"the interview rule stops at {_clock(t.cues[turns[stop].first].start_s)}: "
                     "the alternation may break there")
    longest = _longest_closed(t, turns)
    named = {k: (interviewed.cues[turns[k].first].speaker or "", _named_end(t, turns, k, longest))
             for k in range(stop)}
    evidence = [Evidence("interview", name, t.cues[0].start_s,
                         f"the sidecar's one host and one guest; {decision}") for name in (hosts[0], guests[0])]
    return named, evidence


def interview_rule(t: Transcript, hosts: list[str], guests: list[str]) -> tuple[Transcript, str]:
    """Name unnamed turns from a sidecar's one host and one guest, when the evidence is clear.

    The rule: in an interview, the side that asks the questions is the host.
    Turns alternate between the two sides; the side whose turns end in a
    question mark at least three times as often as the other's is the host.
    Otherwise nothing is named. Returns the transcript and what was decided.
    """
    if len(hosts) != 1 or len(guests) != 1:
        return t, "not named: the sidecar must list exactly one host and one guest"
    if any(c.speaker for c in t.cues):
        return t, "not named: the source names its speakers"
    turns: list[list[int]] = []
    for i, c in enumerate(t.cues):
        if c.turn or not turns:
            turns.append([])
        turns[-1].append(i)
    if len(turns) < 6:
        return t, "not named: too few turns"
    questions = [0, 0]
    for n, members in enumerate(turns):
        questions[n % 2] += t.cues[members[-1]].text.rstrip().endswith("?")
    host_side = (
        0 if questions[0] >= 3 * max(1, questions[1]) else 1 if questions[1] >= 3 * max(1, questions[0]) else None
    )
    if host_side is None:
        return t, f"not named: questions do not fall on one side ({questions[0]} vs {questions[1]})"
    cues = list(t.cues)
    for n, members in enumerate(turns):
        name = hosts[0] if n % 2 == host_side else guests[0]
        for i in members:
            cues[i] = replace(cues[i], speaker=name)
    return replace(t, cues=cues), f"named by the interview rule ({questions[host_side]} questions on the host's side)"
