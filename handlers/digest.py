"""The daily digest's Slack side: ``/quote digest …``, what a digest holds, and its card.

Storage and scheduling are the bot's (``Digests``); this module parses what users type, picks the
quotes, and builds the message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from rapidfuzz import fuzz, process

from index.markup import plain_text
from index.model import Segment
from index.query import Query, QueryError, parse_query
from index.search import EpisodeInfo, Hit
from index.text import format_clock
from index.tokens import fold
from index.understand import Understanding

from . import cards, quality
from .answers import Subcommand

log = logging.getLogger("quotebot.digest")

DEFAULT_TIME = dt.time(9, 0)
NO_REPEAT_DAYS = 30
NEW_LIMIT = 5  # new episodes shown; more are counted
DIGEST_QUOTE_LIMIT = 700  # a digest quote is shorter than a /quote card's
EVENT_TYPE = "quotebot_digest"  # the message metadata that marks a digest post

USAGE = (
    "*Daily digest*\n"
    "• `/quote digest subscribe [HH:MM] [Area/City] [topics…] [--weekends]`: a digest in this channel, "
    "by default at 09:00 in your time zone, on weekdays\n"
    "   e.g. `/quote digest subscribe 08:30 Europe/Paris export controls`\n"
    "• `/quote digest unsubscribe`: stop it\n"
    "• `/quote digest list`: this workspace's digests\n"
    "• `/quote digest preview`: today's digest for this channel, shown only to you"
)


class DigestInputError(ValueError):
    """A bad subscribe line; the message shows the expected form."""


@dataclass(frozen=True)
class Subscription:
    team_id: str
    channel_id: str
    post_at: dt.time = DEFAULT_TIME
    tz: str = "UTC"
    topics: str = ""
    weekends: bool = False
    created_by: str = ""
    created_at: dt.datetime | None = None

    def describe(self) -> str:
        """``09:00 Europe/Paris, weekdays, topics: `chips```, escaped for mrkdwn."""
        days = "every day" if self.weekends else "weekdays"
        about = f"topics: `{cards.escape(self.topics)}`" if self.topics else "no topics (a strong quote of the day)"
        return f"{self.post_at:%H:%M} {self.tz}, {days}, {about}"


@dataclass(frozen=True)
class Request:
    """A parsed ``subscribe`` line; None where the user left the default."""

    post_at: dt.time | None = None
    tz: str | None = None
    topics: str = ""
    weekends: bool = False
    notes: tuple[str, ...] = ()  # what was read differently from how it was typed (an abbreviation)


@dataclass
class Digest:
    day: dt.date
    topics: str
    quote: Hit | None  # the quote of the day
    new: list[tuple[EpisodeInfo, Hit | None]]  # new episodes, each with its best quote
    more: int = 0  # new episodes not shown
    schedule: Subscription | None = None  # when the channel gets it (the footer says)

    @property
    def keys(self) -> list[str]:
        hits = [self.quote] + [hit for _, hit in self.new]
        return [quote_key(h) for h in hits if h is not None]


class DigestQuotes(Protocol):
    """What a digest asks of the library."""

    def search(self, query: Query | str, limit: int = 10) -> list[Hit]: ...

    def understand(self, text: str) -> Understanding: ...

    def episodes(self) -> list[EpisodeInfo]: ...

    def new_episodes(self, since: dt.datetime, until: dt.datetime) -> list[EpisodeInfo]: ...

    def strongest(self, episode_id: str, limit: int = 5) -> list[Hit]: ...

    def context(self, segment_id: int, before: int = 1, after: int = 1) -> list[Segment]: ...


class Digests(Protocol):
    """What ``/quote digest`` asks of the bot: subscriptions and a preview."""

    def subscribe(self, sub: Subscription) -> bool: ...

    def unsubscribe(self, team_id: str, channel_id: str) -> bool: ...

    def subscription(self, team_id: str, channel_id: str) -> Subscription | None: ...

    def subscriptions(self, team_id: str | None = None) -> list[Subscription]: ...

    def preview(self, sub: Subscription) -> Digest | None:
        """Today's digest for ``sub``, as it would be posted now (nothing is claimed or recorded)."""


