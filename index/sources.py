"""Where transcripts come from: files, folders, http(s) URLs and RSS feeds.

``open_sources`` turns one command-line target into the sources it names, each
with its sidecar metadata. Problems with one source are yielded as
TranscriptError so that the others still go in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import ipaddress
import json
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import httpx
from defusedxml import ElementTree
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import BinaryFileError, TranscriptError

MB = 1_000_000  # the unit of QUOTEBOT_MAX_FILE_MB and of every size message: megabytes, not MiB
DEFAULT_MAX_BYTES = 50 * MB
DEFAULT_TIMEOUT_S = 20.0
MAX_REDIRECTS = 5

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
    in_folder: bool = False  # found by walking a folder, not named: skipped, not failed, when no format fits


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
    if head.count(b"\x00") * 3 >= len(head) and (
        head[1::2].count(0) * 4 >= len(head) or head[0::2].count(0) * 4 >= len(head)
    ):
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        codec = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return _binary_check(data.decode(codec)), [f"no byte-order mark; decoded as {codec.upper()}"]
        except UnicodeDecodeError:
            raise BinaryFileError() from None
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
            raise BinaryFileError()
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
        raise BinaryFileError()
    return text


def read_sidecar(path: Path) -> tuple[Sidecar, bytes]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if path.name.endswith(".toml") else json.loads(text)
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
    allow_hosts: Iterable[str] = (),
    fetcher: Fetcher | None = None,
) -> Iterator[Source | TranscriptError]:
    """The sources that ``target`` (a file, a folder or an http(s) URL) names.

    URLs, and the URLs a feed names, are fetched by a ``Fetcher`` (``timeout_s`` bounds each whole
    fetch; ``allow_hosts`` may resolve to private addresses); a feed's local transcript paths must
    stay inside the feed's folder.
    """
    own = fetcher is None
    fetcher = fetcher or Fetcher(max_bytes=max_bytes, timeout_s=timeout_s, allow_hosts=allow_hosts)
    try:
        yield from _sources(target, max_bytes, fetcher)
    finally:
        if own:
            fetcher.close()


def _sources(target: str, max_bytes: int, fetcher: Fetcher) -> Iterator[Source | TranscriptError]:
    if urlsplit(target).scheme in ("http", "https"):
        try:
            data = fetcher.get(target)
        except TranscriptError as exc:
            yield exc
            return
        source = Source(key=target, name=target, data=data)
        if looks_like_feed(data):
            yield from _feed_sources(source, fetcher=fetcher)
        else:
            yield source
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
            yield from _file_sources(file, max_bytes=max_bytes, fetcher=fetcher, in_folder=True)
    elif path.is_file():
        if is_sidecar(path):
            yield TranscriptError("this is a sidecar; ingest the transcript beside it", source=target)
            return
        yield from _file_sources(path, max_bytes=max_bytes, fetcher=fetcher)
    else:
        yield TranscriptError("no such file or folder, and not an http(s) URL", source=target)


def too_big(size: int | None, max_bytes: int) -> str:
    """The message for a file over the limit, in MB (10^6 bytes), the unit of QUOTEBOT_MAX_FILE_MB."""
    limit = f"the {max_bytes / MB:g} MB limit (QUOTEBOT_MAX_FILE_MB)"
    return f"file is {size / MB:.1f} MB, over {limit}" if size is not None else f"file is over {limit}"


def _file_sources(path: Path, *, max_bytes: int, fetcher: Fetcher,
                  in_folder: bool = False) -> Iterator[Source | TranscriptError]:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            head = _binary_head(path) if in_folder else None
            if head is not None:
                # audio or video beside its transcripts: its head is enough for ingest to skip it,
                # as it skips every binary file found in a folder
                yield Source(key=str(path.resolve()), name=name, data=head, in_folder=True)
                return
            yield TranscriptError(too_big(size, max_bytes), source=name)
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
    source = Source(key=str(path.resolve()), name=name, data=data, meta=meta, meta_bytes=meta_bytes,
                    in_folder=in_folder)
    if looks_like_feed(data):
        yield from _feed_sources(source, fetcher=fetcher, base_dir=path.parent)
    else:
        yield source


BINARY_HEAD_BYTES = 8192  # what decode's binary checks look at


def _binary_head(path: Path) -> bytes | None:
    """The first BINARY_HEAD_BYTES of ``path`` when they are binary (decode raises
    BinaryFileError), else None. Raises OSError when the file cannot be read."""
    with path.open("rb") as f:
        head = f.read(BINARY_HEAD_BYTES)
    try:
        decode(head)
    except BinaryFileError:
        return head
    except TranscriptError:
        pass
    return None


def blocked_address(ip: str) -> str | None:
    """Why an address may not be fetched ("loopback", "private", "link-local", "multicast",
    "reserved" or "not public"), or None for a public address. IPv4-mapped IPv6 is judged as IPv4."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(addr, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if addr.is_global else "not public"


