"""The OAuth lifecycle over signed HTTP against the local Slack API, on SQLite and PostgreSQL: a
workspace that uninstalls the app or revokes its bot token loses its installation, its digests and
its keyword alerts; an Enterprise Grid org-wide install is found for answers and digests, and
uninstalling it ends them and its workspaces' alerts."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest

from bot.localslack import LocalSlack, event_body, signed_headers, slash_command_body
from handlers.digest import Subscription
from index.ingest import ingest

from .conftest import install, oauth_app
from .test_production import NEW_TRANSCRIPT, SECRET
from .test_surfaces import LLAMA_NEWS, alert_posts, wait_hook

DAY = dt.date(2026, 11, 24)


@pytest.fixture
def oauth_bot(tmp_path, db_url):
    """(url, slack, parts): the app with OAuth installs, served over HTTP on 127.0.0.1, on SQLite
    and on PostgreSQL; alerts post as soon as an ingest matches (no settle time)."""
    with oauth_app(tmp_path, SECRET, NEW_TRANSCRIPT, db_url, alert_settle_s=0) as served:
        yield served


def post_event(url: str, event: dict, **envelope) -> int:
    body = event_body(event, **envelope)
    headers = {**signed_headers(body, SECRET), "Content-Type": "application/json"}
    return httpx.post(url + "/slack/events", content=body, headers=headers, timeout=30).status_code


def add_alert(url: str, slack: LocalSlack, team: str, channel: str, **grid) -> None:
    """``/quote alert add zanzibar llamas`` typed in ``channel`` of workspace ``team``, signed."""
    reply = slack.response_url()
    body = slash_command_body("alert add zanzibar llamas", team_id=team, channel_id=channel, response_url=reply,
                              **grid)
    headers = {**signed_headers(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
    assert httpx.post(url + "/slack/events", content=body, headers=headers, timeout=30).status_code == 200
    assert f"`zanzibar llamas` in <#{channel}> added" in wait_hook(slack, reply)[-1]["text"]


def alerting_teams(parts) -> set[str]:
    return {a.team_id for a in parts.alerter.alerts()}


def ingest_llamas(parts, tmp_path) -> list:
    """Ingest an episode every alert above matches; the alert pass's outcomes."""
    news = tmp_path / "llamas.vtt"
    news.write_text(LLAMA_NEWS)
    assert all(r.ok for r in ingest([str(news)], parts.store))
    parts.library.refresh()
    return parts.alerter.run()