# --- parsing what users type ------------------------------------------------------------------

_TOKEN = re.compile(r'\S*"[^"]*"\S*|\S+')
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_CLOCKISH = re.compile(r"^\d{1,2}([:.h]\d{0,2})?\s*(am|pm|a\.m\.|p\.m\.)?$", re.I)


def parse_time(text: str) -> dt.time:
    match = _CLOCK.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise DigestInputError(f"Bad time `{cards.escape(text)}`: use 24-hour HH:MM, like `09:00` or `17:30`.")


def parse_zone(text: str) -> str:
    """An IANA time zone name, checked against the time zone database (any letter case).

    Raises DigestInputError naming the nearest zones (by spelling) when ``text`` is not one."""
    if text.upper() in _UTC_NAMES:
        return "UTC"
    known = _zones().get(text.lower())
    if known and "/" in known:
        return known
    guess = process.extractOne(text, _zones().values(), scorer=fuzz.ratio, score_cutoff=80)
    if guess:
        hint = f" Did you mean `{guess[0]}`?"
    else:
        near = [z for z, _, _ in process.extract(text, _city_zones(), scorer=fuzz.WRatio, limit=3)]
        hint = " Nearest zones: " + ", ".join(f"`{z}`" for z in near) + "."
    raise DigestInputError(
        f"Unknown time zone `{cards.escape(text)}`: use an IANA name like `Europe/Paris`, "
        f"`America/New_York` or `UTC`.{hint}"
    )


# Time zone abbreviations people type, from the abbreviations the tz database itself uses
# (tzdata's ``%z``/``%Z`` names). One that names one region's clock is taken as a zone of that
# region that follows the same summer time; one that several regions use is refused with the
# zones it may mean.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "PST": ("America/Los_Angeles",), "PDT": ("America/Los_Angeles",),
    "EST": ("America/New_York",), "EDT": ("America/New_York",),
    "CDT": ("America/Chicago",), "MDT": ("America/Denver",),
    "AKST": ("America/Anchorage",), "AKDT": ("America/Anchorage",), "HST": ("Pacific/Honolulu",),
    "CET": ("Europe/Paris",), "CEST": ("Europe/Paris",), "MET": ("Europe/Paris",),
    "EET": ("Europe/Athens",), "EEST": ("Europe/Athens",),
    "WET": ("Europe/Lisbon",), "WEST": ("Europe/Lisbon",),
    "MSK": ("Europe/Moscow",), "JST": ("Asia/Tokyo",), "KST": ("Asia/Seoul",), "HKT": ("Asia/Hong_Kong",),
    "SGT": ("Asia/Singapore",), "AEST": ("Australia/Sydney",), "AEDT": ("Australia/Sydney",),
    "NZST": ("Pacific/Auckland",), "NZDT": ("Pacific/Auckland",),
    # several regions: refused with what each may mean
    "CST": ("America/Chicago", "Asia/Shanghai", "America/Havana"),
    "MST": ("America/Denver", "America/Phoenix"),
    "IST": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "BST": ("Europe/London", "Asia/Dhaka"),
    "AST": ("America/Halifax", "Asia/Riyadh"),
}


def parse_abbreviation(text: str) -> tuple[str, str]:
    """The zone a time zone abbreviation (``PST``, ``CET``) stands for, and a note saying so.

    Raises DigestInputError with the zones it may mean when several regions use it."""
    zones = ABBREVIATIONS[text.upper()]
    if len(zones) > 1:
        options = " or ".join(f"`{z}`" for z in zones)
        raise DigestInputError(
            f"`{cards.escape(text)}` is used by several time zones: type the one you mean, e.g. {options}.")
    return zones[0], f"`{text.upper()}` taken as `{zones[0]}` (with its summer time)."