class Fetcher:
    """GETs the http(s) URLs an ingest names, within limits; one httpx client for all of them.

    - ``timeout_s`` (seconds) bounds each whole fetch: connecting, every redirect and reading the
      whole body. A server that drips bytes is cut off at the deadline (its socket is shut down).
    - ``max_bytes`` bounds the body (declared or streamed).
    - A URL whose host resolves to a loopback, private, link-local, multicast or otherwise
      non-public address is refused, unless its host is in ``allow_hosts`` (names or addresses,
      as written in the URL). The check is made on every redirect hop, on the addresses the name
      resolves to before connecting, and on the address actually connected to (so a name that
      resolves differently the second time is caught). Proxy variables are not used: fetches
      go direct, so that the connected address is the server's.

    ``get`` raises TranscriptError naming the URL and what to do.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout_s: float = DEFAULT_TIMEOUT_S,
                 allow_hosts: Iterable[str] = (),
                 resolve: Callable[[str], list[str]] | None = None) -> None:
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.allow_hosts = frozenset(h.strip().lower().strip("[]") for h in allow_hosts if h.strip())
        self.resolve = resolve or _resolve
        self.client = httpx.Client(follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def get(self, url: str) -> bytes:
        deadline = time.monotonic() + self.timeout_s
        try:
            for _ in range(MAX_REDIRECTS + 1):
                host = self._check(url)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise httpx.TimeoutException("deadline")
                request = self.client.build_request("GET", url, timeout=httpx.Timeout(remaining))
                response = self.client.send(request, stream=True)
                try:
                    self._check_peer(response, url, host)
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(str(response.url), response.headers["location"])
                        continue
                    return self._body(response, url, deadline)
                finally:
                    response.close()
            raise TranscriptError(f"more than {MAX_REDIRECTS} redirects; check the URL", source=url)
        except httpx.TimeoutException:
            raise TranscriptError(f"timed out: not fetched within {self.timeout_s:g} s (QUOTEBOT_FETCH_TIMEOUT_S); "
                                  "check the URL or try again later", source=url) from None
        except httpx.HTTPError as exc:
            if time.monotonic() >= deadline:  # the watchdog cut a dripping body off
                raise TranscriptError(f"timed out: not fetched within {self.timeout_s:g} s "
                                      "(QUOTEBOT_FETCH_TIMEOUT_S); check the URL or try again later",
                                      source=url) from None
            raise TranscriptError(f"cannot fetch: {exc}; check the URL and your network", source=url) from None

    def _check(self, url: str) -> str:
        """The URL's host, when it may be fetched; else TranscriptError saying why."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TranscriptError("only http(s) URLs with a host can be fetched", source=url)
        host = parts.hostname.lower()
        if host in self.allow_hosts:
            return host
        try:
            addresses = self.resolve(host)
        except OSError as exc:
            raise TranscriptError(f"cannot resolve {host}: {exc}; check the URL and your network", source=url) from None
        for address in addresses:
            why = blocked_address(address)
            if why:
                raise TranscriptError(self._refusal(host, address, why), source=url)
        return host

    def _check_peer(self, response: httpx.Response, url: str, host: str) -> None:
        if host in self.allow_hosts:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            why = blocked_address(str(peer[0]))
            if why:
                raise TranscriptError(self._refusal(host, str(peer[0]), why), source=url)

    @staticmethod
    def _refusal(host: str, address: str, why: str) -> str:
        what = f"{host} is" if host.strip("[]") == address else f"{host} resolves to {address},"
        return (f"refused: {what} a {why} address; feeds and URLs may only reach public addresses "
                "(to allow this host, add it to QUOTEBOT_FETCH_ALLOW_HOSTS)")

    def _body(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        if response.status_code >= 400:
            raise TranscriptError(f"server answered HTTP {response.status_code}; check the URL", source=url)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise TranscriptError(too_big(int(declared), self.max_bytes), source=url)
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut_off, args=(response,))
        watchdog.daemon = True
        watchdog.start()
        try:
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > self.max_bytes:
                    raise TranscriptError(too_big(None, self.max_bytes), source=url)
                if time.monotonic() >= deadline:
                    raise httpx.TimeoutException("deadline")
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            watchdog.cancel()


