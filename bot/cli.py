"""The ``quotebot`` command: ingest, episodes, search, and run (the default)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from index import formats
from index.errors import TranscriptError
from index.ingest import IngestResult, ingest
from index.query import QueryError
from index.search import Hit, Library, Progress
from index.store import Store
from index.text import format_clock

from .settings import Settings

if TYPE_CHECKING:
    from .feedback import FeedbackStore
    from .schedule import Digester


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"quotebot: bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    command = args.command or "run"
    if command in ("serve", "run") and settings.http_server == "gunicorn" and settings.slack_app_token is None:
        from .httpd import prepare_metrics

        prepare_metrics(settings.workers)  # before prometheus_client is imported: several workers' metrics
    from .observe import setup_logging

    # the server logs at QUOTEBOT_LOG_LEVEL; the commands people run by hand only say what goes wrong
    setup_logging(settings.log_format, settings.log_level if command == "serve" else "WARNING")
    try:
        return COMMANDS[command](args, settings)
    except (TranscriptError, QueryError) as exc:
        print(f"quotebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (quotebot search … | head)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stdout for the rest of the process's life
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotebot",
        description="Quote the podcasts and talks your team cares about.",
        epilog="With no command, 'quotebot run' ingests the bundled samples on first run, "
               "then opens the local console (with Slack tokens set, it serves Slack).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="ingest transcripts from files, folders, URLs or RSS feeds")
    p.add_argument("targets", nargs="*", metavar="PATH_OR_URL")
    p.add_argument("--samples", action="store_true", help="also ingest the bundled sample transcripts")
    p.add_argument("--format", choices=list(formats.BY_NAME), help="skip detection and read as this format")

    p = sub.add_parser("episodes", help="list the episodes in the library")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("feedback", help="list the reports made on quote cards (wrong speaker, wrong time)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("search", help="search the library for quotes")
    p.add_argument("query")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=_positive, default=5, help="how many hits (default 5)")
    p.add_argument("--speaker", help="only quotes by this speaker (substring)")
    p.add_argument("--episode", help="only quotes from episodes whose id or title contains this")

    p = sub.add_parser("serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    p.add_argument("--port", type=int, help="HTTP port (default: PORT, or 3000)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on (default 0.0.0.0)")

    p = sub.add_parser("digest", help="daily digests: send one now, or list the subscriptions")
    digest_sub = p.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    d = digest_sub.add_parser("send", help="post a channel's digest for a date, once (the same claim as the scheduler)")
    d.add_argument("--channel", required=True, help="the subscribed channel's id (C…)")
    d.add_argument("--date", type=_date, help="its local date, YYYY-MM-DD (default: today there)")
    d.add_argument("--team", help="the workspace id, when the channel id is subscribed in several")
    digest_sub.add_parser("list", help="list the digest subscriptions")

    p = sub.add_parser("run", help="ingest the bundled samples on first run, then serve, or without Slack tokens "
                                   "open a local console")
    return parser


def _version() -> str:
    """The installed package's version (pyproject.toml's ``version``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("quotebot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number (1 or more)") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {value!r}: use YYYY-MM-DD, like 2026-11-24") from None


def _store(settings: Settings) -> Store:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.db_url)


def _progress(i: int, n: int, name: str) -> None:
    if n > 1:
        print(f"[{i}/{n}] {name}", file=sys.stderr, flush=True)


def _index_progress(step: str, done: int, total: int) -> None:
    print(f"index: {step} {done}/{total} segments", file=sys.stderr, flush=True)


def _library(settings: Settings, store: Store | None = None, progress: Progress = _index_progress) -> Library:
    """The library with an up-to-date index (rebuilt here when the store changed)."""
    return Library.open(store or _store(settings), settings.data_dir / "index", progress)


def _logged_progress(step: str, done: int, total: int) -> None:
    logging.getLogger("quotebot.index").info("index: %s %d/%d segments", step, done, total)


def _report(results: list[IngestResult]) -> int:
    for r in results:
        if not r.ok:
            print(f"FAILED  {r.error}")
            continue
        episodes = ", ".join(r.episodes) or "-"
        if r.status == "unchanged":
            print(f"same    {r.name}  episode {episodes}  (unchanged, nothing to do)")
            continue
        if r.status == "skipped":
            fmt = f"  format {r.format}" if r.format else ""
            print(f"skipped {r.name}{fmt}  ({'; '.join(r.warnings)})")
            continue
        print(f"{r.status:<7} {r.name}  format {r.format}  episode {episodes}  {r.segments} segments"
              f"  {len(r.warnings)} warnings")
        for w in r.warnings:
            print(f"        warning: {w}")
    failed = sum(1 for r in results if not r.ok)
    if failed:
        print(f"{failed} of {len(results)} sources failed; fix them and run ingest again "
              "(what was stored before is kept).", file=sys.stderr)
    return 1 if failed else 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    targets = list(args.targets) + ([str(sample_dir())] if args.samples else [])
    if not targets:
        print("quotebot ingest: name a file, folder, URL or feed, or use --samples", file=sys.stderr)
        return 2
    store = _store(settings)
    results = ingest(
        targets, store, format=args.format, max_bytes=settings.max_bytes,
        timeout_s=settings.fetch_timeout_s, allow_hosts=settings.allow_hosts, progress=_progress,
    )
    code = _report(results)
    if any(r.status in ("added", "replaced") for r in results):
        library = _library(settings, store)
        print(f"index: {library.size} segments searchable", file=sys.stderr)
    return code


