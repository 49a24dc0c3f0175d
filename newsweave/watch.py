"""The feed watcher: poll many RSS/Atom feeds, each on its own schedule, into the store.

``newsweave watch FEEDS`` reads an OPML file or a list of feed URLs and polls
each feed when it is due:

* **conditional GET**: the feed's ``ETag``/``Last-Modified`` are sent back, so
  an unchanged feed costs a ``304`` and nothing else;
* **backoff**: a failing feed waits ``interval × 2^failures`` (capped, or the
  server's ``Retry-After``) before the next try; one success resets it;
* **politeness**: at most one request per host every ``politeness_s`` seconds
  (longer when robots.txt asks with ``Crawl-delay``);
* **robots.txt** is obeyed for article pages (a page it disallows is not
  fetched; the entry's own text is used when it is long enough);
* new entries' pages are fetched through the :class:`~newsweave.fetch.SafeFetcher`
  and extracted with trafilatura, then go through the same ingestion as files.

Each feed's schedule, validators and health live in the store's ``feeds``
table, so a restarted watcher carries on where it stopped and the CLI (and the
web UI) can show per-feed health.
"""

from __future__ import annotations

import email.utils
import time
import urllib.robotparser
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from .errors import ConfigError, FetchRefused, InputError
from .fetch import SafeFetcher
from .ingest import MIN_TEXT_CHARS, parse_feed, parse_html
from .models import Article

if TYPE_CHECKING:
    from .engine import Newsweave

DEFAULT_INTERVAL_S = 900
MIN_INTERVAL_S = 60
MAX_BACKOFF_S = 6 * 3600
ROBOTS_TTL_S = 3600
#: Entries whose own text is shorter than this get their page fetched.
FULL_TEXT_CHARS = 600


@dataclass(frozen=True)
class FeedSpec:
    """One feed to watch: its URL, a title when the list gave one, and its poll interval."""

    url: str
    title: str | None = None
    interval_s: int = DEFAULT_INTERVAL_S


@dataclass
class PollResult:
    """What one poll of one feed did."""

    url: str
    status: str  # "ok", "not-modified", "error"
    added: int = 0
    revised: int = 0
    unchanged: int = 0
    errors: int = 0
    message: str = ""


# ---------------------------------------------------------------------- feed lists


def read_feed_list(path: str | Path, interval_s: int = DEFAULT_INTERVAL_S) -> list[FeedSpec]:
    """Feeds from an OPML file or a text file of URLs.

    A text list has one feed per line: ``URL [INTERVAL_SECONDS]``; blank lines
    and ``#`` comments are skipped. OPML ``outline`` elements with an
    ``xmlUrl`` are feeds (a ``newsweave:interval`` attribute sets the interval).

    Raises:
        ConfigError: unreadable file, malformed OPML, a line that is not a feed
            URL, or no feeds at all; the message names the file and line.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the feed list: {exc.strerror or exc}") from exc
    head = raw[:512].lstrip().lower()
    feeds = _read_opml(p, raw, interval_s) if head.startswith((b"<?xml", b"<opml")) else _read_lines(p, raw, interval_s)
    if not feeds:
        raise ConfigError(f"{p}: no feeds found; give an OPML file or one http(s) URL per line")
    seen: set[str] = set()
    unique = []
    for f in feeds:
        if f.url not in seen:
            seen.add(f.url)
            unique.append(f)
    return unique


def _read_opml(path: Path, raw: bytes, interval_s: int) -> list[FeedSpec]:
    import defusedxml.ElementTree as ET  # refuses entity expansion (billion laughs) and DTD tricks
    from defusedxml import DefusedXmlException

    try:
        root = ET.fromstring(raw)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise ConfigError(f"{path}: malformed OPML: {exc}") from exc
    feeds = []
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not url:
            continue
        _check_feed_url(url, f"{path}: outline {node.get('text') or url!r}")
        interval = _interval(node.get("{https://newsweave.example/opml}interval") or node.get("interval"), interval_s)
        feeds.append(FeedSpec(url, node.get("title") or node.get("text"), interval))
    return feeds


def _read_lines(path: Path, raw: bytes, interval_s: int) -> list[FeedSpec]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    feeds = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line:
            continue
        parts = line.split()
        _check_feed_url(parts[0], f"{path}:{n}")
        interval = _interval(parts[1] if len(parts) > 1 else None, interval_s, f"{path}:{n}")
        feeds.append(FeedSpec(parts[0], None, interval))
    return feeds


def _check_feed_url(url: str, where: str) -> None:
    if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).hostname:
        raise ConfigError(f"{where}: {url[:200]!r} is not an http(s) feed URL")


def _interval(value: str | None, default: int, where: str = "") -> int:
    if value in (None, ""):
        return default
    try:
        seconds = int(float(value))
    except ValueError:
        raise ConfigError(f"{where}: interval {value!r} is not a number of seconds") from None
    return max(MIN_INTERVAL_S, seconds)


# ---------------------------------------------------------------------- politeness and robots


class HostGate:
    """Spaces requests to each host at least ``delay_s`` apart (longer when robots.txt asks)."""

    def __init__(self, delay_s: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.delay_s = delay_s
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}
        self.extra: dict[str, float] = {}

    def wait(self, url: str) -> None:
        """Block until a request to this URL's host is polite, then record it."""
        host = (urlsplit(url).hostname or "").lower()
        gap = max(self.delay_s, self.extra.get(host, 0.0))
        last = self._last.get(host)
        if last is not None:
            due = last + gap - self.clock()
            if due > 0:
                self.sleep(due)
        self._last[host] = self.clock()


