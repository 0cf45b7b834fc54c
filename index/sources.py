"""Where transcripts come from: files, folders, http(s) URLs and RSS feeds.

``open_sources`` turns one command-line target into the sources it names, each
with its sidecar metadata. Problems with one source are yielded as
TranscriptError so that the others still go in.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import httpx
from defusedxml import ElementTree
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import TranscriptError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_TIMEOUT_S = 20.0

SIDECAR_SUFFIXES = (".meta.json", ".meta.toml")
TRANSCRIPT_NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)
# Podcasting 2.0 transcript types, best first, and the format that reads each.
TRANSCRIPT_TYPES = {
    "application/json": "podcast-json",
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/html": "podcast-html",
    "text/plain": None,
}


class Sidecar(BaseModel):
    """``NAME.meta.json`` / ``NAME.meta.toml`` beside a transcript: metadata it lacks."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    podcast: str | None = None
    url: str | None = None
    published: dt.date | None = None
    episode: int | None = None
    # Either the names of the people heard, or a mapping from the source's
    # labels ("SPEAKER_00", "JOHN") to names.
    speakers: list[str] | dict[str, str] | None = None
    hosts: list[str] = []
    guests: list[str] = []


@dataclass
class Source:
    key: str  # where it lives: an absolute path or a URL
    name: str  # how messages name it
    data: bytes
    meta: Sidecar | None = None
    meta_bytes: bytes = b""
    format: str | None = None  # a format the feed declared
    fallback_format: str | None = None  # used when detection finds none


def decode(data: bytes) -> tuple[str, list[str]]:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM; anything else
    (GB18030/GBK, Big5, Shift-JIS, UTF-16 without a BOM, cp1252 …) is detected by
    charset-normalizer, with a warning naming the encoding.

    Raises TranscriptError for an empty or binary file, or text that decodes to
    garbage in every encoding (charset-normalizer finds no plausible one).
    """
    if not data.strip():
        raise TranscriptError("file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeError:
            raise TranscriptError("file has a UTF-16 mark but is not valid UTF-16") from None
    head = data[:4096]
    if head.count(b"\x00") * 3 >= len(head) and (head[1::2].count(0) * 4 >= len(head) or head[0::2].count(0) * 4 >= len(head)):
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        codec = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return _binary_check(data.decode(codec)), [f"no byte-order mark; decoded as {codec.upper()}"]
        except UnicodeDecodeError:
            raise TranscriptError("binary file, not a transcript") from None
    try:
        return _binary_check(data.decode("utf-8-sig")), []
    except UnicodeDecodeError as exc:
        where = data[: exc.start].count(b"\n") + 1
    # UTF-16/32 without zero bytes cannot be (that case is read above): never guess them.
    matches = [m for m in charset_normalizer.from_bytes(data[:1_000_000]) if not m.encoding.startswith("utf_")]
    best = matches[0] if matches else None
    # Short Western text fits several single-byte code pages equally; cp1252 is the one
    # Windows tools write, so it wins among them when it fits at all.
    encoding = best.encoding if best is not None else None
    if encoding is not None and encoding.startswith(("cp125", "cp8", "cp7", "iso8859", "latin", "mac")):
        try:
            data.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            pass
    if encoding is None:
        head = data[:8192]
        if b"\x00" in head or sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13)) > len(head) * 0.05:
            raise TranscriptError("binary file, not a transcript")
        raise TranscriptError(
            f"not UTF-8 (first bad byte on line {where}) and no text encoding fits; "
            "convert it to UTF-8 (e.g. iconv -f ENCODING -t UTF-8) and ingest it again"
        )
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise TranscriptError(f"not UTF-8, and not valid {encoding} either; convert it to UTF-8") from None
    return _binary_check(text), [f"not UTF-8 (first bad byte on line {where}); decoded as {encoding}"]


def _binary_check(text: str) -> str:
    """``text``, or TranscriptError when it is full of control characters (a binary file)."""
    head = text[:8192]
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\n\f\r")
    if "\x00" in head or controls > len(head) * 0.05:
        raise TranscriptError("binary file, not a transcript")
    return text


def read_sidecar(path: Path) -> tuple[Sidecar, bytes]:
    raw = path.read_bytes()
    try:
        if path.name.endswith(".toml"):
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TranscriptError(f"sidecar is not valid {path.suffix[1:].upper()}: {exc}", source=str(path)) from None
    if not isinstance(data, dict):
        raise TranscriptError("sidecar must be an object of fields", source=str(path))
    try:
        return Sidecar.model_validate(data), raw
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise TranscriptError(f"sidecar field {field!r}: {first['msg']}", source=str(path)) from None


def sidecar_for(path: Path) -> Path | None:
    stem = path.name.split(".")[0]
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIXES)


def open_sources(
    target: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    client: httpx.Client | None = None,
) -> Iterator[Source | TranscriptError]:
    """The sources that ``target`` (a file, a folder or an http(s) URL) names."""
    if urlsplit(target).scheme in ("http", "https"):
        own = client is None
        client = client or httpx.Client(timeout=timeout_s, follow_redirects=True, max_redirects=5)
        try:
            try:
                data = fetch(client, target, max_bytes)
            except TranscriptError as exc:
                yield exc
                return
            source = Source(key=target, name=target, data=data)
            if looks_like_feed(data):
                yield from _feed_sources(source, client=client, max_bytes=max_bytes)
            else:
                yield source
        finally:
            if own:
                client.close()
        return

    path = Path(target)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and not is_sidecar(p)
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            yield TranscriptError("folder holds no files", source=target)
        for file in files:
            yield from _file_sources(file, max_bytes=max_bytes, timeout_s=timeout_s, client=client)
    elif path.is_file():
        if is_sidecar(path):
            yield TranscriptError("this is a sidecar; ingest the transcript beside it", source=target)
            return
        yield from _file_sources(path, max_bytes=max_bytes, timeout_s=timeout_s, client=client)
    else:
        yield TranscriptError("no such file or folder, and not an http(s) URL", source=target)


def _file_sources(
    path: Path, *, max_bytes: int, timeout_s: float, client: httpx.Client | None
) -> Iterator[Source | TranscriptError]:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield TranscriptError(
                f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit", source=name
            )
            return
        data = path.read_bytes()
    except OSError as exc:
        yield TranscriptError(f"cannot read file: {exc.strerror or exc}", source=name)
        return
    meta, meta_bytes = None, b""
    side = sidecar_for(path)
    if side is not None:
        try:
            meta, meta_bytes = read_sidecar(side)
        except TranscriptError as exc:
            yield exc
            return
    source = Source(key=str(path.resolve()), name=name, data=data, meta=meta, meta_bytes=meta_bytes)
    if looks_like_feed(data):
        own = client is None
        client = client or httpx.Client(timeout=timeout_s, follow_redirects=True, max_redirects=5)
        try:
            yield from _feed_sources(source, client=client, max_bytes=max_bytes, base_dir=path.parent)
        finally:
            if own:
                client.close()
    else:
        yield source


def fetch(client: httpx.Client, url: str, max_bytes: int) -> bytes:
    """GET ``url`` with a size limit; TranscriptError says why it failed."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise TranscriptError(
                    f"server answered HTTP {response.status_code}; check the URL", source=url
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise TranscriptError(
                    f"file is {int(declared) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit", source=url
                )
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise TranscriptError(f"file is over the {max_bytes / 1e6:.0f} MB limit", source=url)
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise TranscriptError("timed out; check the URL or try again later", source=url) from None
    except httpx.HTTPError as exc:
        raise TranscriptError(f"cannot fetch: {exc}; check the URL and your network", source=url) from None


