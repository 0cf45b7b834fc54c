"""The data that flows through ingestion: parsed transcripts and their segments."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields

from .labels import display_name


@dataclass
class Cue:
    """One unit of text as a source gives it: a caption line, a paragraph, a snippet.

    Parsers emit cues in source order. Times are seconds from the start of the
    recording, or None when the source has none. ``speaker`` is None unless the
    source names the speaker (a page's person is never a speaker). ``label``
    is the source's diarization label (``SPEAKER_00``, ``spk_1``, ``A``, ``0``)
    where it tells voices apart without naming them: kept as the source wrote
    it, so that a sidecar or speaker inference can name it (they set
    ``speaker`` and keep ``label``); cards show an unnamed label as "Speaker 1"
    (``index.labels.label_name``). ``turn`` is True where a new speaker turn
    starts (``>>``, a speaker heading, a voice tag that changes), whether or
    not the speaker is named. ``line`` is the 1-based source line.
    """

    text: str
    start_s: float | None = None
    end_s: float | None = None
    speaker: str | None = None
    turn: bool = False
    translation: str | None = None
    line: int | None = None
    label: str | None = None

    @property
    def voice(self) -> tuple[str | None, str | None]:
        """(speaker, label): two cues with the same voice are the same speaker."""
        return self.speaker, self.label


def speakers_in(cues: list[Cue]) -> list[str]:
    """The named speakers of ``cues``, in order of first appearance."""
    return list(dict.fromkeys(c.speaker for c in cues if c.speaker))


@dataclass
class Chapter:
    start_s: float
    title: str


@dataclass
class Transcript:
    """What a parser returns: metadata plus cues, before segmentation."""

    format: str
    cues: list[Cue] = field(default_factory=list)
    title: str | None = None
    podcast: str | None = None
    url: str | None = None
    published: dt.date | None = None
    duration_s: float | None = None
    chapters: list[Chapter] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    # Time anchors a source states outside its cue times, e.g. 003's
    # "[inaudible 01:14:37]": (cue index, seconds, words of the cue before it).
    anchors: list[tuple[int, float, int]] = field(default_factory=list)
    # True when cues are separate passages (a page of snippets): a segment
    # never joins two cues.
    separate_cues: bool = False
    # From a sidecar: who hosts and who guests, for naming unnamed turns.
    hosts: list[str] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        # Field by field: dataclasses.asdict deep-copies every cue (2.6 s for 20k cues).
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["cues"] = [dict(vars(c)) for c in self.cues]
        data["chapters"] = [dict(vars(c)) for c in self.chapters]
        data["anchors"] = [list(a) for a in self.anchors]
        for name in ("speakers", "hosts", "guests", "warnings"):
            data[name] = list(data[name])
        data["published"] = self.published.isoformat() if self.published else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        data = json.loads(text)
        data["cues"] = [Cue(**c) for c in data["cues"]]
        data["chapters"] = [Chapter(**c) for c in data["chapters"]]
        data["anchors"] = [tuple(a) for a in data["anchors"]]
        data["published"] = dt.date.fromisoformat(data["published"]) if data["published"] else None
        return cls(**data)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Segment:
    """One quote: whole sentences, about 15 to 60 words.

    ``speaker`` is a named person; ``speaker_label`` the source's diarization
    label when no name is known (see ``Cue.label``); ``who`` is what a card shows.
    """

    episode_id: str
    seq: int
    text: str
    start_s: float | None = None
    end_s: float | None = None
    speaker: str | None = None
    translation: str | None = None
    chapter: str | None = None
    url: str | None = None
    id: int | None = None  # the stored row's id, once stored
    speaker_label: str | None = None

    @property
    def who(self) -> str | None:
        """The named speaker, else the diarization label as "Speaker N", else None."""
        return display_name(self.speaker, self.speaker_label)
