"""Issue 16's Slack surfaces over real HTTP with signed requests, against the local Slack Web API:
App Home, the message shortcut, the search modal, keyword alerts, feedback on cards. Every view
and message is checked with slack_sdk's Block Kit models (tests/blockkit.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest

from bot.alerts import DONE, Alerter, AlertStore
from bot.app import build_app, web_client
from bot.digests import DigestStore
from bot.events import EventLog
from bot.feedback import FeedbackStore
from bot.localslack import (
    LocalSlack,
    block_actions_body,
    event_body,
    message_shortcut_body,
    options_body,
    shortcut_body,
    signed_headers,
    slash_command_body,
    view_action_body,
    view_submission_body,
)
from bot.schedule import Digester
from bot.serve import http_server, serving
from bot.settings import Settings
from handlers import cards, home, search_modal, shortcuts
from handlers.alerts import EVENT_TYPE as ALERT_EVENT
from index.ingest import ingest
from index.search import Library
from index.store import Store

from .blockkit import valid_message, valid_view
from .conftest import seed
from .test_digest import Clock, library, slack  # noqa: F401 - library and slack are the fixtures

SECRET = "surfaces-signing-secret"
UTC = dt.UTC


@pytest.fixture
def bot(tmp_path, library, slack):
    settings = Settings(SLACK_BOT_TOKEN="xoxb-surfaces", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
    client = web_client(settings)
    engine = Store(f"sqlite:///{tmp_path / 'bot.db'}").engine
    digests = Digester(DigestStore(engine), library, lambda team: client)
    alerter = Alerter(AlertStore(engine), library, lambda team: client, settle_s=0)
    feedback = FeedbackStore(engine)
    app = build_app(settings, library, EventLog(engine), client=client, digests=digests,
                    alerts=alerter, feedback=feedback)
    server = http_server(app, library, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", digests, alerter, feedback
    server.shutdown()
    server.server_close()


def send(url: str, body: str, *, json_body: bool = False) -> httpx.Response:
    headers = signed_headers(body, SECRET)
    headers["Content-Type"] = "application/json" if json_body else "application/x-www-form-urlencoded"
    response = httpx.post(url + "/slack/events", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response


def command(url: str, slack: LocalSlack, text: str, channel: str = "C123", user: str = "U123") -> dict:
    reply = slack.response_url()
    send(url, slash_command_body(text, response_url=reply, channel_id=channel, user_id=user))
    return wait_hook(slack, reply)[-1]


def wait_hook(slack: LocalSlack, hook: str, count: int = 1) -> list[dict]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = [c.body for c in slack.calls("response_url") if c.path == urlsplit(hook).path]
        if len(got) >= count:
            return got
        time.sleep(0.01)
    raise AssertionError(f"nothing arrived at {hook}")


def home_opened(url: str, slack: LocalSlack, user: str = "U123") -> dict:
    before = len(slack.calls("views.publish"))
    send(url, event_body({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                          "event_ts": f"{time.time():.6f}"}), json_body=True)
    return valid_view(slack.wait_for("views.publish", before + 1)[-1].body["view"])


def actions(view: dict) -> dict[str, dict]:
    """block_id -> {action_id: element} of a view's actions blocks (and section accessories)."""
    found: dict[str, dict] = {}
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory")]
        for element in elements:
            if element and "action_id" in element:
                found.setdefault(block.get("block_id", ""), {})[element["action_id"]] = element
    return found


def press(url: str, slack: LocalSlack, view: dict, block_id: str, action_id: str, value: str,
          expect: str, count: int | None = None) -> dict:
    """Click a button in a view (App Home or a modal); the next ``expect`` call's body."""
    before = len(slack.calls(expect))
    send(url, view_action_body(view, {"action_id": action_id, "block_id": block_id, "type": "button",
                                      "value": value}))
    return slack.wait_for(expect, count or before + 1)[-1].body


def stored_view(slack: LocalSlack, body: dict) -> dict:
    """The view as the local Slack keeps it (with its id and hash) after views.open/update/publish."""
    call = next(c for c in reversed(slack.calls()) if c.body is body)
    return call.response["view"]


# --- App Home -----------------------------------------------------------------------------------

