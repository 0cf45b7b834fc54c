"""The daily digest, end to end with a controlled clock: /quote digest over signed HTTP, the
scheduler's ticks, exactly-once claims on SQLite and PostgreSQL, all posting to the local Slack
Web API server."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
from slack_sdk import WebClient

from bot.app import build_app, web_client
from bot.digests import DONE, EMPTY, FAILED, DigestStore
from bot.events import EventLog
from bot.localslack import LocalSlack
from bot.schedule import GRACE, LEASE, Digester, Scheduler, due_at, due_day
from bot.serve import http_server
from bot.settings import Settings
from handlers.digest import (
    EVENT_TYPE,
    Digest,
    Request,
    Subscription,
    digest_message,
    parse_subscribe,
    quote_key,
)
from index.ingest import ingest
from index.search import EpisodeInfo, Hit, Library
from index.store import Store

from .blockkit import valid_message
from .conftest import SAMPLES, seed
from .test_slack import command as slack_command

SECRET = "digest-signing-secret"
UTC = dt.UTC


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("digest-library")
    # the library was stored long before the clocks these tests set, so nothing in it is "new"
    store = Store(f"sqlite:///{root / 'lib.db'}", clock=lambda: dt.datetime(2020, 1, 1, tzinfo=UTC))
    assert all(r.ok for r in ingest([str(SAMPLES)], store))
    return Library.open(store, root / "index")


@pytest.fixture
def slack():
    with LocalSlack() as server:
        yield server


def digester(url: str, library, slack: LocalSlack, clock: Clock, owner: str | None = None) -> Digester:
    """A bot process's digest side: its own connection pool, its own owner id."""
    settings = Settings(SLACK_BOT_TOKEN="xoxb-digest", SLACK_API_URL=slack.base_url)
    client = web_client(settings)
    return Digester(DigestStore(Store(url).engine), library, lambda team: client, clock=clock, owner=owner)


def posts(slack: LocalSlack, channel: str | None = None) -> list[dict]:
    """The digests that reached Slack (successful chat.postMessage calls), each checked with slack_sdk's
    Block Kit models."""
    return [valid_message(c.body) for c in slack.calls("chat.postMessage")
            if c.status == 200 and c.response.get("ok") and channel in (None, c.body.get("channel"))]


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- when a digest is due ----------------------------------------------------------------------

def test_due_times_follow_the_local_clock_across_dst():
    ny = Subscription("T", "C", dt.time(9, 0), "America/New_York", weekends=True)
    assert due_at(ny, dt.date(2026, 3, 7)) == utc(2026, 3, 7, 14, 0)  # EST, UTC-5
    assert due_at(ny, dt.date(2026, 3, 8)) == utc(2026, 3, 8, 13, 0)  # EDT from 02:00 that day
    gap = Subscription("T", "C", dt.time(2, 30), "America/New_York", weekends=True)
    assert due_at(gap, dt.date(2026, 3, 8)) == utc(2026, 3, 8, 7, 30)  # 02:30 does not exist: 03:30 EDT
    twice = Subscription("T", "C", dt.time(1, 30), "America/New_York", weekends=True)
    assert due_at(twice, dt.date(2026, 11, 1)) == utc(2026, 11, 1, 5, 30)  # the first 01:30 (EDT)
    # the grace window ends at local midnight: yesterday's digest is never due today
    late = Subscription("T", "C", dt.time(22, 0), "Europe/Paris", weekends=True)
    assert due_day(late, utc(2026, 6, 1, 21, 59)) == dt.date(2026, 6, 1)  # 23:59 in Paris
    assert due_day(late, utc(2026, 6, 1, 22, 0)) is None  # 00:00 the next day
    weekday = Subscription("T", "C", dt.time(9, 0), "UTC")
    assert due_day(weekday, utc(2026, 11, 28, 9, 0)) is None  # a Saturday
    assert due_day(weekday, utc(2026, 11, 30, 9, 0)) == dt.date(2026, 11, 30)


