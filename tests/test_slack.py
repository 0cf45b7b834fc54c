"""The Slack app as users meet it: real HTTP on 127.0.0.1, signed requests, a local Slack Web API."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.app import build_app
from bot.events import EventLog
from bot.localslack import (
    LocalSlack,
    block_actions_body,
    event_body,
    signed_headers,
    slash_command_body,
)
from bot.serve import http_server
from bot.settings import Settings
from bot.workspaces import BOT_SCOPES
from handlers import cards
from index.ingest import ingest
from index.search import Hit, Library
from index.store import Store

from .blockkit import valid_message
from .conftest import SAMPLES

SECRET = "test-signing-secret"

NOISY = """WEBVTT

00:00:01.000 --> 00:00:06.000
<v Mallory>Attention please &lt;!channel&gt; and &lt;!here&gt; and &lt;@U999&gt;, the zanzibar llamas escaped again!

00:00:06.000 --> 00:00:12.000
<v Mallory>Click &lt;https://evil.example|this innocent link&gt; to see the zanzibar llamas &amp; their keepers.
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    root = tmp_path_factory.mktemp("slack")
    noisy = root / "noisy.vtt"
    noisy.write_text(NOISY)
    store = Store(f"sqlite:///{root / 'lib.db'}")
    assert all(r.ok for r in ingest([str(SAMPLES), str(noisy)], store))
    library = Library.open(store, root / "index")
    slack = LocalSlack()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                        QUOTEBOT_DATA_DIR=str(root))
    app = build_app(settings, library, EventLog(store.engine))
    server = http_server(app, library, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield url, slack, library
    server.shutdown()
    server.server_close()
    slack.close()


def send(url: str, body: str, *, json_body: bool = False, timestamp: int | None = None, secret: str = SECRET,
         extra: dict | None = None) -> httpx.Response:
    headers = signed_headers(body, secret, timestamp)
    headers["Content-Type"] = "application/json" if json_body else "application/x-www-form-urlencoded"
    headers.update(extra or {})
    return httpx.post(url + "/slack/events", content=body, headers=headers, timeout=10)


def command(url: str, slack: LocalSlack, text: str, *, channel: str = "C123", user: str = "U123",
            secret: str = SECRET) -> dict:
    """Run /quote and return what arrived at its response_url."""
    reply = slack.response_url()
    started = time.monotonic()
    response = send(url, slash_command_body(text, response_url=reply, channel_id=channel, user_id=user),
                    secret=secret)
    assert response.status_code == 200 and time.monotonic() - started < 3  # acked at once
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [c for c in slack.calls("response_url") if c.path == urlsplit(reply).path]
        if mine:
            return valid_message(mine[-1].body)  # slack_sdk's Block Kit models accept it
        time.sleep(0.01)
    raise AssertionError(f"nothing arrived at the response_url of /quote {text}")


def click(url: str, slack: LocalSlack, button: dict, user: str = "U123") -> list[dict]:
    reply = slack.response_url()
    response = send(url, block_actions_body(button["action_id"], button.get("value", ""), user_id=user,
                                            response_url=reply))
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        got = [c.body for c in slack.calls("response_url") if c.path == urlsplit(reply).path]
        if got and (button["action_id"] != cards.POST or len(got) >= 2):
            return got
        time.sleep(0.02)
    raise AssertionError("no response to the click")


def buttons_of(message: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def all_text(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False) + message.get("text", "")


def test_quote_answers_with_a_card(bot):
    url, slack, _ = bot
    message = command(url, slack, "export controls")
    assert message["response_type"] == "ephemeral"
    quote = message["blocks"][0]["text"]
    assert quote["type"] == "mrkdwn" and quote["text"].startswith("> ") and quote["verbatim"] is True
    assert "*export*" in quote["text"].lower() or "*export" in quote["text"].lower()
    source = next(b for b in message["blocks"] if b.get("block_id") == "quote_source")["elements"][0]["text"]
    assert "Unknown speaker" in source or "*" in source  # a speaker, in bold, or said to be unknown
    link = source[source.index("<") + 1: source.index("|")]
    assert parse_qs(urlsplit(link).query)["t"][0].endswith("s")
    count = next(b for b in message["blocks"] if b.get("block_id") == "quote_count")["elements"][0]["text"]
    assert count.startswith("1 of ")
    found = buttons_of(message)
    assert {cards.POST, cards.NEXT, cards.CONTEXT, cards.OPEN} <= set(found)
    assert found[cards.OPEN]["url"] == link and found[cards.OPEN]["text"]["text"].startswith("Open at ")
    assert message["text"] and "None" not in all_text(message)


def test_speaker_and_the_timestamp_link_on_a_merged_episode(bot):
    url, slack, _ = bot
    message = command(url, slack, '"AWS pricing for H100s" speaker:dylan')
    source = next(b for b in message["blocks"] if b.get("block_id") == "quote_source")["elements"][0]["text"]
    assert source.startswith("*Dylan Patel*")
    assert "https://www.youtube.com/watch?v=_1f-o0nqpEI&amp;t=" not in source  # the URL is not entity-mangled
    assert "youtube.com/watch?v=_1f-o0nqpEI&t=" in source


def test_help_no_match_and_malformed_query(bot):
    url, slack, _ = bot
    for text in ["", "help"]:
        assert "speaker:" in command(url, slack, text)["text"]
    nothing = command(url, slack, "sourdough starter recipe")
    assert "No quote matched" in nothing["text"] and "*sourdough*" in nothing["text"]
    bad = command(url, slack, '"export controls')
    assert "unclosed quote" in bad["text"]


def test_transcript_text_never_pings_or_links(bot):
    url, slack, _ = bot
    message = command(url, slack, "zanzibar llamas attention")
    text = all_text(message)
    for raw in ["<!channel>", "<!here>", "<@U999>", "<https://evil.example"]:
        assert raw not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U999&gt;" in text


def test_next_previous_context_and_post(bot):
    url, slack, _ = bot
    first = command(url, slack, "export controls")
    [second] = click(url, slack, buttons_of(first)[cards.NEXT])
    assert second["replace_original"] is True
    count = next(b for b in second["blocks"] if b.get("block_id") == "quote_count")["elements"][0]["text"]
    assert count.startswith("2 of ")
    assert second["blocks"][0]["text"]["text"] != first["blocks"][0]["text"]["text"]
    [back] = click(url, slack, buttons_of(second)[cards.PREVIOUS])
    assert back["blocks"][0] == first["blocks"][0]
    [context] = click(url, slack, buttons_of(first)[cards.CONTEXT])
    around = next(b for b in context["blocks"] if b.get("block_id") == "quote_context")["text"]["text"]
    assert "▶" in around and around.count("\n\n") >= 1
    posted = click(url, slack, buttons_of(first)[cards.POST], user="U777")
    assert posted[0].get("delete_original") is True
    shared = posted[1]
    assert shared["response_type"] == "in_channel" and "Shared by <@U777>" in all_text(shared)
    assert shared["blocks"][0] == first["blocks"][0]


def test_mention_replies_in_the_thread_once_even_when_retried(bot):
    url, slack, _ = bot
    slack.clear()
    event = {"type": "app_mention", "user": "U123", "channel": "C123", "ts": "1700000100.000200",
             "thread_ts": "1700000000.000100", "text": "<@U0QUOTEBOT> export controls", "event_ts": "1700000100.000200"}
    body = event_body(event, event_id="EvMENTION1")
    assert send(url, body, json_body=True).status_code == 200
    assert (
        send(
            url, body, json_body=True, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        ).status_code
        == 200
    )
    [post] = slack.wait_for("chat.postMessage", 1)
    time.sleep(0.5)
    assert len(slack.calls("chat.postMessage")) == 1  # the retry answered nothing
    assert post.body["thread_ts"] == "1700000000.000100" and post.body["channel"] == "C123"
    assert cards.MORE in buttons_of(post.body)
    assert post.authed


def test_mention_outside_a_thread_starts_one(bot):
    url, slack, _ = bot
    slack.clear()
    event = {"type": "app_mention", "user": "U123", "channel": "C9", "ts": "1700000200.000300",
             "text": "<@U0QUOTEBOT> lithography", "event_ts": "1700000200.000300"}
    send(url, event_body(event), json_body=True)
    [post] = slack.wait_for("chat.postMessage", 1)
    assert post.body["thread_ts"] == "1700000200.000300"


def test_bare_mention_in_a_thread_searches_the_root_message(bot):
    url, slack, _ = bot
    slack.clear()
    slack.replies[("C5", "1700000300.000100")] = [
        {"ts": "1700000300.000100", "user": "U5", "text": "What did they say about TSMC and Taiwan?"}]
    event = {"type": "app_mention", "user": "U123", "channel": "C5", "ts": "1700000310.000100",
             "thread_ts": "1700000300.000100", "text": "<@U0QUOTEBOT>", "event_ts": "1700000310.000100"}
    send(url, event_body(event), json_body=True)
    [post] = slack.wait_for("chat.postMessage", 1)
    assert slack.calls("conversations.replies")
    assert "tsmc" in all_text(post.body).lower() or "taiwan" in all_text(post.body).lower()


def test_rate_limited_posts_are_retried(bot):
    url, slack, _ = bot
    slack.clear()
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    event = {"type": "app_mention", "user": "U123", "channel": "C7", "ts": "1700000400.000100",
             "text": "<@U0QUOTEBOT> export controls", "event_ts": "1700000400.000100"}
    send(url, event_body(event), json_body=True)
    calls = slack.wait_for("chat.postMessage", 2, timeout=10)
    assert calls[0].failed and not calls[1].failed


def test_a_failure_gets_an_apology(bot):
    url, slack, _ = bot
    slack.clear()
    slack.fail_next("conversations.replies", status=500, times=5)
    event = {"type": "app_mention", "user": "U123", "channel": "C8", "ts": "1700000500.000200",
             "thread_ts": "1700000500.000100", "text": "<@U0QUOTEBOT>", "event_ts": "1700000500.000200"}
    send(url, event_body(event), json_body=True)
    [post] = slack.wait_for("chat.postMessage", 1, timeout=10)
    assert "Sorry" in post.body["text"]


def test_link_unfurls_into_the_quote_at_that_second(bot):
    url, slack, _ = bot
    slack.clear()
    link = "https://www.youtube.com/watch?v=_1f-o0nqpEI&t=3537s"
    event = {"type": "link_shared", "channel": "C123", "user": "U123", "message_ts": "1700000600.000100",
             "unfurl_id": "U1", "source": "conversations_history", "links": [{"domain": "youtube.com", "url": link},
             {"domain": "youtube.com", "url": "https://www.youtube.com/watch?v=unknown&t=5s"}]}
    send(url, event_body(event), json_body=True)
    [call] = slack.wait_for("chat.unfurl", 1)
    unfurls = call.body["unfurls"]
    assert list(unfurls) == [link]
    source = next(b for b in unfurls[link]["blocks"] if b.get("block_id") == "quote_source")["elements"][0]["text"]
    assert "00:58:" in source or "00:59:" in source


def test_forged_and_stale_requests_get_401(bot):
    url, slack, _ = bot
    body = slash_command_body("export controls", response_url=slack.response_url())
    assert send(url, body, secret="not-the-secret").status_code == 401
    assert send(url, body, timestamp=int(time.time()) - 600).status_code == 401
    unsigned = httpx.post(url + "/slack/events", content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401


def test_healthz_reports_the_index(bot):
    url, _, library = bot
    health = httpx.get(url + "/healthz").json()
    assert health["status"] == "ok" and health["segments"] == library.size > 0


def hit(text: str, **kw) -> Hit:
    base = {"text": text, "speaker": None, "start_s": None, "end_s": None, "episode": None, "podcast": None, "url": None, "score": 1.0,
                "matched": [], "translation": None, "episode_id": "e", "segment_id": 1}
    base.update(kw)
    return Hit(**base)


def test_cards_stay_inside_slack_limits():
    long = " ".join(["word"] * 2000)
    card = cards.search_card(hit(long, matched=["word"]), "word " * 90, 3, 50)
    assert len(card["blocks"]) <= 50
    for block in card["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert card["blocks"][0]["text"]["text"].endswith("…")
    assert all(len(e.get("value", "")) <= 2000 for e in buttons_of(card).values())
    assert "None" not in json.dumps(card)  # missing fields are left out
    assert "Unknown speaker" in json.dumps(card)


def test_translation_shows_when_the_match_came_through_it():
    card = cards.quote_blocks(hit("Reinforcement learning is terrible.", translation="强化学习很糟糕。",
                                  matched=["强化", "学习"]))
    assert any(b.get("block_id") == "quote_translation" and "*强化学习*" in b["text"]["text"] for b in card)
    plain = cards.quote_blocks(hit("Reinforcement learning is terrible.", translation="强化学习很糟糕。",
                                   matched=["reinforc"]))
    assert not any(b.get("block_id") == "quote_translation" for b in plain)


def test_unsafe_urls_are_not_linked():
    assert cards.safe_url("javascript:alert(1)") is None
    assert cards.safe_url("https://x.test/a|b>c") == "https://x.test/a%7Cb%3Ec"
    line = cards.attribution(hit("x", start_s=5.0, url="javascript:alert(1)", speaker="<!channel>"))
    assert "<" not in line.replace("&lt;", "") and "00:00:05" in line


def test_manifest_declares_what_the_app_handles():
    from .conftest import ROOT

    manifest = json.loads((ROOT / "manifest.json").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/quote" and command["url"].endswith("/slack/events")
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "link_shared", "app_home_opened", "app_uninstalled", "tokens_revoked"}  # the last two: lifecycle
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True and interactivity["request_url"].endswith("/slack/events")
    # the search modal's external selects load their options from here
    assert interactivity["message_menu_options_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True  # App Home (views.publish)
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is False  # the app reads no DMs
    from handlers import search_modal, shortcuts

    assert {(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]} == {
        ("global", search_modal.SHORTCUT), ("message", shortcuts.FIND)}
    assert all(len(s["name"]) <= 30 and len(s["description"]) <= 80 for s in manifest["features"]["shortcuts"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # what the handlers call: chat.postMessage/postEphemeral, chat.unfurl, conversations.replies/history/join,
    # users.info (a subscriber's time zone); and what they receive. App Home, shortcuts, modals (views.*) and
    # the conversations select need no scope beyond these (shortcuts come with "commands").
    assert scopes == {"commands", "chat:write", "app_mentions:read", "channels:history", "groups:history",
                      "links:read", "links:write", "users:read", "channels:join"}
    assert scopes == set(BOT_SCOPES)  # what OAuth installs ask for
