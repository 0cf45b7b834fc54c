"""Try Quotebot without a Slack workspace.

The console runs the real Bolt app and handlers: what you type becomes a
signed Slack request dispatched in-process, and what the app sends to Slack
goes to a local Slack Web API server (``LocalSlack``) and is drawn here.
"""

from __future__ import annotations

import html
import re
import sys
import threading
from typing import TextIO

from pydantic import SecretStr
from slack_bolt.request import BoltRequest

from .app import build_app
from .localslack import (
    Call,
    LocalSlack,
    block_actions_body,
    event_body,
    signed_headers,
    slash_command_body,
)
from .settings import Settings

SECRET = "local-console-signing-secret"
WAIT_S = 10.0

INTRO = """Quotebot console: the real app, with Slack played locally.
  /quote export controls       search (/quote help shows the syntax)
  /quote digest preview        today's digest (/quote digest help for subscriptions)
  @quotebot tsmc taiwan        mention the bot, as in a thread
  1, 2, …                      press a button of the last card
  an empty line or Ctrl-D      quit
To connect a real workspace, create the app from manifest.json, set SLACK_BOT_TOKEN and
SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) and run: quotebot serve
"""

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([A-Z0-9]+)>")


def plain(mrkdwn: str, bold: bool) -> str:
    """mrkdwn drawn for a terminal: links as "label (url)", bold as bold, entities undone."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", mrkdwn)
    text = _USER.sub(lambda m: f"@{m.group(1)}", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", (lambda m: f"\033[1m{m.group(1)}\033[0m") if bold
                  else (lambda m: m.group(1).upper()), text)
    return html.unescape(text)


class Console:
    def __init__(self, settings: Settings, library, once, out: TextIO = sys.stdout, digests=None):
        self.out = out
        self.bold = out.isatty()
        self.buttons: list[dict] = []
        self.arrived = threading.Event()
        self.slack = LocalSlack(on_call=self._arrived)
        local = settings.model_copy(update={
            "slack_bot_token": SecretStr("xoxb-local-console"),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_api_url": self.slack.base_url,
        })
        self.app = build_app(local, library, once, digests=digests)
        self.mentions = 0

    def close(self) -> None:
        self.slack.close()

    def _arrived(self, call: Call) -> None:
        if call.method in ("response_url", "chat.postMessage", "chat.unfurl"):
            if call.body.get("delete_original") and "blocks" not in call.body:
                return  # the ephemeral card goes away; the shared one follows
            self._draw(call)
            self.arrived.set()

    def _draw(self, call: Call) -> None:
        body = call.body
        where = {"response_url": "only you can see this" if body.get("response_type") != "in_channel"
                 else "posted to the channel", "chat.postMessage": "in the thread"}.get(call.method, call.method)
        lines = [f"── {where} " + "─" * max(0, 60 - len(where))]
        self.buttons = []
        for block in body.get("blocks") or [{"type": "section", "text": {"text": body.get("text", "")}}]:
            if block["type"] == "section":
                lines.append(plain(block["text"]["text"], self.bold))
            elif block["type"] == "header":
                lines.append(block["text"]["text"].upper())
            elif block["type"] == "divider":
                lines.append("")
            elif block["type"] == "context":
                lines.append("   " + " ".join(plain(e.get("text", ""), self.bold) for e in block["elements"]))
            elif block["type"] == "actions":
                labels = []
                for element in block["elements"]:
                    self.buttons.append(element)
                    label = element["text"]["text"]
                    labels.append(f"[{len(self.buttons)}] {label}" + (f" ({element['url']})" if "url" in element else ""))
                lines.append("   " + "  ".join(labels))
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()

    def _dispatch(self, body: str, content_type: str) -> None:
        headers = {k: [v] for k, v in signed_headers(body, SECRET).items()}
        headers["content-type"] = [content_type]
        self.arrived.clear()
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        if response.status != 200:
            self.out.write(f"(the app answered {response.status})\n")
            return
        if not self.arrived.wait(WAIT_S):
            self.out.write("(no answer)\n")

    def handle(self, line: str) -> None:
        line = line.strip()
        if line.isdigit():
            n = int(line)
            if not 1 <= n <= len(self.buttons):
                self.out.write("No such button.\n")
                return
            element = self.buttons[n - 1]
            if "url" in element:
                self.out.write(f"Opens {element['url']}\n\n")
                return
            form = block_actions_body(element["action_id"], element.get("value", ""), user_id="U0YOU",
                                      channel_id="C0CONSOLE", response_url=self.slack.response_url())
            self._dispatch(form, "application/x-www-form-urlencoded")
        elif line.startswith("@"):
            self.mentions += 1
            text = "<@U0QUOTEBOT> " + line.split(" ", 1)[1] if " " in line else "<@U0QUOTEBOT>"
            ts = f"1700000000.{self.mentions:06d}"
            event = {"type": "app_mention", "user": "U0YOU", "channel": "C0CONSOLE", "ts": ts, "event_ts": ts,
                     "text": text}
            self._dispatch(event_body(event), "application/json")
        else:
            text = line[len("/quote"):].strip() if line.startswith("/quote") else line
            form = slash_command_body(text, user_id="U0YOU", channel_id="C0CONSOLE",
                                      response_url=self.slack.response_url())
            self._dispatch(form, "application/x-www-form-urlencoded")


def run(settings: Settings, library, once, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout,
        digests=None) -> None:
    console = Console(settings, library, once, out, digests)
    out.write(INTRO + "\n")
    out.flush()
    try:
        for line in stdin:
            if not line.strip():
                break
            console.handle(line)
    finally:
        console.close()