@pytest.mark.parametrize(("tz", "start", "days", "when"), [
    ("America/New_York", dt.date(2026, 3, 6), 4, dt.time(9, 0)),  # spring forward on Sunday 8 March
    ("America/New_York", dt.date(2026, 3, 7), 3, dt.time(2, 30)),  # a time that does not exist that day
    ("America/New_York", dt.date(2026, 10, 31), 3, dt.time(1, 30)),  # fall back: 01:30 happens twice
    ("Europe/London", dt.date(2026, 10, 24), 3, dt.time(9, 0)),
])
def test_a_dst_change_neither_skips_nor_doubles_a_day(tmp_path, library, slack, tz, start, days, when):
    zone_start = dt.datetime.combine(start, dt.time(0), tzinfo=__import__("zoneinfo").ZoneInfo(tz))
    clock = Clock(zone_start.astimezone(UTC))
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "CDST", when, tz, weekends=True, created_by="U1"))
    scheduler = Scheduler(d)
    posted_at = []
    end = clock.now + dt.timedelta(days=days)
    while clock.now < end:  # a tick every 10 minutes, through the change
        for outcome in scheduler.tick():
            if outcome.status == "posted":
                posted_at.append((outcome.day, clock.now))
        clock.now += dt.timedelta(minutes=10)
    assert [day for day, _ in posted_at] == [start + dt.timedelta(days=i) for i in range(days)]
    for day, moment in posted_at:  # each at its local time (or as soon after as the gap allows)
        assert moment == due_at(Subscription("T1", "CDST", when, tz), day)
    assert len(posts(slack, "CDST")) == days


# --- subscribing over Slack ----------------------------------------------------------------------

