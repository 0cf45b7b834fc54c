"""Tests for bot.localslack: the local Slack Web API server and the signed-request builders."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.localslack import (
    Call,
    LocalSlack,
    block_actions_body,
    event_body,
    signed_headers,
    slash_command_body,
)

SECRET = "secret"


@pytest.fixture
def server() -> Iterator[LocalSlack]:
    with LocalSlack() as s:
        yield s


@pytest.fixture
def client(server: LocalSlack) -> WebClient:
    c = WebClient(token="xoxb-test", base_url=server.base_url)
    c.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return c


def test_post_message_is_recorded_with_decoded_blocks(server: LocalSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*quote*"}}]
    first = client.chat_postMessage(channel="C1", text="fallback", blocks=blocks, thread_ts="1.2")
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["ok"] and first["channel"] == "C1"
    assert first["message"]["blocks"] == blocks and first["message"]["thread_ts"] == "1.2"
    assert float(second["ts"]) > float(first["ts"])
    (call, _) = server.wait_for("chat.postMessage", 2)
    assert call.path == "/api/chat.postMessage" and call.authed and not call.failed
    assert call.body["blocks"] == blocks and call.body["text"] == "fallback"
    # The token is never kept, neither as a header nor as a field.
    assert "authorization" not in call.headers and "xoxb-test" not in repr(server.calls())


def test_form_encoded_json_fields_are_decoded(server: LocalSlack, client: WebClient) -> None:
    blocks = [{"type": "divider"}]
    client.api_call("chat.postMessage", data={"channel": "C1", "blocks": json.dumps(blocks)})
    assert server.wait_for("chat.postMessage")[0].body["blocks"] == blocks


def test_canned_answers(server: LocalSlack, client: WebClient) -> None:
    assert client.auth_test()["user_id"] == "U0QUOTEBOT"
    server.user_tz["U9"] = "Europe/Paris"
    assert client.users_info(user="U9")["user"]["tz"] == "Europe/Paris"
    assert client.users_info(user="U8")["user"]["tz"] == "UTC"
    assert client.team_info()["team"]["id"] == "T0LOCAL"
    assert client.chat_postEphemeral(channel="C1", user="U9", text="x")["message_ts"]
    assert client.chat_update(channel="C1", ts="5.6", text="y")["ts"] == "5.6"
    assert client.chat_unfurl(channel="C1", ts="5.6", unfurls={})["ok"]
    assert client.reactions_add(channel="C1", timestamp="5.6", name="x")["ok"]


def test_rate_limit_is_retried_after_retry_after(server: LocalSlack, client: WebClient) -> None:
    server.fail_next("chat.postMessage", status=429, retry_after=1)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    failed, ok = server.wait_for("chat.postMessage", 2)
    assert failed.failed and failed.status == 429 and not ok.failed
    assert ok.time - failed.time >= 1.0


def test_server_error_injection(server: LocalSlack, client: WebClient) -> None:
    server.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 500
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]  # only once
    assert [c.failed for c in server.calls("chat.postMessage")] == [True, False]


def test_conversations_replies(server: LocalSlack, client: WebClient) -> None:
    thread = [{"ts": "1.1", "text": "parent", "user": "U1"}, {"ts": "1.2", "text": "reply", "user": "U2"}]
    server.replies[("C1", "1.1")] = thread
    assert client.conversations_replies(channel="C1", ts="1.1")["messages"] == thread
    assert client.conversations_replies(channel="C1", ts="9.9")["messages"] == []


def test_response_url_post_is_recorded(server: LocalSlack) -> None:
    url = server.response_url("cmd")
    assert url.startswith(f"http://127.0.0.1:{server.port}/respond/cmd-")
    assert url != server.response_url("cmd")
    resp = WebhookClient(url).send(text="hello", response_type="ephemeral")
    assert (resp.status_code, resp.body) == (200, "ok")
    (call,) = server.wait_for("response_url")
    assert call.path == urlsplit(url).path
    assert call.body == {"text": "hello", "response_type": "ephemeral"}
    assert WebhookClient(url.rsplit("/", 1)[0] + "/unknown").send(text="x").status_code == 404


def test_unauthenticated_call_is_refused(server: LocalSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=server.base_url).chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "not_authed"
    (call,) = server.calls("chat.postMessage")
    assert not call.authed
    req = urllib.request.Request(server.base_url + "auth.test", data=b"token=xoxb-form", method="POST")
    with urllib.request.urlopen(req) as r:
        assert json.load(r)["ok"] is True
    (call,) = server.calls("auth.test")
    assert call.authed and "token" not in call.body


def test_wait_for_times_out_with_clear_message(server: LocalSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"expected 1 'chat.postMessage'.*got 0.*auth\.test"):
        server.wait_for("chat.postMessage", timeout=0.05)
    server.clear()
    assert server.calls() == []


def test_on_call_callback() -> None:
    seen: list[Call] = []
    with LocalSlack(on_call=seen.append) as s:
        WebClient(token="xoxb-test", base_url=s.base_url).chat_postMessage(channel="C1", text="x")
        s.wait_for("chat.postMessage")
    assert [c.method for c in seen] == ["chat.postMessage"] and seen[0].response["ok"]


def test_signed_headers_verify() -> None:
    body = slash_command_body("hello", response_url="http://x/")
    headers = signed_headers(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body=body, timestamp=headers["X-Slack-Request-Timestamp"],
                             signature=headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    old = signed_headers(body, SECRET, timestamp=int(time.time()) - 3600)
    assert not verifier.is_valid_request(body, old)


def test_body_builders_shape() -> None:
    fields = dict(parse_qsl(slash_command_body("a b&c", response_url="http://r/")))
    assert fields["command"] == "/quote" and fields["text"] == "a b&c" and fields["response_url"] == "http://r/"
    payload = json.loads(dict(parse_qsl(block_actions_body("more", "v", response_url="http://r/")))["payload"])
    assert payload["actions"][0] == {**payload["actions"][0], "action_id": "more", "value": "v",
                                     "block_id": "quote", "type": "button"}
    envelope = json.loads(event_body({"type": "app_mention"}, event_id="Ev1"))
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["authorizations"][0]["user_id"] == "U0QUOTEBOT"


# -- a real bolt App fed with the builders -----------------------------------------------------
@pytest.fixture
def app(server: LocalSlack) -> App:
    return App(client=WebClient(token="xoxb-test", base_url=server.base_url), signing_secret=SECRET)


def dispatch(app: App, body: str) -> int:
    headers = {k: [v] for k, v in signed_headers(body, SECRET).items()}
    return app.dispatch(BoltRequest(body=body, headers=headers)).status


def test_bolt_slash_command_respond(server: LocalSlack, app: App) -> None:
    @app.command("/quote")
    def quote(ack, respond, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond("hi")

    assert server.wait_for("auth.test")  # App() verified its token against us
    url = server.response_url("cmd")
    assert dispatch(app, slash_command_body("cats", response_url=url)) == 200
    (call,) = server.wait_for("response_url")
    assert call.body["text"] == "hi" and call.path.endswith(url.rsplit("/", 1)[1])
    assert dispatch(app, slash_command_body("x", command="/other", response_url=url)) == 404
    bad = {k: [v] for k, v in signed_headers("other", SECRET).items()}
    assert app.dispatch(BoltRequest(body=slash_command_body("x", response_url=url), headers=bad)).status == 401


def test_bolt_block_action(server: LocalSlack, app: App) -> None:
    got: list[tuple[str, str]] = []

    @app.action("more")
    def more(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        ack()
        got.append((body["actions"][0]["value"], body["user"]["id"]))
        respond(text="more", replace_original=False)

    message = {"type": "message", "ts": "1700000000.000100", "text": "card", "blocks": []}
    url = server.response_url("btn")
    assert dispatch(app, block_actions_body("more", "q:1", user_id="U7", response_url=url, message=message)) == 200
    (call,) = server.wait_for("response_url")
    assert got == [("q:1", "U7")] and call.body["text"] == "more"


def test_bolt_app_mention(server: LocalSlack, app: App) -> None:
    @app.event("app_mention")
    def mention(event, client) -> None:  # type: ignore[no-untyped-def]
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="pong")

    event = {"type": "app_mention", "user": "U123", "text": "<@U0QUOTEBOT> ping", "ts": "1700000001.000200",
             "channel": "C123", "event_ts": "1700000001.000200"}
    assert dispatch(app, event_body(event, event_id="Ev123")) == 200
    (call,) = server.wait_for("chat.postMessage")
    assert call.body["thread_ts"] == "1700000001.000200" and call.body["text"] == "pong"