class RobotsCache:
    """robots.txt per host, fetched through the safe fetcher and kept for an hour.

    A missing robots.txt (4xx) allows everything; one that cannot be fetched
    (5xx, refused, timed out) disallows the host for now, as RFC 9309 asks.
    """

    def __init__(self, fetcher: SafeFetcher, gate: HostGate, agent: str, clock: Callable[[], float]) -> None:
        self.fetcher = fetcher
        self.gate = gate
        self.agent = agent
        self.clock = clock
        self._cache: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch this page."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        cached = self._cache.get(root)
        if cached is None or self.clock() - cached[0] > ROBOTS_TTL_S:
            cached = (self.clock(), self._load(root))
            self._cache[root] = cached
        parser = cached[1]
        if parser is None:
            return False
        return parser.can_fetch(self.agent, url)

    def _load(self, root: str) -> urllib.robotparser.RobotFileParser | None:
        robots_url = urljoin(root, "/robots.txt")
        parser = urllib.robotparser.RobotFileParser(robots_url)
        self.gate.wait(robots_url)
        try:
            result = self.fetcher.fetch(robots_url)
        except FetchRefused:
            return None
        if 400 <= result.status < 500:
            parser.parse([])  # no robots.txt: everything is allowed
            return parser
        if result.status != 200:
            return None
        parser.parse(result.body.decode("utf-8", "replace").splitlines())
        delay = parser.crawl_delay(self.agent)
        if delay:
            host = (urlsplit(root).hostname or "").lower()
            self.gate.extra[host] = min(float(delay), 60.0)
        return parser


# ---------------------------------------------------------------------- the watcher