def test_app_home_lists_digests_and_alerts_with_edit_and_remove(bot, slack):
    url, digests, alerter, _ = bot
    empty = home_opened(url, slack)
    text = json.dumps(empty)
    assert "Search quotes" in text and "The library" in text and "3 episodes" in text and "with a speaker" in text
    assert "hours of audio" in text and "newest:" in text and "How to" in text and "None yet" in text

    command(url, slack, "digest subscribe 18:30 Europe/Paris chips", channel="C1")
    command(url, slack, "alert add export controls", channel="C2")
    refreshed = slack.wait_for("views.publish", 3)[-1].body  # each change republished the Home tab
    assert refreshed["user_id"] == "U123"
    view = home_opened(url, slack)
    text = json.dumps(view)
    assert "<#C1>: 18:30 Europe/Paris, weekdays, topics: `chips`" in text
    [alert] = alerter.alerts("T0LOCAL")
    assert f"#{alert.id} `export controls` in <#C2>" in text
    buttons = actions(view)
    digest_block = next(b for b in buttons if b.startswith("digest_C1_"))
    alert_block = next(b for b in buttons if b.startswith(f"alert_{alert.id}_"))
    assert set(buttons[digest_block]) == {home.DIGEST_EDIT, home.DIGEST_REMOVE}
    assert set(buttons[alert_block]) == {home.ALERT_EDIT, home.ALERT_REMOVE}
    assert "C1" not in text.replace("<#C1>", "").replace(digest_block, "").replace('"value": "C1"', "")  # links only

    # Edit the digest: a modal with its settings; saving changes it and refreshes the Home tab
    form = valid_view(press(url, slack, view, digest_block, home.DIGEST_EDIT, "C1", "views.open")["view"])
    assert form["callback_id"] == home.DIGEST_FORM
    opened = stored_view(slack, slack.calls("views.open")[-1].body)
    bad = send(url, view_submission_body(opened, {"time": {"action_id": "v", "selected_time": "07:45"},
                                                  "tz": {"action_id": "v", "value": "Mars/Olympus"},
                                                  "topics": {"action_id": "v", "value": "chips"}}))
    assert bad.json()["response_action"] == "errors" and "Nearest zones" in bad.json()["errors"]["tz"]
    publishes = len(slack.calls("views.publish"))
    send(url, view_submission_body(opened, {"time": {"action_id": "v", "selected_time": "07:45"},
                                            "tz": {"action_id": "v", "value": "America/New_York"},
                                            "topics": {"action_id": "v", "value": "taiwan"},
                                            "days": {"action_id": "v", "selected_options": [{"value": "weekends"}]}}))
    after = valid_view(slack.wait_for("views.publish", publishes + 1)[-1].body["view"])
    sub = digests.subscription("T0LOCAL", "C1")
    assert (sub.post_at, sub.tz, sub.topics, sub.weekends) == (dt.time(7, 45), "America/New_York", "taiwan", True)
    assert "07:45 America/New_York, every day, topics: `taiwan`" in json.dumps(after)

    # Edit the alert
    form = valid_view(press(url, slack, view, alert_block, home.ALERT_EDIT, str(alert.id), "views.open")["view"])
    assert form["callback_id"] == home.ALERT_FORM
    opened = stored_view(slack, slack.calls("views.open")[-1].body)
    send(url, view_submission_body(opened, {"query": {"action_id": "v", "value": "lithography"}}))
    slack.wait_for("views.publish", publishes + 2)
    assert [a.query for a in alerter.alerts("T0LOCAL")] == ["lithography"]

    # Remove both; a second click on Remove changes nothing
    view = home_opened(url, slack)
    buttons = actions(view)
    digest_block = next(b for b in buttons if b.startswith("digest_C1_"))
    removes = ((digest_block, home.DIGEST_REMOVE, "C1"), (alert_block, home.ALERT_REMOVE, str(alert.id)))
    for block, action, value in removes:
        last = valid_view(press(url, slack, view, block, action, value, "views.publish")["view"])
        publishes = len(slack.calls("views.publish"))
        send(url, view_action_body(view, {"action_id": action, "block_id": block, "type": "button", "value": value}))
        time.sleep(0.5)
        assert len(slack.calls("views.publish")) == publishes  # a second click on Remove does nothing
    assert digests.subscriptions("T0LOCAL") == [] and alerter.alerts("T0LOCAL") == []
    assert json.dumps(last).count("None yet") == 2
    # subscribed again: the new Remove button works (the old click's claim does not block it)
    command(url, slack, "digest subscribe 08:00 UTC", channel="C1")
    view = home_opened(url, slack)
    block = next(b for b in actions(view) if b.startswith("digest_C1_"))
    assert block != digest_block
    press(url, slack, view, block, home.DIGEST_REMOVE, "C1", "views.publish")
    assert digests.subscriptions("T0LOCAL") == []