def _feedback(store: Store) -> FeedbackStore:
    from .feedback import FeedbackStore

    return FeedbackStore(store.engine)


def _reports_line(counts: dict[str, int]) -> str:
    """``2 reports: 1 wrong speaker, 1 wrong time``."""
    from .feedback import KINDS

    total = sum(counts.values())
    parts = ", ".join(f"{n} {KINDS[k].lower()}" for k, n in sorted(counts.items()) if k in KINDS)
    return f"{total} report{'s' if total != 1 else ''}: {parts}"


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    reports = _feedback(_store(settings)).reports()
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
        return 0
    if not reports:
        print("No reports. People report a wrong speaker or a wrong time with the ⋯ menu on a quote card.")
    for r in reports:
        when = format_clock(r.start_s) if r.start_s is not None else "no time"
        text = textwrap.shorten(r.text, 100, placeholder="…")
        print(f"{r.created_at:%Y-%m-%d %H:%M}  {r.kind:<7}  {r.episode_id} at {when}  "
              f"(speaker shown: {r.speaker or 'unknown'})  by {r.user_id} in {r.team_id}\n    “{text}”")
    return 0


def cmd_episodes(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    episodes = store.episodes()
    reports = _feedback(store).counts()
    if args.json:
        print(json.dumps([
            dict(id=e.id, title=e.title, podcast=e.podcast, url=e.url,  # noqa: C408 - a record, read as one
                 published=e.published.isoformat() if e.published else None,
                 duration_s=e.duration_s, segments=e.segments, speakers=e.speakers, sources=e.sources,
                 speaker_share=e.stats.get("speaker_share"), time_share=e.stats.get("time_share"),
                 located=e.stats.get("sources", {}), notes=e.stats.get("notes", []),
                 inferred_speakers=_evidence_by_speaker(e.speaker_evidence),
                 reports=reports.get(e.id, {}))
            for e in episodes
        ], indent=2, ensure_ascii=False))
        return 0
    if not episodes:
        print("The library is empty. Add transcripts with: quotebot ingest PATH_OR_URL")
    for e in episodes:
        length = format_clock(e.duration_s) if e.duration_s else "?"
        print(f"{e.id}\n    {e.title or '(untitled)'} — {e.podcast or 'unknown podcast'}"
              f"\n    {length}, {e.segments} segments, speakers: {', '.join(e.speakers) or 'unknown'}"
              f"\n    sources: {', '.join(e.sources)}"
              f"\n    {e.stats.get('speaker_share', 0):.0%} of segments name a speaker, "
              f"{e.stats.get('time_share', 0):.0%} have a time")
        for name, st in e.stats.get("sources", {}).items():
            if st["role"] != "timed":
                print(f"    {name}: {st['located']} of {st['passages']} passages located ({st['role']})")
        for name, found in _evidence_by_speaker(e.speaker_evidence).items():
            print(f"    {name}: named from the conversation")
            for ev in found[:EVIDENCE_SHOWN]:
                at = format_clock(ev["time_s"]) if ev["time_s"] is not None else "-"
                print(f"        {ev['rule']} at {at}: “{textwrap.shorten(ev['words'], 100)}”")
            if len(found) > EVIDENCE_SHOWN:
                print(f"        … and {len(found) - EVIDENCE_SHOWN} more (quotebot episodes --json)")
        if e.id in reports:
            print(f"    {_reports_line(reports[e.id])} (quotebot feedback lists them)")
    return 0


EVIDENCE_SHOWN = 4  # evidence lines per inferred speaker in `quotebot episodes`


def _evidence_by_speaker(evidence: list[dict]) -> dict[str, list[dict]]:
    """An episode's speaker evidence grouped by name: {name: [{rule, time_s, words}, ...]}."""
    out: dict[str, list[dict]] = {}
    for ev in evidence:
        out.setdefault(ev["name"], []).append({k: ev[k] for k in ("rule", "time_s", "words")})
    return out


def render_hit(hit: Hit) -> str:
    lines = textwrap.wrap(f"“{hit.text}”", width=88, initial_indent="  ", subsequent_indent="   ")
    if hit.translation:
        lines.extend(textwrap.wrap(hit.translation, width=44, initial_indent="   ", subsequent_indent="   "))
    about = [hit.who or "Unknown speaker"]
    if hit.start_s is not None:
        about.append(format_clock(hit.start_s))
    about.append(hit.episode or hit.episode_id)
    if hit.podcast:
        about.append(hit.podcast)
    lines.append("  — " + ", ".join(about))
    if hit.url:
        lines.append(f"    {hit.url}")
    return "\n".join(lines)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    query = args.query
    if args.speaker:
        query += f' speaker:"{args.speaker}"'
    if args.episode:
        query += f' episode:"{args.episode}"'
    result = _library(settings).answer(query, limit=args.limit)  # what /quote answers, for the same text
    hits = result.hits
    if result.kind == "error":
        print(f"Cannot search that: {result.understanding.error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return 0
    notes = result.notes(lambda s: f"'{s}'")
    if result.kind == "help":
        print(f"Search as in /quote: {_parser().prog} search 'export controls speaker:dylan'. "
              "See the README's Searching section.")
    elif not hits:
        print(" ".join([f"No quotes matched '{result.understanding.text}'.", *notes]))
    else:
        if notes:
            print(" ".join(notes), end="\n\n")
        print("\n\n".join(render_hit(h) for h in hits))
    return 0


def sample_dir() -> Path:
    return Path(str(resources.files("bot") / "samples"))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: first-run ingest of the samples, then Slack if configured, else the local console."""
    store = _store(settings)
    if not store.episodes():
        print(f"First run: ingesting the bundled sample transcripts into {settings.data_dir} …", file=sys.stderr)
        _report(ingest([str(sample_dir())], store, max_bytes=settings.max_bytes, progress=_progress))
    if settings.slack_signing_secret is not None and settings.has_workspace:
        from .observe import setup_logging

        setup_logging(settings.log_format, settings.log_level)
        return cmd_serve(argparse.Namespace(port=None, host="0.0.0.0"), settings)
    from . import console
    from .events import EventLog

    library = _library(settings, store)
    print(f"Library: {len(store.episodes())} episodes, {library.size} segments. No Slack tokens are set, "
          "so this is the local console.", file=sys.stderr)
    console.run(settings, library, EventLog(store.engine), digests=_digester(settings, store, library),
                store=store)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .runner import assemble, serve

    if settings.slack_signing_secret is None or not settings.has_workspace:
        print("quotebot: set SLACK_SIGNING_SECRET and either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
              "SLACK_CLIENT_SECRET (OAuth, many workspaces) to serve Slack; see the README's 'Install in your "
              "workspace', or run 'quotebot run' for the local console.", file=sys.stderr)
        return 2
    store = _store(settings)
    library = _library(settings, store, _logged_progress)
    return serve(settings, assemble(settings, store, library), args.host, args.port or settings.port)


def _digester(settings: Settings, store: Store, library: Library) -> Digester:
    from .runner import assemble

    return assemble(settings, store, library).digester


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from .schedule import local_today, utcnow

    store = _store(settings)
    if args.digest_command == "list":
        from .digests import DigestStore

        subs = DigestStore(store.engine).subscriptions()
        if not subs:
            print("No channel has a digest. In Slack: /quote digest subscribe")
        for s in subs:
            print(f"{s.team_id} {s.channel_id}  {s.describe().replace('`', '')}")
        return 0
    if not settings.has_workspace:
        print("quotebot: SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) must be set to post a digest.",
              file=sys.stderr)
        return 2
    digester = _digester(settings, store, _library(settings, store))
    subs = [s for s in digester.subscriptions() if s.channel_id == args.channel and args.team in (None, s.team_id)]
    if not subs:
        print(f"quotebot: channel {args.channel} has no digest subscription; subscribe it in Slack with "
              "/quote digest subscribe (quotebot digest list shows them).", file=sys.stderr)
        return 2
    if len(subs) > 1:
        print(f"quotebot: channel {args.channel} is subscribed in several workspaces "
              f"({', '.join(s.team_id for s in subs)}); choose one with --team.", file=sys.stderr)
        return 2
    sub = subs[0]
    today = local_today(sub, utcnow())
    day = args.date or today
    if day > today:
        print(f"quotebot: {day} has not begun in {sub.tz} (it is {today} there); a digest is sent on its day "
              "or later.", file=sys.stderr)
        return 2
    outcome = digester.send(sub, day)
    messages = {
        "posted": f"posted the {day} digest to {sub.channel_id} (ts {outcome.message_ts})",
        "empty": f"nothing to post to {sub.channel_id} for {day}: no new episodes and no unsent quote",
        "already": f"the {day} digest of {sub.channel_id} was sent already (ts {outcome.message_ts}); "
                   "it is sent once",
        "busy": f"another process is sending the {day} digest of {sub.channel_id} right now",
        "failed": f"the {day} digest of {sub.channel_id} failed: {outcome.error}; check the channel and the "
                  "bot's scopes, then run this again",
        "gone": f"workspace {sub.team_id} no longer has the app installed; its digest subscriptions were removed",
    }
    print(messages[outcome.status], file=sys.stderr if outcome.status == "failed" else sys.stdout)
    return 1 if outcome.status == "failed" else 0


COMMANDS = {"ingest": cmd_ingest, "episodes": cmd_episodes, "search": cmd_search, "run": cmd_run,
            "serve": cmd_serve, "digest": cmd_digest, "feedback": cmd_feedback}