def looks_like_feed(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return head.startswith(b"<?xml") and b"<rss" in data[:4096].lower() or head.startswith(b"<rss")


def _people(element) -> tuple[list[str], list[str]]:
    """(hosts, guests) from ``<podcast:person role="…">Name</podcast:person>`` tags.

    Podcasting 2.0: the role defaults to "host"; "co-host" counts as a host; other
    roles (producer, editor …) are not heard on the show, or not known to be.
    Source: https://podcastindex.org/namespace/1.0#person
    """
    hosts: list[str] = []
    guests: list[str] = []
    for ns in TRANSCRIPT_NAMESPACES:
        for tag in element.findall(f"{{{ns}}}person"):
            name = " ".join((tag.text or "").split())
            role = (tag.get("role") or "host").strip().lower()
            if name and role in ("host", "co-host", "cohost"):
                hosts.append(name)
            elif name and role == "guest":
                guests.append(name)
    return list(dict.fromkeys(hosts)), list(dict.fromkeys(guests))


def _feed_sources(
    feed: Source, *, client: httpx.Client, max_bytes: int, base_dir: Path | None = None
) -> Iterator[Source | TranscriptError]:
    """Follow each item's best ``<podcast:transcript>``, under either namespace URI."""
    try:
        root = ElementTree.fromstring(feed.data)
    except Exception as exc:  # defusedxml raises several types for bad or hostile XML
        yield TranscriptError(f"feed is not valid XML: {exc}", source=feed.name)
        return
    channel = root.find("channel")
    if channel is None:
        yield TranscriptError("feed has no <channel>", source=feed.name)
        return
    podcast = (channel.findtext("title") or "").strip() or None
    show_people = _people(channel)
    found = 0
    for item in channel.findall("item"):
        tags = [t for ns in TRANSCRIPT_NAMESPACES for t in item.findall(f"{{{ns}}}transcript")]
        if not tags:
            continue
        order = list(TRANSCRIPT_TYPES)
        tags.sort(key=lambda t: order.index(t.get("type")) if t.get("type") in order else len(order))
        tag = tags[0]
        href = (tag.get("url") or "").strip()
        if not href:
            yield TranscriptError("<podcast:transcript> without a url", source=feed.name)
            continue
        found += 1
        title = (item.findtext("title") or "").strip() or None
        link = (item.findtext("link") or "").strip() or None
        enclosure = item.find("enclosure")
        if link is None and enclosure is not None:
            link = enclosure.get("url")
        published = None
        if item.findtext("pubDate"):
            try:
                published = email.utils.parsedate_to_datetime(item.findtext("pubDate")).date()
            except (TypeError, ValueError):
                published = None
        hosts, guests = (mine or show for mine, show in zip(_people(item), show_people))  # the item's, else the show's
        meta = Sidecar(title=title, podcast=podcast, url=link, published=published, hosts=hosts, guests=guests)
        kind = tag.get("type")
        hint = TRANSCRIPT_TYPES.get(kind) if kind else None
        fallback = "plain" if kind == "text/plain" else None
        if urlsplit(href).scheme in ("http", "https") or base_dir is None:
            url = urljoin(feed.key if feed.key.startswith("http") else "", href)
            try:
                data = fetch(client, url, max_bytes)
            except TranscriptError as exc:
                yield exc
                continue
            key = url
        else:
            local = (base_dir / href).resolve()
            try:
                data = local.read_bytes()
            except OSError as exc:
                yield TranscriptError(f"cannot read transcript the feed names: {exc.strerror}", source=str(local))
                continue
            key = str(local)
        yield Source(
            key=key, name=key, data=data, meta=meta,
            meta_bytes=meta.model_dump_json().encode(), format=hint, fallback_format=fallback,
        )
    if not found:
        yield TranscriptError("feed has no <podcast:transcript> tags", source=feed.name)