def test_an_alert_added_from_app_home(bot, slack):
    url, _, alerter, _ = bot
    view = home_opened(url, slack)
    form = valid_view(press(url, slack, view, "", home.ALERT_ADD, "new", "views.open")["view"])
    opened = stored_view(slack, slack.calls("views.open")[-1].body)
    assert form["callback_id"] == home.ALERT_FORM
    bad = send(url, view_submission_body(opened, {"query": {"action_id": "v", "value": '"unclosed'},
                                                  "channel": {"action_id": "v", "selected_conversation": "C9"}}))
    assert bad.json()["response_action"] == "errors"
    send(url, view_submission_body(opened, {"query": {"action_id": "v", "value": "stargate"},
                                            "channel": {"action_id": "v", "selected_conversation": "C9"}}))
    slack.wait_for("views.publish", 2)
    [alert] = alerter.alerts("T0LOCAL")
    assert (alert.channel_id, alert.query, alert.created_by) == ("C9", "stargate", "U123")
    # the same query for the same channel again: the form says which alert has it; nothing is stored
    again = send(url, view_submission_body(opened, {"query": {"action_id": "v", "value": " *Stargate* "},
                                                    "channel": {"action_id": "v", "selected_conversation": "C9"}}))
    assert again.json() == {"response_action": "errors",
                            "errors": {"query": f"Alert #{alert.id} already watches stargate in that channel."}}
    assert alerter.alerts("T0LOCAL") == [alert]
    send(url, view_submission_body(opened, {"query": {"action_id": "v", "value": "lithography"},
                                            "channel": {"action_id": "v", "selected_conversation": "C9"}}))
    slack.wait_for("views.publish", 3)
    first, second = alerter.alerts("T0LOCAL")
    assert first == alert and second.query == "lithography"
    # nor may an edit make a second alert of the channel watch the same query
    home_view = home_opened(url, slack)
    edit_block = next(b for b in actions(home_view) if b.startswith(f"alert_{second.id}_"))
    press(url, slack, home_view, edit_block, home.ALERT_EDIT, str(second.id), "views.open")
    edit = stored_view(slack, slack.calls("views.open")[-1].body)
    clash = send(url, view_submission_body(edit, {"query": {"action_id": "v", "value": "stargate"}}))
    assert clash.json()["errors"] == {"query": f"Alert #{alert.id} already watches stargate in that channel."}
    assert alerter.alerts("T0LOCAL") == [first, second]


def test_the_home_search_button_opens_the_search_modal(bot, slack):
    url, _, _, _ = bot
    view = home_opened(url, slack)
    opened = valid_view(press(url, slack, view, "", home.SEARCH, "open", "views.open")["view"])
    assert opened["callback_id"] == search_modal.CALLBACK


# --- shortcuts and the search modal -----------------------------------------------------------------

