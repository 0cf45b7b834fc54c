"""A small local stand-in for the Slack Web API, plus builders for signed inbound requests.

``LocalSlack`` is a real HTTP server on ``127.0.0.1`` (a free port) that answers Web API calls
(``POST /api/<method>``) and ``response_url`` posts (``POST /respond/<id>``) with canned,
Slack-shaped answers and records every request as a :class:`Call`. Tests point a ``WebClient`` at
``server.base_url``; the offline console uses ``on_call`` to render what the bot would have posted.

Token values are never kept: a call records only whether it carried a bot token (``authed``) and,
for tokens shaped ``xoxb-<TEAM>-…`` (the ones ``oauth.v2.access`` hands out here), the workspace
they belong to (``team``).

The module-level helpers build request bodies the way Slack sends them (slash commands,
``block_actions`` interactions, ``event_callback`` envelopes) and sign them with Slack's v0 scheme,
so they can be handed to ``App.dispatch(BoltRequest(body=..., headers=...))``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

TEAM_ID, USER_ID, BOT_ID, APP_ID = "T0LOCAL", "U0QUOTEBOT", "B0QUOTEBOT", "A0LOCAL"
# Form fields that Slack clients send as JSON strings; they are decoded when recorded.
_JSON_FIELDS = {"blocks", "attachments", "unfurls", "metadata", "view", "user_auth_blocks"}
_HIDDEN_HEADERS = {"authorization", "cookie"}


@dataclass
class Call:
    """One recorded request. ``body`` is parsed; token values are never stored."""

    method: str  # Web API method ("chat.postMessage"), "response_url", or the raw path if unknown
    path: str
    headers: dict[str, str]  # lowercase keys, without Authorization
    body: dict[str, Any]
    time: float  # time.monotonic() at arrival
    authed: bool = False  # carried a bot/user token (header or form field)
    team: str | None = None  # the workspace (or Grid organization) of an OAuth-issued token (xoxb-<TEAM>-…)
    failed: bool = False  # got an injected failure from fail_next()
    status: int = 200
    response: Any = None  # the JSON (dict) or text answered


@dataclass
class _Failure:
    status: int
    retry_after: int
    times: int


class LocalSlack:
    """A local Slack Web API server on 127.0.0.1:<free port>, started on construction."""

    def __init__(self, on_call: Callable[[Call], None] | None = None) -> None:
        self.on_call = on_call
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.user_tz: dict[str, str] = {}
        self.outside: set[str] = set()  # channels the bot is not in until conversations.join
        self.oauth_codes: dict[str, str] = {}  # OAuth code -> the workspace (T…) or organization (E…) it installs into
        self.enterprise_teams: dict[str, list[str]] = {}  # organization -> its workspaces (auth.teams.list)
        self.delay: dict[str, float] = {}  # method -> seconds to wait before answering
        self.socket_url: str | None = None  # what apps.connections.open hands out (a Socket Mode server)
        self.views: dict[str, dict[str, Any]] = {}  # view id -> the view as last opened, updated or published
        self.homes: dict[str, str] = {}  # user id -> their Home tab's view id
        self._calls: list[Call] = []
        self._failures: dict[str, _Failure] = {}
        self._hooks: set[str] = set()
        self._ts = 0
        self._epoch = int(time.time())  # message ts count up from the server's start, as Slack's never repeat
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"localslack:{self.port}", daemon=True)
        self._thread.start()

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``; pass as ``WebClient(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "") -> str:
        """A fresh ``response_url`` on this server; POSTs to it are recorded as "response_url"."""
        hook = f"{name}-{uuid.uuid4().hex}" if name else uuid.uuid4().hex
        with self._lock:
            self._hooks.add(hook)
        return f"http://127.0.0.1:{self.port}/respond/{hook}"

    # -- inspection ------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls in arrival order, optionally only those of ``method``."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Poll until ``count`` calls of ``method`` arrived; return them all, else AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                seen = [f"{c.method} {c.path} ({c.status})" for c in self.calls()] or ["nothing"]
                raise AssertionError(
                    f"expected {count} {method!r} call(s) within {timeout}s, got {len(found)};"
                    f" received: {', '.join(seen)}")
            time.sleep(0.01)

    def clear(self) -> None:
        """Forget recorded calls and pending injected failures."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer HTTP ``status`` with Retry-After."""
        with self._lock:
            self._failures[method] = _Failure(status, retry_after, times)

    # -- request handling (called from handler threads) -------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            micros = self._ts * 100
        return f"{self._epoch + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            failure = self._failures.get(method)
            if failure is None:
                return None
            failure.times -= 1
            if failure.times <= 0:
                del self._failures[method]
            return failure

    def _handle(self, call: Call) -> dict[str, str]:
        """Fill in ``call.status``/``call.response``; return extra response headers."""
        extra: dict[str, str] = {}
        failure = self._take_failure(call.method)
        if failure is not None:
            call.failed, call.status = True, failure.status
            extra["Retry-After"] = str(failure.retry_after)
            error = "ratelimited" if failure.status == 429 else "internal_error"
            call.response = error if call.method == "response_url" else {"ok": False, "error": error}
        elif call.method == "response_url":
            with self._lock:
                known = call.path.rsplit("/", 1)[-1] in self._hooks
            call.status, call.response = (200, "ok") if known else (404, "no_active_hooks")
        elif not call.path.startswith("/api/"):
            call.status, call.response = 404, {"ok": False, "error": "unknown_path"}
        elif call.method == "oauth.v2.access":
            call.response = self._install(call.body)
        elif not call.authed:
            call.response = {"ok": False, "error": "not_authed"}
        else:
            call.response = self._answer(call.method, call.body, call.team)
        return extra

    def _view(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """views.open/push/update/publish: the view as Slack keeps it (an id, a hash, an empty state)."""
        view = body.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            if method == "views.update":
                view_id = str(body.get("view_id") or "")
                old = self.views.get(view_id)
                if old is None:
                    return {"ok": False, "error": "not_found"}
                if body.get("hash") and body["hash"] != old["hash"]:
                    return {"ok": False, "error": "hash_conflict"}
            elif method == "views.publish":
                view_id = self.homes.get(str(body.get("user_id")), "")
            else:
                view_id = ""
            if not view_id:
                self._ts += 1
                view_id = f"V{self._ts:08d}"
            kept = {**view, "id": view_id, "hash": uuid.uuid4().hex[:16], "team_id": TEAM_ID, "app_id": APP_ID,
                    "state": {"values": {}}}
            self.views[view_id] = kept
            if method == "views.publish":
                self.homes[str(body.get("user_id"))] = view_id
        return {"ok": True, "view": kept}

    def _install(self, body: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a code from ``oauth_codes`` becomes that workspace's installation, or, for
        an ``E…`` id, an Enterprise Grid organization's org-wide one (no team)."""
        team = self.oauth_codes.get(str(body.get("code")))
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        if team.startswith("E"):
            return {"ok": True, "app_id": APP_ID, "access_token": f"xoxb-{team}-{uuid.uuid4().hex[:12]}",
                    "token_type": "bot", "scope": "commands,chat:write", "bot_user_id": USER_ID,
                    "team": None, "enterprise": {"id": team, "name": f"Organization {team}"},
                    "is_enterprise_install": True, "authed_user": {"id": "U0INSTALLER"}}
        return {"ok": True, "app_id": APP_ID, "access_token": f"xoxb-{team}-{uuid.uuid4().hex[:12]}",
                "token_type": "bot", "scope": "commands,chat:write", "bot_user_id": USER_ID,
                "team": {"id": team, "name": f"Workspace {team}"}, "enterprise": None,
                "is_enterprise_install": False, "authed_user": {"id": "U0INSTALLER"}}

    def _answer(self, method: str, body: dict[str, Any], team: str | None = None) -> dict[str, Any]:
        """The canned successful answer to a Web API method."""
        if method == "auth.test":
            return {"ok": True, "url": "https://local.slack/", "team": "Local", "user": "quotebot",
                    "team_id": team or TEAM_ID, "user_id": USER_ID, "bot_id": BOT_ID}
        if method == "chat.postMessage":
            if str(body.get("channel")) in self.outside:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            message: dict[str, Any] = {k: body[k] for k in ("text", "blocks", "attachments", "thread_ts", "metadata")
                                       if k in body}
            message.update(type="message", user=USER_ID, bot_id=BOT_ID, ts=ts)
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        if method == "conversations.join":
            with self._lock:
                self.outside.discard(str(body.get("channel")))
            return {"ok": True, "channel": {"id": body.get("channel")}}
        if method == "conversations.history":  # what the bot posted there, newest first
            channel = str(body.get("channel"))
            with self._lock:
                posted = [
                    c.response["message"]
                    for c in self._calls
                    if c.method == "chat.postMessage"
                    and isinstance(c.response, dict)
                    and c.response.get("ok")
                    and c.body.get("channel") == channel
                ]
            return {"ok": True, "messages": posted[::-1][: int(body.get("limit") or 100)], "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"),
                    "text": body.get("text", "")}
        if method == "conversations.replies":
            messages = self.replies.get((str(body.get("channel")), str(body.get("ts"))), [])
            return {"ok": True, "messages": list(messages), "has_more": False}
        if method == "users.info":
            user = str(body.get("user", ""))
            return {"ok": True, "user": {"id": user, "team_id": TEAM_ID, "name": user.lower(),
                                         "real_name": user, "is_bot": False,
                                         "tz": self.user_tz.get(user, "UTC")}}
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "no_socket_server"}
            return {"ok": True, "url": self.socket_url}
        if method == "auth.teams.list":  # an org-wide token: the organization's workspaces
            teams = self.enterprise_teams.get(team or "", [])
            return {"ok": True, "teams": [{"id": t, "name": f"Workspace {t}"} for t in teams],
                    "response_metadata": {"next_cursor": ""}}
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            return self._view(method, body)
        if method == "team.info":
            return {"ok": True, "team": {"id": TEAM_ID, "name": "Local", "domain": "local"}}
        return {"ok": True}