@pytest.fixture
def bot(tmp_path, library, slack):
    """The app over real HTTP, with digests on SQLite, and a clock the test sets."""
    clock = Clock(utc(2026, 11, 23, 6, 0))  # a Monday
    settings = Settings(SLACK_BOT_TOKEN="xoxb-digest", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
    client = web_client(settings)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    d = Digester(DigestStore(Store(url).engine), library, lambda team: client, clock=clock)
    app = build_app(settings, library, EventLog(Store(url).engine), client=client, digests=d)
    server = http_server(app, library, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", d, clock
    server.shutdown()
    server.server_close()


def command(url: str, slack: LocalSlack, text: str, channel: str = "C123") -> dict:
    return slack_command(url, slack, text, channel=channel, secret=SECRET)


def test_subscribe_then_the_posts_come_due(bot, slack):
    url, d, clock = bot
    slack.user_tz["U123"] = "Europe/Paris"
    answer = command(url, slack, "digest subscribe export controls")
    assert answer["response_type"] == "ephemeral"
    assert "09:00 Europe/Paris, weekdays, topics: `export controls`" in answer["text"]  # the user's zone
    sub = d.subscription("T0LOCAL", "C123")
    assert (sub.post_at, sub.tz, sub.topics, sub.weekends) == (dt.time(9), "Europe/Paris", "export controls", False)

    scheduler = Scheduler(d)
    clock.now = utc(2026, 11, 23, 7, 59)  # 08:59 in Paris
    assert scheduler.tick() == [] and posts(slack) == []
    clock.now = utc(2026, 11, 23, 8, 0)
    [outcome] = scheduler.tick()
    assert outcome.status == "posted" and outcome.day == dt.date(2026, 11, 23)
    [post] = posts(slack)
    assert post["channel"] == "C123" and post["metadata"]["event_type"] == EVENT_TYPE
    assert post["blocks"][0]["text"]["text"] == "Quotebot digest · Monday 23 November 2026"
    text = json.dumps(post["blocks"])
    assert "Quote of the day" in text and "*export*" in text and "*controls*" in text  # the topic, in bold
    assert "Open at" in text and "Episode" in text  # the moment and the episode are links
    assert "export controls" in post["text"].lower() or "“" in post["text"]  # a text fallback
    clock.now += dt.timedelta(minutes=1)
    assert [o.status for o in scheduler.tick()] == ["already"] and len(posts(slack)) == 1

    # the next morning posts again, a different quote; the weekend is skipped
    clock.now = utc(2026, 11, 24, 8, 0)
    assert [o.status for o in scheduler.tick()] == ["posted"]
    first, second = posts(slack)
    assert first["blocks"][3] != second["blocks"][3]
    for saturday_tick in (utc(2026, 11, 28, 8, 0), utc(2026, 11, 28, 12, 0)):
        clock.now = saturday_tick
        assert scheduler.tick() == []
    assert len(posts(slack)) == 2


def test_list_preview_and_unsubscribe(bot, slack):
    url, d, _ = bot
    assert "No channel in this workspace has a digest" in command(url, slack, "digest list")["text"]
    command(url, slack, "digest subscribe 07:15 America/New_York --weekends", channel="C1")
    command(url, slack, 'digest subscribe 18:00 UTC speaker:"Lex Fridman" chips', channel="C2")
    listed = command(url, slack, "digest list", channel="C2")["text"]
    assert "<#C1>: 07:15 America/New_York, every day, no topics" in listed
    assert '<#C2> (here): 18:00 UTC, weekdays, topics: `speaker:"Lex Fridman" chips`' in listed

    preview = command(url, slack, "digest preview", channel="C2")
    assert preview["response_type"] == "ephemeral" and preview["blocks"][0]["type"] == "header"
    assert "Lex Fridman" in json.dumps(preview["blocks"])
    assert posts(slack) == [] and d.store.claim_of("T0LOCAL", "C2", dt.date(2026, 11, 23)) is None  # nothing claimed

    changed = command(url, slack, "digest subscribe 08:00 UTC", channel="C1")["text"]
    assert changed.startswith("Updated the subscription of <#C1>: a digest at 08:00 UTC, weekdays")
    assert "Unsubscribed <#C1>" in command(url, slack, "digest unsubscribe", channel="C1")["text"]
    assert "This channel has no digest" in command(url, slack, "digest unsubscribe", channel="C1")["text"]
    assert [s.channel_id for s in d.subscriptions()] == ["C2"]


@pytest.mark.parametrize(("line", "expected"), [
    ("digest subscribe 25:00", "Bad time `25:00`: use 24-hour HH:MM, like `09:00` or `17:30`."),
    ("digest subscribe 9am chips", "Bad time `9am`: use 24-hour HH:MM"),
    ("digest subscribe 08:00 Europe/Pariss",
     "Unknown time zone `Europe/Pariss`: use an IANA name like `Europe/Paris`, `America/New_York` or `UTC`. "
     "Did you mean `Europe/Paris`?"),
    ("digest subscribe America/New_Yrok chips", "Did you mean `America/New_York`?"),
    ("digest subscribe --weekend", "Unknown option `--weekend`: the only option is `--weekends`."),
    ('digest subscribe "export controls', "Bad topics: unclosed quote"),
    ("digest subscribe chips speaker:a speaker:b", "Bad topics:"),
    ("digest subscribe <!channel> 08:00 Europe/<!here>", "Unknown time zone `Europe/&lt;!here&gt;`"),
    ("digest subscribe Eurpoe/Paris", "Unknown time zone `Eurpoe/Paris`"),
    ("digest sbuscribe", "Unknown digest command `sbuscribe`"),
])
def test_bad_input_gets_a_message_with_the_expected_form(bot, slack, line, expected):
    url, d, _ = bot
    answer = command(url, slack, line)
    assert answer["response_type"] == "ephemeral"
    assert expected in answer["text"]
    assert "/quote digest subscribe [HH:MM] [Area/City] [topics…] [--weekends]" in answer["text"]
    assert "<!" not in answer["text"]
    assert d.subscriptions() == []  # nothing stored


def test_a_topic_with_a_slash_is_not_a_time_zone():
    request = parse_subscribe("AI/ML asia/tokyo 7:05 --weekends")
    assert request == Request(post_at=dt.time(7, 5), tz="Asia/Tokyo", topics="AI/ML", weekends=True)


# --- exactly once ----------------------------------------------------------------------------------

def test_two_schedulers_racing_on_one_database_post_once(db_url, library, slack):
    clock = Clock(utc(2026, 11, 23, 9, 0))
    a = digester(db_url, library, slack, clock, owner="replica-a")
    b = digester(db_url, library, slack, clock, owner="replica-b")
    channels = [f"CRACE{i}" for i in range(4)]
    for ch in channels:
        a.subscribe(Subscription("T1", ch, dt.time(9), "UTC", weekends=True, created_by="U1"))
    outcomes: list = []
    for day in range(3):
        clock.now = utc(2026, 11, 23 + day, 9, 0)
        start = threading.Barrier(2)

        def run(scheduler: Scheduler, start: threading.Barrier) -> None:
            start.wait()
            outcomes.extend(scheduler.tick())

        threads = [threading.Thread(target=run, args=(Scheduler(x), start)) for x in (a, b)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert sorted(len(posts(slack, ch)) for ch in channels) == [3, 3, 3, 3]  # one a day per channel
    assert sum(o.status == "posted" for o in outcomes) == 12
    assert {o.status for o in outcomes} <= {"posted", "busy", "already"}
    claim = a.store.claim_of("T1", "CRACE0", dt.date(2026, 11, 24))
    assert claim.status == DONE and claim.message_ts


def test_a_restart_inside_the_window(db_url, library, slack):
    clock = Clock(utc(2026, 11, 23, 9, 0))
    first = digester(db_url, library, slack, clock, owner="before-restart")
    first.subscribe(Subscription("T1", "CR", dt.time(9), "UTC", created_by="U1"))
    assert [o.status for o in Scheduler(first).tick()] == ["posted"]
    # restarted at the minute it was due: the new process finds the claim done
    clock.now = utc(2026, 11, 23, 9, 1)
    second = digester(db_url, library, slack, clock, owner="after-restart")
    assert [o.status for o in Scheduler(second).tick()] == ["already"]
    assert len(posts(slack, "CR")) == 1

    # down at 09:00 on Tuesday, back at 13:30: it posts once, late; past the grace window it does not
    clock.now = utc(2026, 11, 24, 13, 30)
    third = digester(db_url, library, slack, clock, owner="back-late")
    assert [o.status for o in Scheduler(third).tick()] == ["posted"]
    clock.now = utc(2026, 11, 25, 9, 0) + GRACE + dt.timedelta(minutes=1)
    assert Scheduler(third).tick() == []
    clock.now = utc(2026, 11, 26, 0, 30)  # Wednesday's digest is never posted on Thursday
    assert Scheduler(third).tick() == []
    assert third.store.claim_of("T1", "CR", dt.date(2026, 11, 25)) is None
    assert len(posts(slack, "CR")) == 2


def test_a_holder_that_died_mid_post_is_taken_over_without_a_second_post(db_url, library, slack):
    clock = Clock(utc(2026, 11, 23, 9, 0))
    dead = digester(db_url, library, slack, clock, owner="died")
    dead.subscribe(Subscription("T1", "CD", dt.time(9), "UTC", created_by="U1"))
    dead.subscribe(Subscription("T1", "CE", dt.time(9), "UTC", created_by="U1"))
    day = dt.date(2026, 11, 23)
    # "died" claimed both; it posted CD's digest and died before marking it done, and died before posting CE's
    for ch in ("CD", "CE"):
        assert dead.store.claim("T1", ch, day, "died", clock.now, LEASE) == "new"
    WebClient(token="xoxb-digest", base_url=slack.base_url).chat_postMessage(
        channel="CD", text="digest", metadata={"event_type": EVENT_TYPE, "event_payload": {"date": "2026-11-23"}})
    alive = digester(db_url, library, slack, clock, owner="alive")
    clock.now += dt.timedelta(minutes=1)
    assert sorted(o.status for o in Scheduler(alive).tick()) == ["busy", "busy"]  # its lease still runs
    clock.now += LEASE
    outcomes = {o.channel_id: o.status for o in Scheduler(alive).tick()}
    assert outcomes == {"CD": "already", "CE": "posted"}
    assert len(posts(slack, "CD")) == 1 and len(posts(slack, "CE")) == 1
    assert alive.store.claim_of("T1", "CD", day).status == DONE


def test_shutdown_releases_claims_and_a_failed_post_is_retried(db_url, library, slack):
    clock = Clock(utc(2026, 11, 23, 9, 0))
    a = digester(db_url, library, slack, clock, owner="stopping")
    a.subscribe(Subscription("T1", "CF", dt.time(9), "UTC", created_by="U1"))
    day = dt.date(2026, 11, 23)
    assert a.store.claim("T1", "CF", day, "stopping", clock.now, LEASE) == "new"
    assert a.release() == 1  # what Scheduler.stop() does at shutdown
    b = digester(db_url, library, slack, clock, owner="next")
    slack.fail_next("chat.postMessage", status=500)  # not a rate limit: the post fails
    assert [o.status for o in Scheduler(b).tick()] == ["failed"]
    assert b.store.claim_of("T1", "CF", day).status == FAILED and posts(slack) == []
    clock.now += dt.timedelta(seconds=30)
    assert [o.status for o in Scheduler(b).tick()] == ["posted"]  # a failed post may be retried
    clock.now += dt.timedelta(seconds=30)
    assert [o.status for o in Scheduler(b).tick()] == ["already"]  # a done one never
    assert len(posts(slack, "CF")) == 1


def test_rate_limits_are_waited_out_and_a_missing_membership_is_fixed(tmp_path, library, slack):
    clock = Clock(utc(2026, 11, 23, 9, 0))
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "C429", dt.time(9), "UTC", created_by="U1"))
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    [outcome] = Scheduler(d).tick()
    assert outcome.status == "posted"
    calls = slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200] and calls[2].time - calls[1].time >= 0.9
    slack.outside.add("CNEW")
    d.subscribe(Subscription("T1", "CNEW", dt.time(9), "UTC", created_by="U1"))
    assert [o.status for o in Scheduler(d).tick()] == ["already", "posted"]
    assert [c.method for c in slack.calls()][-2:] == ["conversations.join", "chat.postMessage"]