def test_the_message_shortcut_answers_in_the_messages_thread(bot, slack):
    url, _, _, _ = bot
    reply = slack.response_url()
    message = {"ts": "1700000900.000200", "thread_ts": "1700000900.000100",
               "text": "<@U42> what did they say about TSMC and Taiwan?"}
    send(url, message_shortcut_body(shortcuts.FIND, message, channel_id="C55", response_url=reply))
    [call] = slack.wait_for("chat.postEphemeral")
    card = valid_message(call.body)
    assert (call.body["channel"], call.body["user"], call.body["thread_ts"]) == ("C55", "U123", "1700000900.000100")
    assert "taiwan" in json.dumps(card).lower() or "tsmc" in json.dumps(card).lower()
    found = {e["action_id"]: e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {cards.POST_THREAD, cards.POST, cards.NEXT} <= set(found)
    # Next keeps the thread; Post to thread replies under the message
    hook = slack.response_url()
    send(url, block_actions_body(cards.NEXT, found[cards.NEXT]["value"], channel_id="C55", response_url=hook))
    second = valid_message(wait_hook(slack, hook)[-1])
    nxt = {e["action_id"]: e for b in second["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert cards.POST_THREAD in nxt
    hook = slack.response_url()
    send(url, block_actions_body(cards.POST_THREAD, nxt[cards.POST_THREAD]["value"], channel_id="C55",
                                 response_url=hook))
    [posted] = slack.wait_for("chat.postMessage")
    assert posted.body["thread_ts"] == "1700000900.000100" and posted.body["channel"] == "C55"
    assert "Shared by <@U123>" in json.dumps(valid_message(posted.body))
    assert wait_hook(slack, hook)[-1].get("delete_original") is True


def test_the_global_shortcut_opens_a_modal_that_searches_and_pages(bot, slack):
    url, _, _, _ = bot
    send(url, shortcut_body(search_modal.SHORTCUT))
    opened_call = slack.wait_for("views.open")[-1]
    valid_view(opened_call.body["view"])
    opened = opened_call.response["view"]
    kinds = {b["block_id"]: b["element"]["type"] for b in opened["blocks"] if b["type"] == "input"}
    assert kinds == {"q": "plain_text_input", "speaker": "external_select", "episode": "external_select",
                     "after": "datepicker", "before": "datepicker"}

    # type-ahead over the library
    speakers = send(url, options_body(search_modal.SPEAKER, "dyl", view=opened)).json()["options"]
    assert [o["value"] for o in speakers] == ["Dylan Patel"]
    everyone = send(url, options_body(search_modal.SPEAKER, "", view=opened)).json()["options"]
    assert len(everyone) >= 3 and {"Dylan Patel", "Lex Fridman"} <= {o["value"] for o in everyone}
    episodes = send(url, options_body(search_modal.EPISODE, "latent", view=opened)).json()["options"]
    assert len(episodes) == 1 and "Latent Space" in episodes[0]["text"]["text"]
    for option in speakers + everyone + episodes:
        assert len(option["value"]) <= 150 and len(option["text"]["text"]) <= 75

    empty = send(url, view_submission_body(opened, {"q": {"action_id": "q", "value": " "}}))
    assert empty.json() == {"response_action": "errors", "errors": {"q": "Type a few words to search for."}}

    values = {"q": {"action_id": "q", "value": "export controls"}}
    ack = send(url, view_submission_body(opened, values)).json()
    assert ack["response_action"] == "update" and "Searching" in json.dumps(ack["view"])
    valid_view(ack["view"])
    update = slack.wait_for("views.update")[-1]
    assert update.body["view_id"] == opened["id"]
    results = valid_view(update.body["view"])
    text = json.dumps(results, ensure_ascii=False)
    assert "1–5 of" in text and "*export*" in text.lower()
    posts = [b for b in results["blocks"] if b.get("block_id", "").startswith("post_")]
    assert len(posts) == 5 and all(b["elements"][0]["type"] == "conversations_select" for b in posts)
    paging = actions(results)["paging"]
    assert set(paging) == {search_modal.PAGE}

    # the next page, inside the modal
    page_two = valid_view(press(url, slack, update.response["view"], "paging", search_modal.PAGE, "1",
                                "views.update")["view"])
    assert "6–10 of" in json.dumps(page_two, ensure_ascii=False)
    assert json.dumps(page_two) != text

    # a speaker and a date range narrow it
    narrowed = dict(values, speaker={"action_id": search_modal.SPEAKER,
                                     "selected_option": {"text": {"type": "plain_text", "text": "Dylan Patel"},
                                                         "value": "Dylan Patel"}},
                    after={"action_id": "after", "selected_date": "2020-01-01"})
    before = len(slack.calls("views.update"))
    send(url, view_submission_body(opened, narrowed))
    narrow = valid_view(slack.wait_for("views.update", before + 1)[-1].body["view"])
    sources = [b["elements"][0]["text"] for b in narrow["blocks"] if b.get("block_id", "").startswith("quote_source")]
    assert sources and all(s.startswith("*Dylan Patel*") for s in sources)
    assert 'speaker:\\"Dylan Patel\\"' in json.dumps(narrow)

    # Post to channel: pick a channel for result 2
    stored = slack.calls("views.update")[-1].response["view"]
    before = len(slack.calls("views.update"))
    send(url, view_action_body(stored, {"action_id": search_modal.CHANNEL, "block_id": "post_1",
                                        "type": "conversations_select", "selected_conversation": "C77"}))
    [posted] = slack.wait_for("chat.postMessage")
    assert posted.body["channel"] == "C77" and "Shared by <@U123>" in json.dumps(valid_message(posted.body))
    note = valid_view(slack.wait_for("views.update", before + 1)[-1].body["view"])
    assert "Posted quote 2 to <#C77>." in json.dumps(note)


# --- feedback ---------------------------------------------------------------------------------------

def test_feedback_from_the_card_menu_is_stored_once_and_listed(bot, slack, tmp_path):
    url, _, _, feedback = bot
    card = command(url, slack, "export controls")
    menu = card["blocks"][0]["accessory"]
    assert menu["type"] == "overflow"
    assert [o["text"]["text"] for o in menu["options"]] == ["Wrong speaker", "Wrong time"]
    for option in menu["options"]:
        for _ in range(2):  # a second choice of the same is a no-op
            hook = slack.response_url()
            send(url, block_actions_body(cards.FEEDBACK, "", response_url=hook, block_id="quote_text", option=option))
            said = valid_message(wait_hook(slack, hook)[-1])
            assert said["response_type"] == "ephemeral" and said["replace_original"] is False
    reports = feedback.reports()
    assert [r.kind for r in reports] == ["speaker", "time"]
    assert all(r.user_id == "U123" and r.team_id == "T0LOCAL" for r in reports)
    assert reports[0].text and reports[0].episode_id and reports[0].start_s is not None
    assert "already reported" in said["text"]
    hook = slack.response_url()
    send(url, block_actions_body(cards.FEEDBACK, "", response_url=hook, block_id="quote_text",
                                 option={"text": {"type": "plain_text", "text": "x"}, "value": "nonsense"}))
    assert "expired" in wait_hook(slack, hook)[-1]["text"]


def test_quotebot_feedback_and_episodes_show_the_reports(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env["QUOTEBOT_DATA_DIR"] = str(data)

    def quotebot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert quotebot("ingest", str(seed("000"))).returncode == 0
    assert "No reports" in quotebot("feedback").stdout
    store = Store(f"sqlite:///{data / 'quotebot.db'}")
    segment = next(s for s in store.segments_of(store.episodes()[0].id) if s.start_s)
    feedback = FeedbackStore(store.engine)
    assert feedback.report("T1", "U1", "speaker", segment) and feedback.report("T1", "U2", "time", segment)
    listed = quotebot("feedback")
    assert listed.returncode == 0 and listed.stdout.count("\n    “") == 2 and "speaker " in listed.stdout
    as_json = json.loads(quotebot("feedback", "--json").stdout)
    assert [(r["kind"], r["user_id"], r["segment_id"]) for r in as_json] == [("speaker", "U1", segment.id),
                                                                              ("time", "U2", segment.id)]
    episodes = quotebot("episodes")
    assert "2 reports: 1 wrong speaker, 1 wrong time" in episodes.stdout
    assert json.loads(quotebot("episodes", "--json").stdout)[0]["reports"] == {"speaker": 1, "time": 1}


# --- keyword alerts ---------------------------------------------------------------------------------

def vtt(*lines: str) -> str:
    def clock(second: int) -> str:
        return f"00:{second // 60:02d}:{second % 60:02d}.000"

    cues = [f"{clock(10 * i + 1)} --> {clock(10 * i + 9)}\n<v Ann>{line}\n" for i, line in enumerate(lines)]
    return "WEBVTT\n\n" + "\n".join(cues)


LLAMA_NEWS = vtt("The zanzibar llamas escaped the zoo again this morning and the keepers chased them for hours.",
                 "Nobody knows how the llamas opened the gate, but the harbour was closed until noon.")
MORE_LLAMAS = vtt("A second herd of zanzibar llamas was seen near the old fort, calm and eating the hedges.",
                  "Tourists took photographs while the keepers walked the animals back to the zoo.")
# the library before the alerts: a few episodes' worth of segments about other things
TOPICS = ["Semiconductor export policy", "The price of memory chips", "Rowing on the river", "A new bakery in town",
          "Training large language models", "The history of maps", "Jazz records from the sixties",
          "Mountain weather forecasts", "Chess openings", "Bicycle repair at home", "Solar panels on roofs",
          "Learning to cook rice"]
FILLER = vtt(*[f"{topic} was the subject of a long conversation that went on for {n} minutes without any pause at all."
               for n, topic in enumerate(TOPICS, 3)])
HARBOUR = vtt("The harbour master filed a report about boats, tides and the fishing quotas for next season.",
              "The weather will be fine for sailing on Saturday according to the forecast.")


class Alerting:
    """One bot process's alert side on a shared database: its own engine, library and owner id."""

    def __init__(self, db_url: str, root, slack: LocalSlack, clock: Clock, owner: str, settle_s: float = 0):
        self.store = Store(db_url, clock=clock)
        self.library = Library.open(self.store, root / f"index-{owner}")
        client = web_client(Settings(SLACK_BOT_TOKEN="xoxb-alerts", SLACK_API_URL=slack.base_url))
        self.alerter = Alerter(AlertStore(self.store.engine), self.library, lambda team: client, clock=clock,
                               owner=owner, settle_s=settle_s)

    def ingest(self, root, name: str, text: str) -> None:
        path = root / name
        path.write_text(text)
        assert all(r.ok for r in ingest([str(path)], self.store))

    def run(self) -> list:
        self.library.refresh()
        return self.alerter.run()


def serving_alerts(side: Alerting, slack: LocalSlack) -> contextlib.AbstractContextManager[str]:
    """The app over HTTP with ``side``'s library and alerts; yields its base URL."""
    settings = Settings(SLACK_BOT_TOKEN="xoxb-alerts", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
    return serving(build_app(settings, side.library, EventLog(side.store.engine), alerts=side.alerter), side.library)


def alert_posts(slack: LocalSlack, channel: str) -> list[dict]:
    return [c.body for c in slack.calls("chat.postMessage") if c.status == 200 and c.response.get("ok")
            and c.body.get("channel") == channel and (c.body.get("metadata") or {}).get("event_type") == ALERT_EVENT]


def test_an_alert_added_in_slack_posts_once_when_an_ingest_matches(tmp_path, slack):
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    side = Alerting(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, slack, clock, "one")
    side.ingest(tmp_path, "filler.vtt", FILLER)
    with serving_alerts(side, slack) as url:
        added = command(url, slack, "alert add zanzibar llamas", channel="CAL")
        assert "Alert #1 `zanzibar llamas` in <#CAL> added" in added["text"]
        assert "#1 `zanzibar llamas` in <#CAL>" in command(url, slack, "alert list")["text"]
        assert "Cannot search that" in command(url, slack, 'alert add "unclosed')["text"]
        assert side.run() == []  # nothing new yet

        clock.now += dt.timedelta(minutes=5)
        side.ingest(tmp_path, "harbour.vtt", HARBOUR)  # new, but says nothing about llamas
        clock.now += dt.timedelta(minutes=1)
        assert side.run() == [] and alert_posts(slack, "CAL") == []

        side.ingest(tmp_path, "llamas.vtt", LLAMA_NEWS)
        clock.now += dt.timedelta(minutes=1)
        [outcome] = side.run()
        assert outcome.status == "posted" and outcome.episodes == ("llamas",)
        [post] = alert_posts(slack, "CAL")
        valid_message(post)
        text = json.dumps(post)
        assert "New quotes for alert #1" in text and "*zanzibar* *llamas*" in text.lower()
        assert post["metadata"]["event_payload"] == {"alert": 1, "episodes": ["llamas"]}
        for _ in range(3):  # later passes, and a restarted process, post nothing more
            clock.now += dt.timedelta(minutes=1)
            assert side.run() == []
        restarted = Alerting(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, slack, clock, "restarted")
        assert restarted.run() == [] and len(alert_posts(slack, "CAL")) == 1

        assert "Alert #1 removed" in command(url, slack, "alert remove 1")["text"]
        assert "There is no alert #1" in command(url, slack, "alert remove 1")["text"]
        # typed in Slack, the query's markup is read as meant, stored and shown as its words
        marked = command(url, slack, "alert add <!here> *stargate* `lamps` :fire:", channel="CAL")
        assert "`stargate lamps` in <#CAL> added" in marked["text"], marked["text"]
        assert "here" not in command(url, slack, "alert list")["text"]


def test_an_alert_a_channel_has_already_is_not_added_again_and_posts_once(db_url, tmp_path, slack):
    """`/quote alert add` of a query the channel's alert has already (as stored: markup, spacing and
    case aside) names that alert and stores nothing, so one matching ingest is one post; another
    channel may have the same query."""
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    side = Alerting(db_url, tmp_path, slack, clock, "one")
    side.ingest(tmp_path, "filler.vtt", FILLER)
    with serving_alerts(side, slack) as url:
        assert "Alert #1 `zanzibar llamas` in <#CDUP> added" in command(url, slack, "alert add zanzibar llamas",
                                                                         channel="CDUP")["text"]
        for again in ("zanzibar llamas", "  *Zanzibar*   llamas ", "zanzibar llamas :llama:"):
            said = command(url, slack, f"alert add {again}", channel="CDUP", user="U456")["text"]
            assert said.startswith("Alert #1 already watches `zanzibar llamas` in this channel."), said
            assert "added" not in said.replace("nothing was added", "")
        assert [(a.id, a.channel_id, a.query) for a in side.alerter.alerts()] == [(1, "CDUP", "zanzibar llamas")]
        other = command(url, slack, "alert add zanzibar llamas", channel="COTHER")["text"]
        assert "Alert #2 `zanzibar llamas` in <#COTHER> added" in other, other
        assert "Alert #3 `zanzibar llamas fort` in <#CDUP> added" in command(
            url, slack, "alert add zanzibar llamas fort", channel="CDUP")["text"]

        clock.now += dt.timedelta(minutes=1)
        side.ingest(tmp_path, "llamas.vtt", LLAMA_NEWS)
        clock.now += dt.timedelta(minutes=1)
        side.run()
        posted = [p["metadata"]["event_payload"]["alert"] for p in alert_posts(slack, "CDUP")]
        assert posted.count(1) == 1 and set(posted) <= {1, 3}, posted  # one post for the one alert
        assert [p["metadata"]["event_payload"]["alert"] for p in alert_posts(slack, "COTHER")] == [2]


def test_a_burst_of_episodes_is_one_post(tmp_path, slack):
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    side = Alerting(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, slack, clock, "one", settle_s=60)
    side.ingest(tmp_path, "filler.vtt", FILLER)
    side.alerter.add("T1", "CBURST", "zanzibar llamas", "U1")
    clock.now += dt.timedelta(minutes=1)
    side.ingest(tmp_path, "llamas.vtt", LLAMA_NEWS)
    clock.now += dt.timedelta(seconds=20)
    assert [o.status for o in side.run()] == ["waiting"]  # more may be on the way
    side.ingest(tmp_path, "more.vtt", MORE_LLAMAS)
    side.ingest(tmp_path, "harbour.vtt", HARBOUR)
    clock.now += dt.timedelta(seconds=30)
    assert [o.status for o in side.run()] == ["waiting"]
    clock.now += dt.timedelta(seconds=61)
    [outcome] = side.run()
    assert outcome.status == "posted" and sorted(outcome.episodes) == ["llamas", "more"]
    [post] = alert_posts(slack, "CBURST")
    assert "in 2 new episodes" in json.dumps(valid_message(post))
    clock.now += dt.timedelta(minutes=5)
    assert side.run() == [] and len(alert_posts(slack, "CBURST")) == 1


def test_two_replicas_racing_and_a_restart_between_post_once(db_url, tmp_path, slack):
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    a = Alerting(db_url, tmp_path, slack, clock, "replica-a")
    a.ingest(tmp_path, "filler.vtt", FILLER)  # the library before: nothing about llamas
    b = Alerting(db_url, tmp_path, slack, clock, "replica-b")
    alerts = [a.alerter.add("T1", f"CRACE{i}", "zanzibar llamas", "U1") for i in range(3)]
    clock.now += dt.timedelta(minutes=1)
    a.ingest(tmp_path, "llamas.vtt", LLAMA_NEWS)
    clock.now += dt.timedelta(minutes=1)
    start = threading.Barrier(2)
    outcomes: list = []

    def run(side: Alerting) -> None:
        side.library.refresh()
        start.wait()
        outcomes.extend(side.alerter.run())

    threads = [threading.Thread(target=run, args=(side,)) for side in (a, b)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert [len(alert_posts(slack, f"CRACE{i}")) for i in range(3)] == [1, 1, 1]
    assert sum(o.status == "posted" for o in outcomes) == 3
    assert {o.status for o in outcomes} <= {"posted", "busy"}

    # a replica claims the next episode, posts, and dies before marking it done
    b.ingest(tmp_path, "more.vtt", MORE_LLAMAS)
    clock.now += dt.timedelta(minutes=1)
    a.library.refresh()
    dying = a.alerter
    alert = alerts[0]
    assert dying.store.lease(alert.id, "died", clock.now)
    dying.store.mark(alert.id, ["more"], "claimed", "died", clock.now)
    found, _ = dying._matches(alert, [e for e in a.library.episodes() if e.id == "more"])
    from bot.posting import post as post_message
    from handlers.alerts import alert_message
    post_message(web_client(Settings(SLACK_BOT_TOKEN="xoxb-alerts", SLACK_API_URL=slack.base_url)), "CRACE0",
                 alert_message(alert, found),
                 {"event_type": ALERT_EVENT, "event_payload": {"alert": alert.id, "episodes": ["more"]}})
    clock.now += dt.timedelta(minutes=1)
    assert all(o.status == "busy" or o.alert_id != alert.id for o in b.run())  # its lease still runs
    clock.now += dt.timedelta(minutes=11)
    restarted = Alerting(db_url, tmp_path, slack, clock, "after-restart")
    outcomes = {o.alert_id: o.status for o in restarted.run()}
    assert outcomes.get(alert.id) in (None, "already")
    assert len(alert_posts(slack, "CRACE0")) == 2  # the dead replica's post, not a third
    assert restarted.alerter.store.states(alert.id)["more"][0] == DONE
    assert [len(alert_posts(slack, f"CRACE{i}")) for i in (1, 2)] == [2, 2]  # the others got "more" once


def test_quotebot_serve_posts_an_alert_after_an_ingest_by_another_process(tmp_path, slack):
    """End to end: `quotebot serve` runs; `quotebot ingest` (another process) adds a matching episode;
    the server's index reload finds it and the alert is posted, once."""
    from .test_digest import quotebot as run_quotebot

    data = tmp_path / "data"
    (tmp_path / "filler.vtt").write_text(FILLER)
    assert run_quotebot(data, "ingest", str(tmp_path / "filler.vtt")).returncode == 0
    AlertStore(Store(f"sqlite:///{data / 'quotebot.db'}").engine).add("T1", "CSERVE", "zanzibar llamas", "U1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = run_quotebot(data, "serve", "--host", "127.0.0.1", "--port", str(port), slack=slack,
                          extra={"SLACK_SIGNING_SECRET": SECRET, "QUOTEBOT_RELOAD_S": "0.2",
                                 "QUOTEBOT_DIGEST_TICK_S": "0.2", "QUOTEBOT_ALERT_SETTLE_S": "0"},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # serving: the health check answers
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        (tmp_path / "llamas.vtt").write_text(LLAMA_NEWS)
        (tmp_path / "harbour.vtt").write_text(HARBOUR)
        ingested = run_quotebot(data, "ingest", str(tmp_path / "harbour.vtt"), str(tmp_path / "llamas.vtt"))
        assert ingested.returncode == 0, ingested.stderr
        slack.wait_for("chat.postMessage", timeout=60)
        time.sleep(1.5)  # more reloads and ticks: still one post
        [post] = alert_posts(slack, "CSERVE")
        assert post["metadata"]["event_payload"]["episodes"] == ["llamas"]
        assert "*zanzibar* *llamas*" in json.dumps(valid_message(post)).lower()
    finally:
        server.terminate()
        server.communicate(timeout=30)
