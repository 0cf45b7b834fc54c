"""Try Quotebot without a Slack workspace.

The console runs the real Bolt app and handlers: what you type becomes a
signed Slack request dispatched in-process, and what the app sends to Slack
(messages, ephemeral cards, modals, the App Home tab, unfurls) goes to a local
Slack Web API server (``LocalSlack``) and is drawn here as text.

Every button, menu option and channel picker drawn gets a number that stays
its own: ``3`` presses the same button whatever was drawn since. A modal's
inputs are asked one by one (type-ahead pickers list what matches what you
type). Lines are read with readline (history, editing) when the console runs
in a terminal; an empty line does nothing, ``quit`` or Ctrl-D leaves.
"""

from __future__ import annotations

import html
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr
from slack_bolt.request import BoltRequest

from handlers.actions import Once
from handlers.digest import Digests
from index.search import Library
from index.store import Store

from .app import build_app, web_client
from .localslack import (
    Call,
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
from .settings import Settings

SECRET = "local-console-signing-secret"  # noqa: S105 - signs the console's own requests, never Slack's
WAIT_S = 30.0  # generous: a loaded machine can be slow to answer, and a late answer would take the next line
USER, CHANNEL = "U0YOU", "C0CONSOLE"
KEPT = 500  # numbered elements remembered

INTRO = """Quotebot console: the real app, with Slack played locally.
  /quote export controls        search (/quote help shows the syntax)
  /quote digest preview         today's digest (/quote digest help for subscriptions)
  /quote alert add stargate     a keyword alert in this channel (/quote alert help)
  @quotebot tsmc taiwan         mention the bot, as in a thread
  find What about TSMC?         the message shortcut "Find quotes about this" on that message
  search                        the global shortcut "Search quotes" (a modal)
  home                          the App Home tab
  ingest PATH                   add a transcript to the library (alerts that match post here)
  https://youtu.be/…?t=60       paste a link: it unfurls into the quote said then
  3                             press button 3 (numbers stay with their button)
  quit, or Ctrl-D               leave
To connect a real workspace, create the app from manifest.json, set SLACK_BOT_TOKEN and
SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) and run: quotebot serve
"""

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")


def plain(mrkdwn: str, bold: bool) -> str:
    """mrkdwn drawn for a terminal: links as "label (url)", mentions as @user and #channel, bold as
    bold, entities undone."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", mrkdwn)
    text = _USER.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or ("console" if m.group(1) == CHANNEL else m.group(1))), text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", (lambda m: f"\033[1m{m.group(1)}\033[0m") if bold
                  else (lambda m: _upper_but_urls(m.group(1))), text)
    return html.unescape(text)


def _upper_but_urls(text: str) -> str:
    """Bold without a terminal's bold: upper case, but links as they are (their case matters)."""
    return "".join(part if part.startswith(("http://", "https://")) else part.upper()
                   for part in re.split(r"(https?://[^\s)]+)", text))


@dataclass
class Element:
    """A numbered button, menu option or picker, and where it sits (a message or a view)."""

    element: dict[str, Any]
    block_id: str
    card: str  # the message's ts, or "" in a view
    view: dict[str, Any] | None = None
    option: dict[str, Any] | None = None  # an overflow menu's option


class Console:
    def __init__(self, settings: Settings, library: Library, once: Once, out: TextIO = sys.stdout,
                 digests: Digests | None = None, store: Store | None = None,
                 ask: Callable[[str], str | None] | None = None):
        self.out = out
        self.bold = out.isatty()
        self.ask = ask or (lambda prompt: None)
        self.elements: dict[int, Element] = {}
        self.numbered = 0
        self.cards = 0
        self.started = int(time.time())  # an ephemeral card's id: unique across console sessions
        self.arrived = threading.Event()
        self.forms: list[dict[str, Any]] = []  # modals opened, to fill in
        self.home_open = False  # the Home tab is what the person looks at (its refreshes are drawn)
        self.slack = LocalSlack(on_call=self._arrived)
        local = settings.model_copy(update={
            "slack_bot_token": SecretStr("xoxb-local-console"),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_api_url": self.slack.base_url,
        })
        self.library, self.store, self.alerter = library, store, None
        alerts = feedback = None
        if store is not None:
            from .alerts import Alerter, AlertStore
            from .feedback import FeedbackStore

            client = web_client(local)
            self.alerter = Alerter(AlertStore(store.engine), library, lambda team: client, settle_s=0)
            alerts, feedback = self.alerter, FeedbackStore(store.engine)
        # Bolt answers in these threads after the ack; close() waits for them, so an answer
        # still on its way when the person quits (an unfurl, a modal's results) is drawn.
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="console-listener")
        self.app = build_app(local, library, once, digests=digests, alerts=alerts, feedback=feedback,
                             executor=self.executor)
        self.mentions = 0

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.slack.close()

    # --- what the app sends to Slack ---------------------------------------------------------------

    def _arrived(self, call: Call) -> None:
        body = call.body
        if call.method in ("response_url", "chat.postMessage", "chat.postEphemeral", "chat.unfurl"):
            if body.get("delete_original") and "blocks" not in body:
                return  # the ephemeral card goes away; what replaces it follows
            self._draw_message(call)
        elif call.method in ("views.open", "views.update", "views.publish") and isinstance(call.response, dict):
            if call.method == "views.publish" and not self.home_open:
                return  # the Home tab was refreshed in the background; `home` shows it
            view = call.response.get("view") or {}
            self._draw_view(call.method, view)
            if call.method == "views.open":
                self.forms.append(view)
        else:
            return
        self.arrived.set()

    def _number(self, item: Element) -> int:
        self.numbered += 1
        self.elements[self.numbered] = item
        self.elements.pop(self.numbered - KEPT, None)
        return self.numbered

    def _draw_message(self, call: Call) -> None:
        body = call.body
        if call.method == "chat.unfurl":
            for url, unfurl in (body.get("unfurls") or {}).items():
                self._draw(f"unfurled {url[:40]}", unfurl.get("blocks") or [], None, "")
            return
        channel = f"#{'console' if body.get('channel', CHANNEL) == CHANNEL else body.get('channel')}"
        thread = " in the thread" if body.get("thread_ts") else ""
        where = {"response_url": "only you can see this" if body.get("response_type") != "in_channel"
                 else "posted to the channel", "chat.postEphemeral": f"only you can see this{thread}",
                 "chat.postMessage": f"posted to {channel}{thread}"}[call.method]
        self.cards += 1
        card = (call.response or {}).get("ts") if isinstance(call.response, dict) else None
        blocks = body.get("blocks") or [{"type": "section", "text": {"text": body.get("text", "")}}]
        self._draw(where, blocks, None, card or f"{self.started}.{self.cards:06d}")

    def _draw_view(self, method: str, view: dict[str, Any]) -> None:
        title = (view.get("title") or {}).get("text", "App Home" if view.get("type") == "home" else "")
        where = {"views.publish": "App Home", "views.open": f"modal: {title}",
                 "views.update": f"modal: {title}"}[method]
        self._draw(where, view.get("blocks") or [], view, "")

    def _draw(self, where: str, blocks: list[dict], view: dict | None, card: str) -> None:
        # numbers: the buttons first, in order, then each quote's ⋯ menu (drawn under its quote), so
        # a card's first button is its first number
        numbers: dict[tuple[int, int], int] = {}
        for round_ in ("buttons", "menus"):
            for i, block in enumerate(blocks):
                elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
                for j, element in enumerate(elements):
                    is_menu = element.get("type") == "overflow"
                    if not element.get("action_id") or is_menu != (round_ == "menus"):
                        continue
                    block_id = block.get("block_id", "")
                    for k, option in enumerate(element.get("options") or [None]) if is_menu else [(0, None)]:
                        numbers[(i, j * 100 + k)] = self._number(Element(element, block_id, card, view, option))
        lines = [f"── {where} " + "─" * max(0, 60 - len(where))]
        menu: list[str] = []
        for i, block in enumerate(blocks):
            kind = block["type"]
            if kind == "section":
                line = plain(block["text"]["text"], self.bold)
                accessory = block.get("accessory") or {}
                if accessory.get("type") == "overflow":
                    menu = [f"[{numbers[(i, k)]}] {o['text']['text']}" for k, o in enumerate(accessory["options"])]
                elif (i, 0) in numbers:
                    line += f"   [{numbers[(i, 0)]}] {accessory['text']['text']}"
                lines.append(line)
            elif kind == "header":
                lines.append(block["text"]["text"].upper())
            elif kind == "divider":
                lines.append("")
            elif kind == "context":
                lines.append("   " + " ".join(plain(e.get("text", ""), self.bold) for e in block["elements"]))
                if menu:  # under the quote's source line
                    lines.append("   ⋯ " + "  ".join(menu))
                    menu = []
            elif kind == "input":
                element = block["element"]
                shown = (element.get("initial_value") or element.get("initial_date") or element.get("initial_time")
                         or (element.get("initial_option") or {}).get("text", {}).get("text") or "")
                lines.append(f"   {block['label']['text']}: {shown or '…'}")
            elif kind == "actions":
                labels = []
                for j, element in enumerate(block["elements"]):
                    label = (element.get("text") or element.get("placeholder") or {}).get("text", element["type"])
                    link = f" ({element['url']})" if "url" in element else ""
                    labels.append(f"[{numbers[(i, j * 100)]}] {label}{link}")
                lines.append("   " + "  ".join(labels))
        if menu:
            lines.append("   ⋯ " + "  ".join(menu))
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()

    # --- what the person does ---------------------------------------------------------------------

    def _dispatch(self, body: str, content_type: str = "application/x-www-form-urlencoded",
                  wait: bool = True) -> dict | None:
        headers: dict[str, str | Sequence[str]] = {k: [v] for k, v in signed_headers(body, SECRET).items()}
        headers["content-type"] = [content_type]
        self.arrived.clear()
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        if response.status != 200:
            self.out.write(f"(the app answered {response.status})\n")
            return None
        answer = json.loads(response.body) if response.body and response.body.startswith("{") else None
        if wait and not (answer and answer.get("response_action") == "errors") and not self.arrived.wait(WAIT_S):
            self.out.write("(no answer)\n")
        return answer

    def handle(self, line: str) -> None:
        line = line.strip()
        word, _, rest = line.partition(" ")
        if not line:
            return
        self.home_open = word == "home" or (line.isdigit() and self.home_open)
        if line.isdigit():
            self.press(int(line))
        elif line.startswith("@"):
            self.mentions += 1
            text = "<@U0QUOTEBOT> " + rest if rest else "<@U0QUOTEBOT>"
            ts = f"1700000000.{self.mentions:06d}"
            self._dispatch(event_body({"type": "app_mention", "user": USER, "channel": CHANNEL, "ts": ts,
                                       "event_ts": ts, "text": text}), "application/json")
        elif word == "home":
            self._dispatch(event_body({"type": "app_home_opened", "user": USER, "channel": "D0CONSOLE",
                                       "tab": "home", "event_ts": "1700000000.000001"}), "application/json")
        elif word == "search":
            self._dispatch(shortcut_body("search_quotes", user_id=USER))
        elif word == "find":
            self.mentions += 1
            message = {"ts": f"1700000000.{self.mentions:06d}", "text": rest}
            self._dispatch(message_shortcut_body("find_quotes", message, channel_id=CHANNEL, user_id=USER,
                                                 response_url=self.slack.response_url()))
        elif word == "ingest":
            self.ingest(rest)
        elif line.startswith(("http://", "https://")):
            self.mentions += 1
            ts = f"1700000000.{self.mentions:06d}"
            event = {"type": "link_shared", "channel": CHANNEL, "user": USER, "message_ts": ts, "unfurl_id": ts,
                     "source": "composer", "links": [{"domain": "youtube.com", "url": line}]}
            self._dispatch(event_body(event), "application/json")
        else:
            text = line[len("/quote"):].strip() if line.startswith("/quote") else line
            self._dispatch(slash_command_body(text, user_id=USER, channel_id=CHANNEL,
                                              response_url=self.slack.response_url()))
        self._fill_forms()

    def press(self, number: int) -> None:
        item = self.elements.get(number)
        if item is None:
            self.out.write("No such button: press one of the numbers shown.\n")
            return
        element = item.element
        if "url" in element:
            self.out.write(f"Opens {element['url']}\n\n")
            return
        if item.view is not None:
            action: dict[str, Any] = {"action_id": element["action_id"], "block_id": item.block_id,
                                      "type": element["type"]}
            if element["type"] == "conversations_select":
                channel = self.ask("Post to which channel? (a channel id, Enter for #console) ")
                action["selected_conversation"] = (channel or "").strip() or CHANNEL
            else:
                action["value"] = element.get("value", "")
            self._dispatch(view_action_body(item.view, action, user_id=USER))
            return
        form = block_actions_body(element["action_id"], element.get("value", ""), user_id=USER, channel_id=CHANNEL,
                                  response_url=self.slack.response_url(), block_id=item.block_id,
                                  message_ts=item.card, option=item.option)
        self._dispatch(form)

    def ingest(self, target: str) -> None:
        if self.store is None or not target:
            self.out.write("ingest PATH: a transcript file or folder to add to the library.\n")
            return
        from index.ingest import ingest

        for r in ingest([str(Path(target).expanduser())], self.store):
            self.out.write(f"{r.status if r.ok else 'FAILED'}  {r.name}  {r.error or f'{r.segments} segments'}\n")
        self.library.refresh()
        self.arrived.clear()
        if self.alerter is not None:
            posted = [o for o in self.alerter.run() if o.status == "posted"]
            if posted:
                self.arrived.wait(WAIT_S)
            self.out.write(f"{len(posted)} alert post{'s' if len(posted) != 1 else ''}.\n\n")

    # --- modals: ask each input in turn, then submit ---------------------------------------------

    def _fill_forms(self) -> None:
        while self.forms:
            view = self.forms.pop(0)
            values = {}
            for block in view.get("blocks", []):
                if block["type"] != "input":
                    continue
                value = self._ask_input(view, block)
                if value is None:
                    self.out.write("(modal closed)\n\n")
                    return
                if value:
                    values[block["block_id"]] = {"action_id": block["element"]["action_id"], **value}
            answer = self._dispatch(view_submission_body(view, values, user_id=USER))
            if answer and answer.get("response_action") == "errors":
                # as Slack shows them: under the input, named by its label (the block id is internal)
                labels = {b["block_id"]: b["label"]["text"] for b in view.get("blocks", []) if b["type"] == "input"}
                for field, problem in answer["errors"].items():
                    self.out.write(f"   {labels.get(field, field)}: {problem}\n")
                self.out.write("\n")

    def _ask_input(self, view: dict, block: dict) -> dict[str, Any] | None:
        element, label = block["element"], block["label"]["text"]
        kind = element["type"]
        initial = element.get("initial_value") or element.get("initial_time") or element.get("initial_date") or ""
        hint = f" [{initial}]" if initial else (" (Enter: any)" if block.get("optional") else "")
        typed = self.ask(f"{label}{hint}: ")
        if typed is None:
            return None
        typed = typed.strip() or initial
        if kind == "plain_text_input":
            return {"value": typed} if typed else {}
        if kind == "timepicker":
            return {"selected_time": typed} if typed else {}
        if kind == "datepicker":
            return {"selected_date": typed} if typed else {}
        if kind == "conversations_select":
            return {"selected_conversation": typed or CHANNEL}
        if kind == "checkboxes":
            chosen = [o for o in element["options"] if typed.lower().startswith("y")]
            return {"selected_options": chosen}
        if kind == "external_select" and typed:
            options = (self._dispatch(options_body(element["action_id"], typed, view=view, user_id=USER),
                                      wait=False) or {}).get("options", [])
            if not options:
                self.out.write(f"   nothing matches {typed!r}: any\n")
                return {}
            for n, option in enumerate(options[:10], 1):
                self.out.write(f"   {n}. {option['text']['text']}\n")
            pick = (self.ask("   which? (a number, Enter: the first) ") or "1").strip() or "1"
            option = options[int(pick) - 1] if pick.isdigit() and 1 <= int(pick) <= len(options) else options[0]
            return {"selected_option": option}
        return {}


def run(settings: Settings, library: Library, once: Once, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout,
        digests: Digests | None = None, store: Store | None = None) -> None:
    """The console until ``quit`` or end of input. In a terminal it reads with readline and a prompt."""
    interactive = stdin.isatty() and out.isatty()
    if interactive:
        import readline  # noqa: F401 - line editing and history for input()

    def ask(prompt: str) -> str | None:
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = stdin.readline()
        return line.rstrip("\n") if line else None

    console = Console(settings, library, once, out, digests, store, ask)
    out.write(INTRO + "\n")
    out.flush()
    try:
        while (line := ask("quotebot> ")) is not None:
            if line.strip().lower() in ("quit", "exit", ":q"):
                break
            console.handle(line)
    finally:
        console.close()