def _cut_off(response: httpx.Response) -> None:
    """Unblock a read that outlives the fetch's deadline: shut the connection's socket down."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (an address resolves to itself)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def looks_like_feed(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return (head.startswith(b"<?xml") and b"<rss" in data[:4096].lower()) or head.startswith(b"<rss")


def _people(element: Any) -> tuple[list[str], list[str]]:
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
    feed: Source, *, fetcher: Fetcher, base_dir: Path | None = None
) -> Iterator[Source | TranscriptError]:
    """Follow each item's best ``<podcast:transcript>``, under either namespace URI.

    A URL is fetched by ``fetcher`` (public addresses only, unless allowed). A local feed
    (``base_dir``, its folder) may also name files by relative path, which must stay inside its
    folder; anything else (an absolute path, ``..``, a symlink out, ``file:``) is refused by name.
    """
    try:
        root = ElementTree.fromstring(feed.data)
    except Exception as exc:  # noqa: BLE001 - defusedxml raises several types for bad or hostile XML
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
        scheme = urlsplit(href).scheme.lower()
        if scheme in ("http", "https") or (base_dir is None and not scheme):
            url = urljoin(feed.key if feed.key.startswith("http") else "", href)
            try:
                data = fetcher.get(url)
            except TranscriptError as exc:
                yield exc
                continue
            key = url
        else:
            try:
                local = _inside(base_dir, href) if base_dir is not None and not scheme else None
                if local is None:
                    raise TranscriptError(f"the feed names a transcript at {href!r}, outside its folder; a feed may "
                                          "only name http(s) URLs and files inside its own folder", source=feed.name)
                if local.stat().st_size > fetcher.max_bytes:
                    raise TranscriptError(too_big(local.stat().st_size, fetcher.max_bytes), source=str(local))
                data = local.read_bytes()
            except TranscriptError as exc:
                yield exc
                continue
            except OSError as exc:
                yield TranscriptError(f"cannot read transcript the feed names: {exc.strerror}", source=href)
                continue
            key = str(local)
        yield Source(
            key=key, name=key, data=data, meta=meta,
            meta_bytes=meta.model_dump_json().encode(), format=hint, fallback_format=fallback,
        )
    if not found:
        yield TranscriptError("feed has no <podcast:transcript> tags", source=feed.name)


def _inside(folder: Path, href: str) -> Path | None:
    """``href`` resolved against ``folder`` (symlinks followed), or None when it leaves the folder."""
    root = folder.resolve()
    local = (root / href).resolve()
    return local if local.is_relative_to(root) and local != root else None