def _parse_body(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type or raw.lstrip().startswith("{"):
        try:
            parsed = json.loads(raw)
            return parsed if isinstance(parsed, dict) else {"_json": parsed}
        except ValueError:
            return {"_raw": raw}
    fields: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for key in _JSON_FIELDS & fields.keys():
        with contextlib.suppress(ValueError):
            fields[key] = json.loads(fields[key])
    return fields


def _handler_for(slack: LocalSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:  # keep the console quiet
            pass

        def _serve(self) -> None:
            arrived = time.monotonic()
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            body = _parse_body(raw, self.headers.get("Content-Type", ""))
            if url.query:
                body = {**dict(parse_qsl(url.query, keep_blank_values=True)), **body}
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            form_token = str(body.pop("token", ""))
            kinds = ("xoxb-", "xoxp-", "xapp-") if url.path == "/api/apps.connections.open" else ("xoxb-", "xoxp-")
            authed = bearer.startswith(kinds) or form_token.startswith(kinds)
            if url.path.startswith("/api/"):
                method = url.path[len("/api/"):]
            elif url.path.startswith("/respond/"):
                method = "response_url"
            else:
                method = url.path
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in _HIDDEN_HEADERS}
            token = bearer or form_token
            owner = token.split("-")[1] if authed and token.count("-") >= 2 else ""
            team = owner if owner.startswith(("T", "E")) else None
            call = Call(method, url.path, headers, body, arrived, authed=authed, team=team)
            if method in slack.delay:
                time.sleep(slack.delay[method])
            extra = slack._handle(call)
            with slack._lock:
                slack._calls.append(call)
            if slack.on_call is not None:
                try:
                    slack.on_call(call)
                except Exception:
                    log.exception("LocalSlack on_call callback failed")
            is_text = isinstance(call.response, str)
            payload = (call.response if is_text else json.dumps(call.response)).encode()
            self.send_response(call.status)
            self.send_header("Content-Type", "text/plain" if is_text else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


# -- inbound requests (Slack -> app) ------------------------------------------------------------
def signed_headers(body: str, signing_secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request-signing headers for ``body`` (timestamp defaults to now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


_CARDS = itertools.count(1)  # fresh ephemeral message timestamps


def _trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def slash_command_body(text: str, *, command: str = "/quote", user_id: str = "U123",
                       channel_id: str = "C123", team_id: str = TEAM_ID, response_url: str,
                       enterprise_id: str | None = None, enterprise_install: bool = False) -> str:
    """A form-encoded slash-command body, as Slack POSTs it; with ``enterprise_id``, from a
    workspace of that Enterprise Grid organization (``enterprise_install``: an org-wide install)."""
    return urlencode({
        "team_id": team_id, "team_domain": "local", "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else "general",
        "user_id": user_id, "user_name": user_id.lower(), "command": command, "text": text,
        "api_app_id": APP_ID, "is_enterprise_install": "true" if enterprise_install else "false",
        **({"enterprise_id": enterprise_id} if enterprise_id else {}),
        "response_url": response_url, "trigger_id": _trigger_id()})


def block_actions_body(action_id: str, value: str, *, user_id: str = "U123", channel_id: str = "C123",
                       response_url: str, message: dict[str, Any] | None = None,
                       team_id: str = TEAM_ID, block_id: str = "quote", message_ts: str | None = None,
                       option: dict[str, Any] | None = None) -> str:
    """A form-encoded ``payload=<json>`` block_actions interaction for a button click, or (with
    ``option``) a choice in an overflow menu.

    ``message`` is the message holding the button; without one the click comes from an ephemeral
    message, which Slack sends with ``container.is_ephemeral`` and no ``message``. The container's
    ``message_ts`` is the message's ``ts``, else ``message_ts``, else a fresh one (each ephemeral
    card is its own message: pass the same ``message_ts`` for two clicks on one card).
    """
    message_ts = (message or {}).get("ts") or message_ts or f"{int(time.time())}.{next(_CARDS) % 10**6:06d}"
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                      "is_ephemeral": message is None},
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": "local"},
        "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": block_id, "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": action_id}, "action_ts": f"{time.time():.6f}"}
                    if option is None else
                    {"action_id": action_id, "block_id": block_id, "type": "overflow", "selected_option": option,
                     "action_ts": f"{time.time():.6f}"}],
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


