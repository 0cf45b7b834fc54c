"""Once, and only for the right caller: double clicks, crafted button values, replays, and events
the database could not record. Real HTTP, signed requests, the local Slack Web API, two replicas."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine

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
from handlers import cards
from index.ingest import ingest
from index.search import Library
from index.store import Store

from .conftest import SAMPLES
from .test_slack import SECRET, buttons_of, command, send


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Two replicas (own app, own event log object, own index) over one SQLite library, one local Slack."""
    root = tmp_path_factory.mktemp("once")
    store = Store(f"sqlite:///{root / 'lib.db'}")
    assert all(r.ok for r in ingest([str(SAMPLES)], store))
    slack = LocalSlack()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                        QUOTEBOT_DATA_DIR=str(root))
    urls, servers = [], []
    for n in range(2):
        replica_store = Store(store.url)
        library = Library.open(replica_store, root / f"index{n}")
        server = http_server(build_app(settings, library, EventLog(replica_store.engine)), library, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls.append(f"http://127.0.0.1:{server.server_port}")
    yield urls, slack, store
    for server in servers:
        server.shutdown()
        server.server_close()
    slack.close()


def channel_posts(slack: LocalSlack) -> list[dict]:
    return [c.body for c in slack.calls("response_url") if c.body.get("response_type") == "in_channel"]


def replies_to(slack: LocalSlack, response_url: str) -> list[dict]:
    return [c.body for c in slack.calls("response_url") if c.path == urlsplit(response_url).path]


def wait(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = condition()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("timed out")


def post_clicks(slack: LocalSlack, card: dict, message_ts: str, n: int = 2) -> list[str]:
    value = buttons_of(card)[cards.POST]["value"]
    return [block_actions_body(cards.POST, value, response_url=slack.response_url(), message_ts=message_ts)
            for _ in range(n)]


@pytest.mark.parametrize("how", ["at once", "150 ms apart", "byte-identical", "on two replicas"])
def test_a_double_click_on_post_posts_once(replicas, how):
    urls, slack, _ = replicas
    card = command(urls[0], slack, "export controls")
    message_ts = f"1700001000.{abs(hash(how)) % 10**6:06d}"
    slack.clear()
    bodies = post_clicks(slack, card, message_ts)
    if how == "byte-identical":
        bodies = [bodies[0], bodies[0]]
    targets = urls if how == "on two replicas" else [urls[0], urls[0]]
    statuses: list[int] = []

    def fire(i: int) -> None:
        statuses.append(send(targets[i], bodies[i]).status_code)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(2)]
    for i, thread in enumerate(threads):
        thread.start()
        if how == "150 ms apart" and i == 0:
            time.sleep(0.15)
    for thread in threads:
        thread.join()
    wait(lambda: channel_posts(slack))
    time.sleep(1.0)  # time enough for a second post to arrive, if there were one
    [post] = channel_posts(slack)
    assert post["blocks"][0] == card["blocks"][0] and "Shared by <@U123>" in json.dumps(post)
    # the repeat is acknowledged (a byte-identical copy is refused as a replay) and answers nothing
    assert sorted(statuses) in ([200, 200], [200, 401])
    # another card (a new /quote) posts again: the claim is per card, not per query
    again = command(urls[1], slack, "export controls")
    [body] = post_clicks(slack, again, f"1700002000.{abs(hash(how)) % 10**6:06d}", 1)
    assert send(urls[1], body).status_code == 200
    wait(lambda: len(channel_posts(slack)) == 2)


BAD_VALUES = ["x", "", "[1]", '{"q":"a"}', '{"i":NaN}', '{"q":"export controls","i":NaN}', "9" * 5000,
              '{"q":"export controls","i":Infinity}', '{"q":"export controls","i":[1]}', '["export controls",1]',
              '{"q":["export"],"i":0}', '{"q":"export controls","i":true}', '{"q":"export controls","i":-1}',
              '{"q":"export controls","i":1e400}', "[" * 5000 + "]" * 5000, "null", '"text"']


@pytest.mark.parametrize("action_id", [cards.MORE, cards.NEXT, cards.PREVIOUS, cards.CONTEXT, cards.POST])
def test_a_bad_button_value_says_the_button_has_expired(replicas, action_id):
    urls, slack, _ = replicas
    slack.clear()
    for value in BAD_VALUES:
        reply = slack.response_url()
        response = send(urls[0], block_actions_body(action_id, value, response_url=reply))
        assert response.status_code == 200, value[:40]
        [answer] = wait(lambda reply=reply: replies_to(slack, reply))
        assert answer["text"] == "That button has expired. Run /quote again.", value[:40]
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert not channel_posts(slack)


def test_a_button_whose_quote_is_gone_says_so_and_can_be_tried_again(replicas):
    urls, slack, _ = replicas
    slack.clear()
    value = cards.State("zzzqqq nothingmatches", 0).encode()
    for _ in range(2):  # the failed post released its claim: the second click is answered too
        reply = slack.response_url()
        body = block_actions_body(cards.POST, value, response_url=reply, message_ts="1700003000.000001")
        assert send(urls[0], body).status_code == 200
        [answer] = wait(lambda reply=reply: replies_to(slack, reply))
        assert "no longer in the library" in answer["text"]
    assert not channel_posts(slack)


def test_a_replayed_command_or_click_gets_401(replicas):
    urls, slack, _ = replicas
    reply = slack.response_url()
    body = slash_command_body("export controls", response_url=reply)
    headers_first = send(urls[0], body)
    assert headers_first.status_code == 200
    wait(lambda: replies_to(slack, reply))
    for url in urls:  # the same signed bytes again, to either replica, inside Slack's 5 minutes
        headers = signed_headers(body, SECRET, int(headers_first.request.headers["X-Slack-Request-Timestamp"]))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        assert httpx.post(url + "/slack/events", content=body, headers=headers, timeout=10).status_code == 401
    time.sleep(0.5)
    assert len(replies_to(slack, reply)) == 1


def test_an_event_the_database_cannot_record_gets_503_and_its_retry_is_answered(tmp_path):
    """The event log's database is locked (a long write elsewhere): Slack must hear "retry", not 200."""
    store = Store(f"sqlite:///{tmp_path / 'lib.db'}")
    assert all(r.ok for r in ingest([str(SAMPLES / "000_bcbdccec1200e6a3.txt")], store))
    library = Library.open(store, tmp_path / "index")
    impatient = create_engine(store.url, connect_args={"timeout": 0.2})
    slack = LocalSlack()
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                        QUOTEBOT_DATA_DIR=str(tmp_path))
    server = http_server(build_app(settings, library, EventLog(impatient)), library, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1700000700.000100",
                 "text": "<@U0QUOTEBOT> export controls", "event_ts": "1700000700.000100"}
        body = event_body(event, event_id="EvLOCKED1")
        holder = sqlite3.connect(str(tmp_path / "lib.db"))
        holder.execute("BEGIN IMMEDIATE")  # another process is writing
        try:
            assert send(url, body, json_body=True).status_code == 503
        finally:
            holder.rollback()
            holder.close()
        assert not slack.calls("chat.postMessage")
        retry = send(url, body, json_body=True, timestamp=int(time.time()) + 1,
                     extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
        assert retry.status_code == 200
        [post] = slack.wait_for("chat.postMessage", 1, timeout=10)
        assert post.body["thread_ts"] == "1700000700.000100"
    finally:
        server.shutdown()
        server.server_close()
        slack.close()
        impatient.dispose()
        store.close()