# Area/City, each part capitalised (``Mars/Olympus``): meant as a zone, not a topic like ``AI/ML``.
_AREA_CITY = re.compile(r"^[A-Z][a-z]+(?:[_-][A-Za-z][a-z]*)*(?:/[A-Z][A-Za-z]*(?:[_-][A-Za-z0-9]+)*)+$")


def _zoneish(token: str) -> bool:
    """Meant as a time zone: UTC, a zone's name, Area/City-shaped (``Mars/Olympus``), or Area/… with a
    known area or nearly (``eurpoe/paris``); a topic like ``AI/ML`` is not."""
    if token.upper() in _UTC_NAMES or (token.lower() in _zones() and "/" in token):
        return True
    area, slash, _ = token.partition("/")
    if not slash or '"' in token or ":" in token:
        return False
    if _AREA_CITY.match(token):
        return True
    return process.extractOne(area.lower(), _areas(), scorer=fuzz.ratio, score_cutoff=80) is not None


_UTC_NAMES = ("UTC", "GMT", "Z")


@cache
def _zones() -> dict[str, str]:
    """The time zone database's names, by their lower case."""
    return {z.lower(): z for z in zoneinfo.available_timezones() | {"UTC"}}


@cache
def _city_zones() -> tuple[str, ...]:
    """The Area/City names (what a suggestion offers), without the legacy ``Etc/`` and ``SystemV`` ones."""
    return tuple(sorted(z for z in _zones().values() if "/" in z and not z.startswith(("Etc/", "SystemV/"))))


@cache
def _areas() -> frozenset[str]:
    """The first parts of the zone names (``europe``, ``america``, …), lower case."""
    return frozenset(z.split("/")[0] for z in _zones() if "/" in z)


def parse_subscribe(text: str) -> Request:
    """``[HH:MM] [Area/City] [topics…] [--weekends]``, in any order; topics are a /quote query."""
    post_at = tz = None
    weekends = False
    topics = []
    notes: list[str] = []
    for token in _TOKEN.findall(text):
        if token.lower() == "--weekends":
            weekends = True
        elif token.startswith("--"):
            raise DigestInputError(f"Unknown option `{cards.escape(token)}`: the only option is `--weekends`.")
        elif post_at is None and _CLOCKISH.match(token):
            post_at = parse_time(token)
        elif _zoneish(token) or (token.isupper() and token in ABBREVIATIONS):
            if tz is not None:
                raise DigestInputError(f"Two time zones, `{tz}` and `{cards.escape(token)}`: give one.")
            if token in ABBREVIATIONS:
                tz, note = parse_abbreviation(token)
                notes.append(note)
            else:
                tz = parse_zone(token)
        else:
            topics.append(token)
    query = " ".join(topics)
    if query:
        try:
            parse_query(plain_text(query))
        except QueryError as exc:
            raise DigestInputError(f"Bad topics: {cards.escape(str(exc))}") from None
    return Request(post_at=post_at, tz=tz, topics=query, weekends=weekends, notes=tuple(notes))


# --- what a digest holds ----------------------------------------------------------------------

def quote_key(hit: Hit) -> str:
    """A quote's identity across index rebuilds: its episode and its folded words."""
    words = " ".join(fold(hit.text).split()).encode()
    digest = hashlib.sha1(words, usedforsecurity=False).hexdigest()[:20]  # an identity, not a secret
    return f"{hit.episode_id[:90]}:{digest}"