def _interaction(payload: dict[str, Any], user_id: str, team_id: str) -> str:
    payload = {"user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
               "api_app_id": APP_ID, "team": {"id": team_id, "domain": "local"}, "enterprise": None,
               "is_enterprise_install": False, "token": "local-verification-token", **payload}
    return urlencode({"payload": json.dumps(payload)})


def shortcut_body(callback_id: str, *, user_id: str = "U123", team_id: str = TEAM_ID) -> str:
    """A global shortcut (``type: shortcut``), as Slack POSTs it."""
    return _interaction({"type": "shortcut", "callback_id": callback_id, "trigger_id": _trigger_id(),
                         "action_ts": f"{time.time():.6f}"}, user_id, team_id)


def message_shortcut_body(callback_id: str, message: dict[str, Any], *, channel_id: str = "C123",
                          user_id: str = "U123", team_id: str = TEAM_ID, response_url: str) -> str:
    """A message shortcut (``type: message_action``) used on ``message`` (text, ts, maybe thread_ts)."""
    return _interaction({"type": "message_action", "callback_id": callback_id, "trigger_id": _trigger_id(),
                         "message_ts": message["ts"], "message": {"type": "message", "user": "U0AUTHOR", **message},
                         "channel": {"id": channel_id, "name": "general"}, "response_url": response_url,
                         "action_ts": f"{time.time():.6f}"}, user_id, team_id)


