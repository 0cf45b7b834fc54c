"""The ``quotebot`` command: ingest, episodes, search, and run (the default)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from index import formats
from index.errors import TranscriptError
from index.ingest import IngestResult, ingest
from index.search import Hit, Searcher
from index.store import Store
from index.text import format_clock

from .settings import Settings


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
    try:
        return COMMANDS[command](args, settings)
    except TranscriptError as exc:
        print(f"quotebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotebot",
        description="Quote the podcasts and talks your team cares about.",
        epilog="With no command, 'quotebot run' ingests the bundled samples on first run and opens a search prompt.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="ingest transcripts from files, folders, URLs or RSS feeds")
    p.add_argument("targets", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--format", choices=list(formats.BY_NAME), help="skip detection and read as this format")

    p = sub.add_parser("episodes", help="list the episodes in the library")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("search", help="search the library for quotes")
    p.add_argument("query")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=int, default=5, help="how many hits (default 5)")
    p.add_argument("--speaker", help="only quotes by this speaker (substring)")
    p.add_argument("--episode", help="only quotes from episodes whose id or title contains this")

    p = sub.add_parser("run", help="ingest the bundled samples on first run, then search at a prompt")
    return parser


def _store(settings: Settings) -> Store:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.db_url)


def _progress(i: int, n: int, name: str) -> None:
    if n > 1:
        print(f"[{i}/{n}] {name}", file=sys.stderr, flush=True)


def _report(results: list[IngestResult]) -> int:
    for r in results:
        if not r.ok:
            print(f"FAILED  {r.error}")
            continue
        episodes = ", ".join(r.episodes) or "-"
        if r.status == "unchanged":
            print(f"same    {r.name}  episode {episodes}  (unchanged, nothing to do)")
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
    store = _store(settings)
    results = ingest(
        args.targets, store, format=args.format, max_bytes=settings.max_bytes,
        timeout_s=settings.fetch_timeout_s, progress=_progress,
    )
    return _report(results)


def cmd_episodes(args: argparse.Namespace, settings: Settings) -> int:
    episodes = _store(settings).episodes()
    if args.json:
        print(json.dumps([
            dict(id=e.id, title=e.title, podcast=e.podcast, url=e.url,
                 published=e.published.isoformat() if e.published else None,
                 duration_s=e.duration_s, segments=e.segments, speakers=e.speakers, sources=e.sources)
            for e in episodes
        ], indent=2, ensure_ascii=False))
        return 0
    if not episodes:
        print("The library is empty. Add transcripts with: quotebot ingest PATH_OR_URL")
    for e in episodes:
        length = format_clock(e.duration_s) if e.duration_s else "?"
        print(f"{e.id}\n    {e.title or '(untitled)'} — {e.podcast or 'unknown podcast'}"
              f"\n    {length}, {e.segments} segments, speakers: {', '.join(e.speakers) or 'unknown'}"
              f"\n    sources: {', '.join(e.sources)}")
    return 0


def render_hit(hit: Hit) -> str:
    when = format_clock(hit.start_s) if hit.start_s is not None else "--:--:--"
    lines = textwrap.wrap(f"“{hit.text}”", width=88, initial_indent="  ", subsequent_indent="   ")
    who = hit.speaker or "Unknown speaker"
    lines.append(f"  — {who}, {when}, {hit.episode or hit.episode_id} ({hit.podcast or 'unknown podcast'})")
    if hit.url:
        lines.append(f"    {hit.url}")
    return "\n".join(lines)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    hits = Searcher(_store(settings)).search(
        args.query, limit=args.limit, speaker=args.speaker, episode=args.episode
    )
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
    elif not hits:
        print("No quotes matched. Try fewer or different words.")
    else:
        print("\n\n".join(render_hit(h) for h in hits))
    return 0


def sample_dir() -> Path:
    return Path(str(resources.files("bot") / "samples"))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    if not store.episodes():
        print(f"First run: ingesting the bundled sample transcripts into {settings.data_dir} …", file=sys.stderr)
        _report(ingest([str(sample_dir())], store, max_bytes=settings.max_bytes, progress=_progress))
    episodes = store.episodes()
    print(f"Library: {len(episodes)} episodes, {store.segment_count()} segments.")
    searcher = Searcher(store)
    print("Type a search (for example: export controls), or an empty line to quit.")
    for line in sys.stdin:
        query = line.strip()
        if not query:
            break
        hits = searcher.search(query, limit=3)
        print("\n\n".join(render_hit(h) for h in hits) if hits else "No quotes matched.")
        print()
    return 0


COMMANDS = {"ingest": cmd_ingest, "episodes": cmd_episodes, "search": cmd_search, "run": cmd_run}