def eventually(check, timeout: float = 15.0) -> None:
    """Wait for ``check()`` to hold: event listeners run after the event is acknowledged."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the event's effect never showed"
        time.sleep(0.05)


def teams_subscribed(parts) -> set[str]:
    return {s.team_id for s in parts.digester.subscriptions()}


def mention(channel: str, ts: str) -> dict:
    return {"type": "app_mention", "user": "U1", "text": "<@U0QUOTEBOT> zanzibarquokka", "channel": channel, "ts": ts}


def posts(slack: LocalSlack, channel: str) -> list:
    return [c for c in slack.calls("chat.postMessage") if c.body.get("channel") == channel]


def test_app_uninstalled_and_a_revoked_bot_token_remove_the_installation_its_digests_and_alerts(oauth_bot,
                                                                                                tmp_path):
    url, slack, parts = oauth_bot
    store = parts.workspaces.installations
    for team in ("T0AAA", "T0BBB", "T0CCC"):
        install(url, slack, team)
        parts.digester.subscribe(Subscription(team, f"CD{team}", topics="zanzibarquokka", weekends=True))
        add_alert(url, slack, team, f"CA{team}")
    assert alerting_teams(parts) == {"T0AAA", "T0BBB", "T0CCC"}
    assert post_event(url, {"type": "app_uninstalled"}, team_id="T0AAA") == 200
    eventually(lambda: teams_subscribed(parts) == {"T0BBB", "T0CCC"} and alerting_teams(parts) == {"T0BBB", "T0CCC"})
    assert store.find_bot(enterprise_id=None, team_id="T0AAA") is None
    assert store.find_installation(enterprise_id=None, team_id="T0AAA") is None

    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0QUOTEBOT"]}}
    assert post_event(url, revoked, team_id="T0BBB") == 200
    eventually(lambda: teams_subscribed(parts) == {"T0CCC"} and alerting_teams(parts) == {"T0CCC"})
    assert store.find_bot(enterprise_id=None, team_id="T0BBB") is None

    # the workspaces that left are not answered; the one that stayed is, and gets its digest
    for team in ("T0AAA", "T0BBB", "T0CCC"):
        assert post_event(url, mention(f"C{team}", "1700000000.000100"), team_id=team) == 200
    [answer] = slack.wait_for("chat.postMessage", count=1)
    assert answer.body["channel"] == "CT0CCC" and answer.team == "T0CCC"
    outcomes = [parts.digester.send(sub, DAY) for sub in parts.digester.subscriptions()]
    assert [o.status for o in outcomes] == ["posted"]
    assert [c.team for c in posts(slack, "CDT0CCC")] == ["T0CCC"]
    assert not posts(slack, "CDT0AAA") and not posts(slack, "CDT0BBB") and not posts(slack, "CT0AAA")

    # an episode every alert matched arrives: only the workspace that stayed is told
    [outcome] = ingest_llamas(parts, tmp_path)
    assert outcome.status == "posted" and outcome.episodes == ("llamas",)
    assert len(alert_posts(slack, "CAT0CCC")) == 1
    assert not alert_posts(slack, "CAT0AAA") and not alert_posts(slack, "CAT0BBB")


def test_revoked_user_tokens_leave_the_bot_installed(oauth_bot):
    url, slack, parts = oauth_bot
    install(url, slack, "T0AAA")
    parts.digester.subscribe(Subscription("T0AAA", "CDIGEST", weekends=True))
    add_alert(url, slack, "T0AAA", "CALERT")
    store = parts.workspaces.installations
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U0INSTALLER"], "bot": []}}
    assert post_event(url, revoked, team_id="T0AAA") == 200
    eventually(lambda: store.find_installation(enterprise_id=None, team_id="T0AAA", user_id="U0INSTALLER") is None)
    assert store.find_bot(enterprise_id=None, team_id="T0AAA") is not None
    assert [s.team_id for s in parts.digester.subscriptions()] == ["T0AAA"]
    assert alerting_teams(parts) == {"T0AAA"}


def test_an_enterprise_grid_install_answers_and_posts_digests_until_uninstalled(oauth_bot, tmp_path):
    url, slack, parts = oauth_bot
    slack.enterprise_teams["E0GRID"] = ["T0ONE", "T0TWO"]
    install(url, slack, "E0GRID")  # org-wide: stored under the organization, with no team
    grid = {"enterprise_id": "E0GRID", "enterprise_install": True}

    # answers: a mention in one of the organization's workspaces, with the org-wide token
    assert post_event(url, mention("CGRID1", "1700000000.000200"), team_id="T0ONE", **grid) == 200
    [answer] = slack.wait_for("chat.postMessage", count=1)
    assert answer.body["channel"] == "CGRID1" and answer.team == "E0GRID"
    assert "Grace Hopper" in json.dumps(answer.body)

    # digests: found through the organization (auth.teams.list), posted with its token
    for team in ("T0ONE", "T0TWO"):
        parts.digester.subscribe(Subscription(team, f"CD{team}", topics="zanzibarquokka", weekends=True))
    sent = {sub.team_id: parts.digester.send(sub, DAY).status for sub in parts.digester.subscriptions()}
    assert sent == {"T0ONE": "posted", "T0TWO": "posted"}
    assert [c.team for c in posts(slack, "CDT0ONE")] == ["E0GRID"]
    with pytest.raises(LookupError):
        parts.workspaces.client_for("T0ELSEWHERE")  # not in the organization
    for team in ("T0ONE", "T0TWO"):  # alerts, added in the organization's workspaces
        add_alert(url, slack, team, f"CA{team}", enterprise_id="E0GRID", enterprise_install=True)

    # the organization uninstalls: its install and its workspaces' digests and alerts are gone
    assert post_event(url, {"type": "app_uninstalled"}, team_id="T0ONE", **grid) == 200
    eventually(lambda: parts.digester.subscriptions() == [] and parts.alerter.alerts() == [])
    assert parts.workspaces.installations.find_bot(enterprise_id="E0GRID", team_id=None,
                                                   is_enterprise_install=True) is None
    assert post_event(url, mention("CGRID2", "1700000000.000300"), team_id="T0TWO", **grid) == 200
    assert not posts(slack, "CGRID2")
    assert ingest_llamas(parts, tmp_path) == []
    assert not alert_posts(slack, "CAT0ONE") and not alert_posts(slack, "CAT0TWO")


def test_a_digest_or_alert_of_a_workspace_without_an_installation_ends_them(oauth_bot, tmp_path):
    """A workspace that left while the bot was down (the event never came): at its next digest,
    and at the first new episode its alerts would match."""
    _, slack, parts = oauth_bot
    parts.digester.subscribe(Subscription("T0GONE", "CDIGEST", weekends=True))
    assert parts.digester.send(parts.digester.subscriptions()[0], DAY).status == "gone"
    assert parts.digester.subscriptions() == []
    for channel in ("CALERT1", "CALERT2"):
        parts.alerter.add("T0GONE", channel, "zanzibar llamas", "U1")
    assert [(o.status, o.team_id) for o in ingest_llamas(parts, tmp_path)] == [("gone", "T0GONE")]
    assert parts.alerter.alerts() == []
    assert not slack.calls("chat.postMessage")