# --- what a digest holds ----------------------------------------------------------------------------

def test_no_repeat_within_30_days_and_an_empty_digest_is_not_posted(tmp_path, library, slack):
    clock = Clock(utc(2026, 1, 1, 9, 0))
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "CQ", dt.time(9), "UTC", topics="export controls", weekends=True))
    matches = {quote_key(h) for h in library.search("export controls", limit=50)}
    assert 5 < len(matches) < 30
    sent: list[tuple[dt.date, str]] = []
    statuses = []
    for i in range(40):
        clock.now = utc(2026, 1, 1, 9, 0) + dt.timedelta(days=i)
        before = len(posts(slack, "CQ"))
        [outcome] = Scheduler(d).tick()
        statuses.append(outcome.status)
        if outcome.status == "posted":
            post = posts(slack, "CQ")[before]
            assert "Quote of the day" in json.dumps(post["blocks"])
            [key] = d.store.sent_since("T1", "CQ", outcome.day)  # what went out today
            sent.append((outcome.day, key))
    for (day, key), (other_day, other_key) in ((x, y) for x in sent for y in sent if x[0] < y[0]):
        if key == other_key:
            assert (other_day - day).days > 30  # never again within 30 days
    assert statuses[: len(matches)] == ["posted"] * len(matches)  # each match once...
    assert set(statuses[len(matches): 31]) == {"empty"}  # ...then nothing eligible and nothing new: no post
    assert "posted" in statuses[31:]  # a month on, the best quote is eligible again
    assert d.store.claim_of("T1", "CQ", dt.date(2026, 1, 1) + dt.timedelta(days=len(matches))).status == EMPTY
    assert len(posts(slack, "CQ")) == statuses.count("posted")


