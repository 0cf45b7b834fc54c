"""Running for real: replicas of `quotebot serve` on one database, index reloads, JSON logs,
metrics, a graceful stop, and OAuth installs serving many workspaces."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest

from bot.localslack import LocalSlack, event_body, signed_headers, slash_command_body

from .conftest import ROOT, install, oauth_app

SECRET = "production-signing-secret"
TOKEN = "xoxb-production-secret-token"
NEW_TRANSCRIPT = """WEBVTT

00:00:01.000 --> 00:00:09.000
<v Grace Hopper>The zanzibarquokka compiler turned plain words into machine code, long before anyone believed it.

00:00:09.000 --> 00:00:15.000
<v Grace Hopper>Nanoseconds are a foot of wire, so hand one out to every admiral who asks.

00:00:15.000 --> 00:00:22.000
<v Grace Hopper>It is easier to ask forgiveness than it is to get permission, and ships are safe in harbour.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(data_dir, db_url: str, slack: LocalSlack | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOTEBOT_"))}
    env.update(QUOTEBOT_DATA_DIR=str(data_dir), QUOTEBOT_DATABASE_URL=db_url)
    if slack is not None:
        env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url)
    env.update(extra)
    return env


def quotebot(env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


class Replica:
    def __init__(self, data_dir, db_url: str, slack: LocalSlack, **extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = env_for(data_dir, db_url, slack, QUOTEBOT_RELOAD_S="0.5", QUOTEBOT_DIGEST_TICK_S="60", **extra)
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port",
                                         str(self.port)], env=env, cwd=ROOT, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"replica died: {self.process.communicate()[1][-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("replica did not come up")

    def health(self) -> dict:
        return httpx.get(self.url + "/healthz", timeout=5).json()

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=60)
        return self.process.returncode, err