def compose(quotes: DigestQuotes, topics: str, day: dt.date, since: dt.datetime, now: dt.datetime,
            seen: set[str], schedule: Subscription | None = None) -> Digest | None:
    """The digest for ``day``, or None when there is nothing to post.

    Quote of the day: the best match for ``topics`` (or, without topics, the strongest quote of
    an episode picked by the date), never one in ``seen``. New this week: the episodes stored
    after ``since`` (and by ``now``), each with its best quote for the topics, else its strongest.
    Every quote passes ``quality.Picks``: no profanity, no two neighbouring segments of one episode.
    ``schedule`` is the subscription the footer describes.
    """
    query = quotes.understand(topics).query if topics else None  # as /quote reads it: one understanding
    picks = quality.Picks(quotes, quote_key, seen)
    quote = picks.first(quotes.search(topics, limit=50) if topics else _library_hits(quotes, day))
    fresh = quotes.new_episodes(since, now)
    new = [(episode, picks.first(_episode_hits(quotes, query, episode.id))) for episode in fresh[:NEW_LIMIT]]
    if quote is None and not new:
        return None
    return Digest(day=day, topics=topics, quote=quote, new=new, more=max(0, len(fresh) - NEW_LIMIT),
                  schedule=schedule)


def _library_hits(quotes: DigestQuotes, day: dt.date) -> Iterator[Hit]:
    """Strong quotes, starting from a different episode each day."""
    episodes = quotes.episodes()
    if not episodes:
        return
    start = day.toordinal() % len(episodes)
    for episode in episodes[start:] + episodes[:start]:
        yield from quotes.strongest(episode.id, limit=NO_REPEAT_DAYS + 5)


def _episode_hits(quotes: DigestQuotes, query: Query | None, episode_id: str) -> Iterator[Hit]:
    if query is not None:
        try:
            narrowed = dataclasses.replace(query, episode=episode_id)
            yield from (h for h in quotes.search(narrowed, limit=10) if h.episode_id == episode_id)
        except QueryError:
            pass
    yield from quotes.strongest(episode_id, limit=10)


# --- the card ---------------------------------------------------------------------------------

def digest_message(d: Digest) -> dict:
    """The digest as a message: header, quote of the day, new episodes; escaped, inside Slack's limits."""
    header = {"type": "plain_text", "text": f"Quotebot digest · {_date(d.day)}"}
    blocks: list[dict] = [{"type": "header", "text": header}]
    if d.topics:
        blocks.append(_context(f"Topics: `{cards.escape(cards.cut(d.topics, 200))}`"))
    if d.quote is not None:
        blocks.append(_heading("Quote of the day"))
        blocks.extend(quote_card(d.quote))
    if d.new:
        blocks.append({"type": "divider"})
        blocks.append(_heading("New this week"))
        for episode, hit in d.new:
            blocks.append(episode_line(episode))
            if hit is not None:
                blocks.extend(quote_card(hit, with_episode=False))
        if d.more:
            blocks.append(_context(f"…and {d.more} more new episodes. `/quote episode:NAME` searches one."))
    blocks.append(_context(footer(d.schedule)))
    return {"text": _fallback(d), "blocks": blocks}


def footer(sub: Subscription | None) -> str:
    """The footer: when the channel gets its digest ("<#C1> gets a digest at 18:30 (Europe/Paris), Monday to
    Friday."), or that a preview's channel has none."""
    if sub is None:
        return "A preview: this channel has no digest. `/quote digest subscribe` starts one."
    days = "every day" if sub.weekends else "Monday to Friday"
    return (f"<#{cards.slack_id(sub.channel_id)}> gets a digest at {sub.post_at:%H:%M} ({sub.tz}), {days}. "
            "`/quote digest unsubscribe` stops it.")


def _date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _heading(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cards.cut(text, 2000)}]}


def quote_card(hit: Hit, *, with_episode: bool = True) -> list[dict]:
    """A quote in a post that holds several (a digest, an alert): the card without block ids, with
    its "Open at" and "Episode" links."""
    # block ids must be unique in a message, and a digest holds several cards
    blocks = [{k: v for k, v in b.items() if k != "block_id"}
              for b in cards.quote_blocks(hit, limit=DIGEST_QUOTE_LIMIT)]
    links = []
    link = cards.safe_url(hit.url)
    if link and hit.start_s is not None:
        links.append(cards.button(f"Open at {format_clock(hit.start_s)}", cards.OPEN, url=link))
    episode_link = cards.safe_url(hit.episode_url)
    if with_episode and episode_link:
        links.append(cards.button("Episode", cards.EPISODE, url=episode_link))
    if links:
        blocks.append({"type": "actions", "elements": links})
    return blocks