class Watcher:
    """Polls feeds into a store.

    Args:
        nw: the store-backed engine articles are ingested into.
        feeds: the feeds to watch (added to the store's ``feeds`` table).
        fetcher: the safe fetcher (tests pass one with their loopback allowance).
        politeness_s: least gap between two requests to one host.
        analyze: analyze changed stories after each poll.
        clock: wall-clock seconds (tests pass a fake one).
        sleep: how to wait (tests pass a fake one).
    """

    def __init__(
        self,
        nw: Newsweave,
        feeds: Iterable[FeedSpec],
        fetcher: SafeFetcher | None = None,
        *,
        politeness_s: float = 1.0,
        analyze: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.nw = nw
        self.feeds = list(feeds)
        self.fetcher = fetcher or SafeFetcher()
        self.analyze = analyze
        self.clock = clock
        self.sleep = sleep
        self.gate = HostGate(politeness_s, clock, sleep)
        agent = "newsweave"
        self.robots = RobotsCache(self.fetcher, self.gate, agent, clock)
        for spec in self.feeds:
            row = nw.store.feed_row(spec.url)
            if row is None:
                nw.store.save_feed(spec.url, title=spec.title, interval_s=spec.interval_s, next_poll=0.0)
            elif row["interval_s"] != spec.interval_s:
                nw.store.save_feed(spec.url, interval_s=spec.interval_s)

    def due(self) -> list[FeedSpec]:
        """The feeds whose next poll time has come."""
        now = self.clock()
        rows = {r["url"]: r for r in self.nw.store.feed_rows()}
        return [f for f in self.feeds if rows.get(f.url, {}).get("next_poll", 0.0) <= now]

    def run(self, cycles: int | None = None, on_poll: Callable[[PollResult], None] | None = None) -> None:
        """Poll due feeds until stopped (Ctrl-C) or for ``cycles`` rounds."""
        done = 0
        while cycles is None or done < cycles:
            for result in self.poll_due():
                if on_poll:
                    on_poll(result)
            done += 1
            if cycles is not None and done >= cycles:
                break
            rows = [r for r in self.nw.store.feed_rows() if r["url"] in {f.url for f in self.feeds}]
            nxt = min((r["next_poll"] for r in rows), default=self.clock() + DEFAULT_INTERVAL_S)
            self.sleep(max(1.0, min(nxt - self.clock(), 300.0)))

    def poll_due(self) -> list[PollResult]:
        """Poll every due feed once; then analyze what changed."""
        results = [self.poll(spec) for spec in self.due()]
        if self.analyze and any(r.added or r.revised for r in results):
            self.nw.refresh()
        return results

    def poll(self, spec: FeedSpec) -> PollResult:
        """Poll one feed now: conditional GET, new entries' pages, ingestion, health."""
        store = self.nw.store
        row = store.feed_row(spec.url) or {}
        now = self.clock()
        stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        self.gate.wait(spec.url)
        try:
            result = self.fetcher.fetch(spec.url, etag=row.get("etag"), last_modified=row.get("last_modified"))
            if result.status not in (200, 304):
                raise _PollFailed(f"HTTP status {result.status}", _retry_after(result.headers.get("retry-after"), now))
        except (FetchRefused, _PollFailed) as exc:
            failures = int(row.get("failures") or 0) + 1
            wait = exc.retry_after if isinstance(exc, _PollFailed) and exc.retry_after else None
            backoff = wait or min(spec.interval_s * 2**failures, MAX_BACKOFF_S)
            message = str(exc)
            store.save_feed(
                spec.url,
                failures=failures,
                last_status="error",
                last_error=message[:500],
                last_polled=stamp,
                next_poll=now + backoff,
            )
            return PollResult(spec.url, "error", message=f"{message}; next try in {backoff:.0f} s")
        if result.not_modified:
            store.save_feed(
                spec.url,
                failures=0,
                last_status="not-modified",
                last_error=None,
                last_polled=stamp,
                last_ok=stamp,
                next_poll=now + spec.interval_s,
            )
            return PollResult(spec.url, "not-modified")
        report = self.nw.ingest_items(self._articles(spec, result.body), analyze=False)
        store.save_feed(
            spec.url,
            etag=result.etag,
            last_modified=result.last_modified,
            failures=0,
            last_status="ok",
            last_error=None,
            last_polled=stamp,
            last_ok=stamp,
            next_poll=now + spec.interval_s,
            articles=int(row.get("articles") or 0) + len(report.added),
        )
        return PollResult(
            spec.url,
            "ok",
            added=len(report.added),
            revised=len(report.revised),
            unchanged=len(report.unchanged),
            errors=len(report.errors),
            message="; ".join(str(e) for e in report.errors[:3]),
        )

    def _articles(self, spec: FeedSpec, body: bytes) -> Iterator[Article | InputError]:
        """The feed's entries, each with its page's full text when the entry is short and the page is new."""
        for item in parse_feed(body, origin=spec.url, min_text=0):
            if isinstance(item, InputError):
                yield item
                continue
            if not item.url or len(item.text) >= FULL_TEXT_CHARS:
                yield _entry_or_error(item, "it has no link to a page")
                continue
            if self.nw.store.has_article(item.id, item.url):
                # Known: its stored text came from its page; the teaser must not
                # replace it as a "revision", and the page is not fetched again.
                continue
            yield self._with_page(item)

    def _with_page(self, entry: Article) -> Article | InputError:
        """The entry with its page's text (trafilatura), or the entry as it is when the page cannot be used."""
        url = entry.url or ""
        try:
            if not self.robots.allowed(url):
                return _entry_or_error(entry, "robots.txt disallows fetching the page")
            self.gate.wait(url)
            result = self.fetcher.fetch(url)
        except FetchRefused as exc:
            return _entry_or_error(entry, str(exc))
        if result.status != 200:
            return _entry_or_error(entry, f"page HTTP status {result.status}")
        try:
            page = parse_html(result.body, article_id=entry.id, origin=url, url=url)
        except InputError as exc:
            return _entry_or_error(entry, exc.reason)
        return replace(
            page,
            id=entry.id,
            title=entry.title or page.title,
            published=entry.published or page.published,
            url=url,
            byline=entry.byline or page.byline,
            origin=entry.origin,
        )


class _PollFailed(Exception):
    """A feed answered, but not with a feed (internal; becomes feed health)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _entry_or_error(entry: Article, why: str) -> Article | InputError:
    if len(entry.text) >= MIN_TEXT_CHARS:
        return entry
    return InputError(entry.origin or entry.url or entry.id, f"entry has no text and its page cannot be used: {why}")


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_BACKOFF_S))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(when.timestamp() - now, MAX_BACKOFF_S))


def health_lines(rows: Iterable[dict[str, Any]], now: float | None = None) -> list[str]:
    """One line per feed for the CLI: status, failures, next poll, articles, last error."""
    now = time.time() if now is None else now
    lines = []
    for r in rows:
        status = r.get("last_status") or "new"
        nxt = max(0, int((r.get("next_poll") or 0) - now))
        line = f"{status:<12} {r.get('articles') or 0:>5} articles  next in {nxt:>5} s  {r['url']}"
        if r.get("failures"):
            line += f"  ({r['failures']} failures: {r.get('last_error') or ''})"
        lines.append(line)
    return lines