def test_topics_pick_the_quote_and_no_topics_pick_a_strong_one(tmp_path, library, slack):
    clock = Clock(utc(2026, 2, 2, 9, 0))
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "CT", dt.time(9), "UTC", topics="stargate"))
    d.subscribe(Subscription("T1", "CS", dt.time(9), "UTC", topics='speaker:"Lex Fridman" ulysses'))
    d.subscribe(Subscription("T1", "CN", dt.time(9), "UTC"))
    Scheduler(d).tick()
    topical = json.dumps(posts(slack, "CT")[0]["blocks"])
    assert "*Stargate*" in topical or "*stargate*" in topical
    speaker = json.dumps(posts(slack, "CS"))
    assert "Finnegan" in json.dumps(posts(slack, "CS")[0]["blocks"]) and "*Lex Fridman*" in speaker
    plain = posts(slack, "CN")[0]
    quote_section = plain["blocks"][2]["text"]["text"]
    assert plain["blocks"][1]["text"]["text"] == "*Quote of the day*" and quote_section.startswith("> ")
    assert 20 <= len(quote_section.split()) <= 90 and "*" not in quote_section  # nothing matched: no bold
    assert not re.search(r"sponsor|check out|we've been using", quote_section, re.I)  # never an advert


def test_new_this_week_lists_the_episodes_ingested_since_the_last_digest(tmp_path, slack):
    clock = Clock(utc(2026, 11, 20, 12, 0))
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}", clock=clock)
    assert all(r.ok for r in ingest([str(seed("000"))], store))
    library = Library.open(store, tmp_path / "index")
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "CW", dt.time(9), "UTC", topics="taiwan"))
    clock.now = utc(2026, 11, 23, 9, 0)
    Scheduler(d).tick()
    first = json.dumps(posts(slack, "CW")[0]["blocks"])
    assert "New this week" in first and "Lex Fridman Podcast #459" in first and "*Taiwan*" in first

    clock.now = utc(2026, 11, 23, 15, 0)  # a new episode lands after Monday's digest
    assert all(r.ok for r in ingest([str(seed("002"))], store))
    library.refresh()
    clock.now = utc(2026, 11, 24, 9, 0)
    Scheduler(d).tick()
    second = posts(slack, "CW")[1]["blocks"]
    sections = [b["text"]["text"] for b in second if b["type"] == "section"]
    listed = [t for t in sections if t.startswith("*<") or ("Latent Space" in t and not t.startswith("&gt;"))]
    assert len(listed) == 1 and "Latent Space" in listed[0]  # only what is new since Monday
    clock.now = utc(2026, 12, 7, 9, 0)  # two weeks on, nothing is new any more
    Scheduler(d).tick()
    assert "New this week" not in json.dumps(posts(slack, "CW")[-1]["blocks"])