def episode_line(episode: EpisodeInfo) -> dict:
    """An episode's title (linked) and podcast, as one section."""
    title = cards.escape(cards.cut(episode.title or episode.id, 200))
    link = cards.safe_url(episode.url)
    name = f"<{link}|{title}>" if link else title
    podcast = f" · {cards.escape(cards.cut(episode.podcast, 150))}" if episode.podcast else ""
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"*{name}*{podcast}", "verbatim": True}}


def _fallback(d: Digest) -> str:
    parts = [f"Quotebot digest for {_date(d.day)}"]
    if d.quote is not None:
        who = d.quote.who or "Unknown speaker"
        parts.append(f"“{cards.cut(d.quote.text, 300)}” — {who}")
    if d.new:
        parts.append(f"{len(d.new) + d.more} new episode{'s' if len(d.new) + d.more > 1 else ''}")
    return cards.escape(": ".join(parts[:2]) + (" · " + parts[2] if len(parts) > 2 else ""))


# --- the /quote digest subcommands ------------------------------------------------------------

def handle(digests: Digests, text: str, body: dict, respond: Callable, user_tz: Callable[[str], str | None],
           changed: Callable[[str, str], None] = lambda team, user: None) -> None:
    """Answer ``/quote digest <text>`` ephemerally; ``changed(team, user)`` after a change (App Home refresh)."""
    command = Subcommand.read(text, body, respond)
    verb, rest, team, channel, user, say = command

    if verb == "subscribe":
        try:
            request = parse_subscribe(rest)
        except DigestInputError as exc:
            say(f"{exc}\n\n{USAGE}")
            return
        sub = Subscription(
            team_id=team, channel_id=channel, post_at=request.post_at or DEFAULT_TIME,
            tz=request.tz or _known_zone(user_tz(user)) or "UTC", topics=request.topics,
            weekends=request.weekends, created_by=user,
        )
        new = digests.subscribe(sub)
        what = "Subscribed" if new else "Updated the subscription of"
        notes = "".join(f"{n}\n" for n in request.notes)
        say(f"{what} <#{cards.slack_id(channel)}>: a digest at {sub.describe()}.\n{notes}"
            "`/quote digest preview` shows today's; `/quote digest unsubscribe` stops it. "
            "In a private channel, invite me first: `/invite @quotebot`.")
        changed(team, user)
    elif verb == "unsubscribe":
        if digests.unsubscribe(team, channel):
            say(f"Unsubscribed <#{cards.slack_id(channel)}>: no more digests here.")
            changed(team, user)
        else:
            say("This channel has no digest. `/quote digest subscribe` starts one.")
    elif verb == "list":
        subs = digests.subscriptions(team)
        if not subs:
            say("No channel in this workspace has a digest. `/quote digest subscribe` starts one here.")
            return
        lines = [f"• <#{cards.slack_id(s.channel_id)}>{' (here)' if s.channel_id == channel else ''}: {s.describe()}"
                 for s in subs]
        say(cards.cut("*Digests in this workspace*\n" + "\n".join(lines), cards.SECTION_LIMIT))
    elif verb == "preview":
        subscribed = digests.subscription(team, channel)
        sub = subscribed or Subscription(team, channel, tz=_known_zone(user_tz(user)) or "UTC")
        digest = digests.preview(sub)
        if digest is None:
            say("Nothing to post today: no new episodes and no quote this channel has not had in "
                f"{NO_REPEAT_DAYS} days{' for its topics' if sub.topics else ''}. An empty digest is not posted.")
            return
        respond(response_type="ephemeral", **digest_message(dataclasses.replace(digest, schedule=subscribed)))
    else:
        command.help("digest", USAGE)


def _known_zone(name: str | None) -> str | None:
    return name if name and _zones().get(name.lower()) == name else None