def view_state(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A view's ``state`` from {block_id: {"action_id": …, the element's value fields}}."""
    return {"values": {block: {field["action_id"]: {k: v for k, v in field.items() if k != "action_id"}}
                       for block, field in values.items()}}


def view_submission_body(view: dict[str, Any], values: dict[str, dict[str, Any]], *, user_id: str = "U123",
                         team_id: str = TEAM_ID) -> str:
    """A ``view_submission`` of ``view`` (as views.open answered it) with the inputs' ``values``."""
    return _interaction({"type": "view_submission", "trigger_id": _trigger_id(),
                         "view": {**view, "state": view_state(values)}, "response_urls": []}, user_id, team_id)


def view_action_body(view: dict[str, Any], action: dict[str, Any], *, user_id: str = "U123",
                     team_id: str = TEAM_ID, values: dict[str, dict[str, Any]] | None = None) -> str:
    """A ``block_actions`` from inside a modal or the Home tab (no response_url there)."""
    return _interaction({"type": "block_actions", "trigger_id": _trigger_id(),
                         "container": {"type": "view", "view_id": view.get("id")},
                         "view": {**view, "state": view_state(values or {})},
                         "actions": [{"action_ts": f"{time.time():.6f}", **action}]}, user_id, team_id)


def options_body(action_id: str, value: str, *, view: dict[str, Any] | None = None, block_id: str = "",
                 user_id: str = "U123", team_id: str = TEAM_ID) -> str:
    """A ``block_suggestion``: what an external select asks for while someone types ``value``."""
    payload: dict[str, Any] = {"type": "block_suggestion", "action_id": action_id, "block_id": block_id,
                               "value": value}
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id")}
    return _interaction(payload, user_id, team_id)


def event_body(event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID,
               api_app_id: str = APP_ID, enterprise_id: str | None = None, enterprise_install: bool = False) -> str:
    """A JSON ``event_callback`` envelope around ``event`` (event_id defaults to a fresh one); with
    ``enterprise_id``, from a workspace of that Enterprise Grid organization, and with
    ``enterprise_install`` authorized by the organization's org-wide install."""
    return json.dumps({
        "team_id": team_id, "enterprise_id": enterprise_id, "api_app_id": api_app_id, "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": enterprise_id, "team_id": None if enterprise_install else team_id,
                            "user_id": USER_ID, "is_bot": True, "is_enterprise_install": enterprise_install}],
        "is_ext_shared_channel": False,
    })