def test_the_digest_card_is_escaped_and_inside_slack_limits():
    nasty = "<!channel> " + "word " * 2000 + "<https://evil.example|click>"

    def hit(i: int) -> Hit:
        return Hit(text=nasty, speaker="<@U999>", start_s=60.0 * i, end_s=None, episode="Ep <!here>",
                   podcast="P&P", url=f"https://www.youtube.com/watch?v=abc&t={60 * i}s", score=1.0, matched=["word"],
                   translation=None, episode_id=f"ep{i}", segment_id=i, episode_url="javascript:alert(1)")

    episodes = [(EpisodeInfo(f"ep{i}", "<!channel> " + "t" * 300, "P", None, "https://example.com/e"), hit(i))
                for i in range(5)]
    message = digest_message(Digest(dt.date(2026, 11, 24), "<!everyone> chips", hit(0), episodes, more=12))
    blocks = message["blocks"]
    assert len(blocks) <= 50 and len(blocks[0]["text"]["text"]) <= 150
    for b in blocks:
        text = (b.get("text") or {}).get("text", "") or " ".join(e.get("text", "") for e in b.get("elements", [])
                                                                   if isinstance(e.get("text"), str))
        assert len(text) <= 3000
    raw = json.dumps(message, ensure_ascii=False)
    assert "<!channel>" not in raw and "<!here>" not in raw and "<!everyone>" not in raw and "<@U999>" not in raw
    assert "javascript:" not in raw and "evil.example|" not in raw
    assert message["text"].startswith("Quotebot digest for Tuesday 24 November 2026: “") and len(message["text"]) < 4000
    assert "…and 12 more new episodes" in raw


# --- operators: quotebot digest, and the scheduler inside quotebot serve ------------------------------

def quotebot(data_dir, *args, slack: LocalSlack | None = None, extra: dict | None = None, **popen):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env["QUOTEBOT_DATA_DIR"] = str(data_dir)
    if slack is not None:
        env.update(SLACK_BOT_TOKEN="xoxb-operator", SLACK_API_URL=slack.base_url)
    env.update(extra or {})
    command = [sys.executable, "-m", "bot", *args]
    if popen:
        return subprocess.Popen(command, env=env, text=True, **popen)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("operator") / "data"
    run = quotebot(folder, "ingest", str(SAMPLES))
    assert run.returncode == 0, run.stderr
    return folder