def quote(url: str, slack: LocalSlack, text: str, request_id: str | None = None) -> tuple[int, dict | None]:
    """A signed /quote; the HTTP status and what arrived at its response_url (None if nothing did)."""
    reply = slack.response_url()
    body = slash_command_body(text, response_url=reply)
    headers = {**signed_headers(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
    if request_id:
        headers["X-Request-Id"] = request_id
    status = httpx.post(url + "/slack/events", content=body, headers=headers, timeout=30).status_code
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        got = [c.body for c in slack.calls("response_url") if c.path == urlsplit(reply).path]
        if got:
            return status, got[-1]
        time.sleep(0.02)
    return status, None


@pytest.fixture
def library_db(db_url, tmp_path):
    """A database with the samples ingested, as the one-shot ingest job leaves it."""
    run = quotebot(env_for(tmp_path / "ingest", db_url), "ingest", "--samples")
    assert run.returncode == 0, run.stderr
    return db_url


def test_replicas_reload_when_the_library_changes_without_failing_a_request(library_db, tmp_path):
    with LocalSlack() as slack:
        replicas = [Replica(tmp_path / f"replica-{i}", library_db, slack) for i in range(2)]
        try:
            before = {r.health()["library_version"] for r in replicas}
            assert len(before) == 1
            failures, answered, stop = [], [], threading.Event()

            def load(replica: Replica) -> None:
                while not stop.is_set():
                    status, card = quote(replica.url, slack, "export controls")
                    answered.append(status)
                    if status != 200 or card is None or "Sorry" in card.get("text", ""):
                        failures.append((status, card))

            threads = [threading.Thread(target=load, args=(r,)) for r in replicas]
            [t.start() for t in threads]
            new = tmp_path / "hopper.vtt"
            new.write_text(NEW_TRANSCRIPT)
            assert quotebot(env_for(tmp_path / "ingest", library_db), "ingest", str(new)).returncode == 0
            landed = time.monotonic()
            waits = []
            for replica in replicas:
                while replica.health()["library_version"] in before:
                    assert time.monotonic() - landed < 60, "a replica did not notice the ingest"
                    time.sleep(0.1)
                waits.append(time.monotonic() - landed)
            time.sleep(0.5)
            stop.set()
            [t.join() for t in threads]
            assert failures == [] and len(answered) > 10
            assert max(waits) < 30  # well within the minute the issue allows (checked every 0.5 s here)
            for replica in replicas:
                status, card = quote(replica.url, slack, "zanzibarquokka compiler")
                assert status == 200 and "Grace Hopper" in json.dumps(card)

            # an event delivered to both replicas (a retry landing on the other one) is answered once
            event = event_body({"type": "app_mention", "user": "U1", "text": "<@U0QUOTEBOT> zanzibarquokka",
                                "channel": "C9", "ts": "1700000000.000900"}, event_id="EvREPLICATED1")
            headers = {**signed_headers(event, SECRET), "Content-Type": "application/json"}
            for replica in replicas:
                assert httpx.post(replica.url + "/slack/events", content=event, headers=headers).status_code == 200
            time.sleep(1.5)
            assert len([c for c in slack.calls("chat.postMessage") if c.body.get("channel") == "C9"]) == 1
        finally:
            outs = [r.stop() for r in replicas]
        assert [code for code, _ in outs] == [0, 0]
        assert all("index reloaded at version" in err for _, err in outs)


def test_json_logs_with_request_ids_metrics_and_a_graceful_stop(library_db, tmp_path):
    with LocalSlack() as slack:
        replica = Replica(tmp_path / "replica", library_db, slack, QUOTEBOT_LOG_FORMAT="json")
        try:
            status, card = quote(replica.url, slack, "export controls", request_id="req-42")
            assert status == 200 and card["blocks"]
            metrics = httpx.get(replica.url + "/metrics").text
            assert re.search(r'quotebot_requests_total\{path="/slack/events",status="200"\} [1-9]', metrics)
            assert 'quotebot_request_seconds_bucket{le="0.1",path="/slack/events"}' in metrics
            assert re.search(r"quotebot_index_segments \d{3,}", metrics)
            assert 'quotebot_digest_sends_total{outcome="posted"}' in metrics

            # stop while an answer is still on its way: it is delivered before the process exits
            slack.delay["response_url"] = 2.0
            reply = slack.response_url("slow")
            body = slash_command_body("tsmc taiwan", response_url=reply)
            headers = {**signed_headers(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
            assert httpx.post(replica.url + "/slack/events", content=body, headers=headers).status_code == 200
            time.sleep(0.3)
        finally:
            code, err = replica.stop()
        assert code == 0
        assert [c for c in slack.calls("response_url") if c.path == urlsplit(reply).path]
        lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is JSON
        assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
        assert any(r["request_id"] == "req-42" and "/slack/events 200" in r["message"] for r in lines)
        assert lines[-1]["message"] == "stopped"
        assert TOKEN not in err and SECRET not in err


def test_oauth_installs_serve_many_workspaces(tmp_path):
    with oauth_app(tmp_path, SECRET, NEW_TRANSCRIPT) as (url, slack, parts):
        for team in ("T0AAA", "T0BBB"):  # two workspaces install the app
            query = install(url, slack, team)
            assert query["client_id"] == ["111.222"] and "chat:write" in query["scope"][0]
        forged = httpx.get(url + "/slack/oauth_redirect", params={"code": "code-T0AAA", "state": "forged"})
        assert forged.status_code == 400  # an unknown state is refused

        for team in ("T0AAA", "T0BBB"):  # each workspace is answered with its own token
            event = event_body({"type": "app_mention", "user": "U1", "text": "<@U0QUOTEBOT> zanzibarquokka",
                                "channel": f"C{team}", "ts": "1700000000.000100"}, team_id=team)
            headers = {**signed_headers(event, SECRET), "Content-Type": "application/json"}
            assert httpx.post(url + "/slack/events", content=event, headers=headers).status_code == 200
            [post] = slack.wait_for("chat.postMessage", count=1 if team == "T0AAA" else 2)[-1:]
            assert post.body["channel"] == f"C{team}" and post.team == team and "Grace Hopper" in json.dumps(post.body)

        # digests are per workspace, posted with that workspace's token
        from handlers.digest import Subscription

        for team in ("T0AAA", "T0BBB"):
            parts.digester.subscribe(Subscription(team, "CDIGEST", topics="zanzibarquokka", weekends=True))
        for sub in parts.digester.subscriptions():
            import datetime as dt

            assert parts.digester.send(sub, dt.date(2026, 11, 24)).status == "posted"
        digests = [c for c in slack.calls("chat.postMessage") if c.body.get("channel") == "CDIGEST"]
        assert sorted(c.team for c in digests) == ["T0AAA", "T0BBB"]
        with pytest.raises(LookupError, match="T0ZZZ has not installed"):
            parts.workspaces.client_for("T0ZZZ")