def test_digest_send_goes_through_the_same_claim(data, slack):
    today = dt.datetime.now(UTC).date()
    no_token = quotebot(data, "digest", "send", "--channel", "COPS")
    assert no_token.returncode == 2
    assert "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) must be set" in no_token.stderr
    unknown = quotebot(data, "digest", "send", "--channel", "COPS", slack=slack)
    assert unknown.returncode == 2 and "channel COPS has no digest subscription" in unknown.stderr
    store = DigestStore(Store(f"sqlite:///{data / 'quotebot.db'}").engine)
    store.subscribe(Subscription("T1", "COPS", dt.time(9), "UTC", topics="export controls", created_by="U1"))
    listed = quotebot(data, "digest", "list")
    assert "T1 COPS  09:00 UTC, weekdays, topics: export controls" in listed.stdout

    bad = quotebot(data, "digest", "send", "--channel", "COPS", "--date", "24/11/2026", slack=slack)
    assert bad.returncode == 2 and "bad date '24/11/2026': use YYYY-MM-DD" in bad.stderr
    future = quotebot(data, "digest", "send", "--channel", "COPS", "--date", str(today + dt.timedelta(days=2)),
                      slack=slack)
    assert future.returncode == 2 and "has not begun in UTC" in future.stderr

    # two processes at once, for the same channel and date: one post
    racers = [quotebot(data, "digest", "send", "--channel", "COPS", "--date", str(today), slack=slack,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [r.communicate(timeout=300) for r in racers]
    assert [r.returncode for r in racers] == [0, 0], outs
    said = " ".join(out for out, _ in outs)
    assert said.count(f"posted the {today} digest to COPS") == 1
    assert "sent already" in said or "another process is sending" in said
    assert len(posts(slack, "COPS")) == 1
    again = quotebot(data, "digest", "send", "--channel", "COPS", slack=slack)
    assert again.returncode == 0 and "was sent already" in again.stdout and len(posts(slack, "COPS")) == 1
    assert store.claim_of("T1", "COPS", today).status == DONE


def test_serve_runs_the_scheduler(data, slack):
    now = dt.datetime.now(UTC)
    due = max(dt.time(0, 0), (now - dt.timedelta(minutes=1)).time().replace(second=0, microsecond=0))
    store = DigestStore(Store(f"sqlite:///{data / 'quotebot.db'}").engine)
    store.subscribe(Subscription("T1", "CSERVE", due, "UTC", weekends=True, created_by="U1"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = quotebot(data, "serve", "--host", "127.0.0.1", "--port", str(port), slack=slack,
                      extra={"SLACK_SIGNING_SECRET": SECRET, "QUOTEBOT_DIGEST_TICK_S": "0.2"},
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        slack.wait_for("chat.postMessage", timeout=60)
        time.sleep(1)  # more ticks: still one post
        assert len(posts(slack, "CSERVE")) == 1
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "digests every 0.2 s" in err and "xoxb-operator" not in err


# --- the digest reads right (issue 16) -------------------------------------------------------------

def test_an_area_city_that_is_no_zone_is_refused_with_the_nearest_zones(bot, slack):
    url, d, _ = bot
    slack.user_tz["U123"] = "Europe/Paris"
    command(url, slack, "digest subscribe 09:00 Europe/Paris chips")
    answer = command(url, slack, "digest subscribe 09:00 Mars/Olympus chips")
    assert answer["text"].startswith("Unknown time zone `Mars/Olympus`") and "Nearest zones: `" in answer["text"]
    near = re.findall(r"`([A-Za-z_]+/[A-Za-z_]+)`", answer["text"].split("Nearest zones:")[1].split("\n")[0])
    assert len(near) == 3 and all(z in __import__("zoneinfo").available_timezones() for z in near)
    valid_message(answer)
    sub = d.subscription("T0LOCAL", "C123")  # the Paris digest is kept as it was
    assert (sub.post_at, sub.tz, sub.topics) == (dt.time(9), "Europe/Paris", "chips")


@pytest.mark.parametrize(("typed", "zone"), [("CET", "Europe/Paris"), ("PST", "America/Los_Angeles"),
                                        ("EST", "America/New_York")])
def test_a_zone_abbreviation_is_taken_as_the_zone_it_means(bot, slack, typed, zone):
    url, d, _ = bot
    answer = command(url, slack, f"digest subscribe 07:30 {typed} chips")
    assert f"a digest at 07:30 {zone}, weekdays, topics: `chips`" in answer["text"]
    assert f"`{typed}` taken as `{zone}`" in answer["text"]
    sub = d.subscription("T0LOCAL", "C123")
    assert (sub.tz, sub.topics) == (zone, "chips")  # never a topic


def test_an_ambiguous_abbreviation_is_refused_with_a_suggestion(bot, slack):
    url, d, _ = bot
    answer = command(url, slack, "digest subscribe 09:00 CST chips")
    assert "`CST` is used by several time zones" in answer["text"] and "`America/Chicago`" in answer["text"]
    assert d.subscriptions() == []
    assert parse_subscribe("AI/ML GPU TSMC").topics == "AI/ML GPU TSMC"  # topics stay topics


def test_the_footer_says_the_real_time_and_days(bot, slack):
    url, d, clock = bot
    command(url, slack, "digest subscribe 18:30 Europe/Paris export controls", channel="CEVE")
    clock.now = utc(2026, 11, 23, 17, 30)  # 18:30 in Paris, a Monday
    assert [o.status for o in Scheduler(d).tick()] == ["posted"]
    [post] = posts(slack, "CEVE")
    valid_message(post)
    footer = post["blocks"][-1]["elements"][0]["text"]
    assert footer.startswith("<#CEVE> gets a digest at 18:30 (Europe/Paris), Monday to Friday.")
    assert "morning" not in json.dumps(post)
    command(url, slack, "digest subscribe 06:00 America/New_York --weekends", channel="CEVE")
    preview = command(url, slack, "digest preview", channel="CEVE")
    assert "gets a digest at 06:00 (America/New_York), every day" in json.dumps(preview)
    unsubscribed = command(url, slack, "digest preview", channel="CNONE")
    assert "this channel has no digest" in json.dumps(unsubscribed)


def test_channels_are_links_never_raw_ids(bot, slack):
    url, _, _ = bot
    said = [command(url, slack, line, channel="CLINK")["text"] for line in
            ("digest subscribe 08:00 UTC", "digest list", "digest unsubscribe")]
    for text in said:
        assert "<#CLINK>" in text and not re.search(r"(?<!<#)CLINK", text)


def test_quotes_of_the_day_pass_the_profanity_filter(tmp_path, library, slack):
    from handlers.quality import profane

    # the library's strongest quotes include profanity ("holy shit"): the filter has work to do
    assert any(profane(h.text) for e in library.episodes() for h in library.strongest(e.id, 40))
    clock = Clock(utc(2026, 3, 2, 9, 0))
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "CPROF", dt.time(9), "UTC", weekends=True))
    for i in range(45):
        clock.now = utc(2026, 3, 2, 9, 0) + dt.timedelta(days=i)
        Scheduler(d).tick()
    quotes = [b["text"]["text"] for p in posts(slack, "CPROF") for b in p["blocks"]
              if b["type"] == "section" and b["text"]["text"].startswith("> ")]
    assert len(quotes) >= 40
    assert not any(profane(q) for q in quotes) and "holy shit" not in json.dumps(posts(slack)).lower()


def test_no_neighbouring_segments_of_one_episode_in_a_digest(tmp_path, slack):
    clock = Clock(utc(2026, 11, 22, 12, 0))
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}", clock=clock)
    transcript = tmp_path / "llamas.vtt"
    transcript.write_text(LLAMAS)
    assert all(r.ok for r in ingest([str(transcript)], store))
    library = Library.open(store, tmp_path / "index")
    hits = library.search("zanzibar llamas", limit=5)
    assert [h.text.split()[0] for h in hits] == ["The", "Those", "Back"]  # the best two are neighbours
    d = digester(f"sqlite:///{tmp_path / 'd.db'}", library, slack, clock)
    d.subscribe(Subscription("T1", "CNB", dt.time(9), "UTC", topics="zanzibar llamas"))
    clock.now = utc(2026, 11, 23, 9, 0)
    assert [o.status for o in Scheduler(d).tick()] == ["posted"]
    [post] = posts(slack, "CNB")
    valid_message(post)
    quotes = [b["text"]["text"] for b in post["blocks"]
              if b["type"] == "section" and b["text"]["text"].startswith("> ")]
    assert len(quotes) == 2  # the quote of the day, and the new episode's quote
    assert quotes[0].startswith("> The *zanzibar* *llamas* escaped")
    assert quotes[1].startswith("> Back to the subject")  # not "Those zanzibar llamas…", its neighbour


LLAMAS = """WEBVTT

00:00:01.000 --> 00:00:20.000
<v Ann>The zanzibar llamas escaped the zanzibar zoo at dawn and the keepers chased the llamas across the harbour.

00:00:20.000 --> 00:00:40.000
<v Bob>Those zanzibar llamas are famous now, every newspaper in the region wrote about the llamas and their keepers.

00:00:40.000 --> 00:01:00.000
<v Ann>Meanwhile the harbour master filed a report about boats, tides, fishing quotas and the coming season.

00:01:00.000 --> 00:01:20.000
<v Bob>Back to the subject, a zanzibar official said the animals were home safe by evening and nobody was hurt at all.
"""
