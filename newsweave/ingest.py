"""The ingest stage: files, directories, JSONL, HTML and feeds become :class:`Article`s.

Every reader yields either an ``Article`` or an :class:`InputError` naming the
file or record and the reason, so one bad input never stops a batch.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import InputError
from .models import Article

#: Largest single input file or record accepted, in bytes.
MAX_INPUT_BYTES = 20 * 1024 * 1024
#: Most entries read from one feed; a longer feed is read up to here and quarantined with the reason.
MAX_FEED_ENTRIES = 1000
#: Smallest body text, in characters, that can be called an article.
MIN_TEXT_CHARS = 20

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
FEED_SUFFIXES = {".rss", ".atom", ".xml", ".rdf"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
WARC_SUFFIXES = {".warc", ".arc"}


# --------------------------------------------------------------------------- paths


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield files in the given paths; directories are walked recursively, in name order."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith("."):
                    yield child
        else:
            yield path


def read_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Article | InputError]:
    """Read every article in files and directories; errors are yielded, not raised."""
    for path in expand_paths(paths):
        yield from read_file(path)


def _kind(path: Path, head: bytes) -> str:
    name = path.name.lower()
    for suffix in (".warc.gz", ".arc.gz"):
        if name.endswith(suffix):
            return "warc"
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in FEED_SUFFIXES:
        return "feed"
    if suffix in WARC_SUFFIXES:
        return "warc"
    sniff = head[:2048].lstrip().lower()
    if sniff.startswith(b"<?xml") or sniff.startswith(b"<rss") or sniff.startswith(b"<feed"):
        return "feed" if (b"<rss" in sniff or b"<feed" in sniff or b"<rdf" in sniff) else "html"
    if sniff.startswith(b"<!doctype html") or sniff.startswith(b"<html"):
        return "html"
    return "text"


def read_file(path: Path) -> Iterator[Article | InputError]:
    """Read one file of any supported kind."""
    origin = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield InputError(origin, f"cannot read file: {exc.strerror or exc}")
        return
    if size == 0:
        yield InputError(origin, "empty file (0 bytes)")
        return
    kind_head = b""
    try:
        with path.open("rb") as fh:
            kind_head = fh.read(4096)
    except OSError as exc:
        yield InputError(origin, f"cannot read file: {exc.strerror or exc}")
        return
    kind = _kind(path, kind_head)
    if kind == "jsonl":
        yield from read_jsonl(path)
        return
    if kind == "warc":
        from .warc import read_warc  # optional dependency, imported on use

        yield from read_warc(path)
        return
    if size > MAX_INPUT_BYTES:
        yield InputError(origin, f"file too large ({size} bytes; the limit is {MAX_INPUT_BYTES})")
        return
    raw = path.read_bytes()
    try:
        if kind == "html":
            yield parse_html(raw, article_id=path.stem, origin=origin)
        elif kind == "feed":
            yield from parse_feed(raw, origin=origin, fallback_source=path.stem)
        else:
            yield parse_text(decode_text(raw, origin), article_id=path.stem, origin=origin)
    except InputError as exc:
        yield exc


# --------------------------------------------------------------------------- decoding


def decode_text(raw: bytes, origin: str) -> str:
    """Decode bytes as text, refusing binary data and text in no recognisable encoding."""
    if b"\x00" in raw[:8192]:
        raise InputError(origin, "binary file (NUL bytes found): not a text article")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None or best.encoding is None or best.percent_chaos > 0.2:
        raise InputError(
            origin,
            f"undecodable text: not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) "
            "and no other encoding fits; convert it to UTF-8",
        )
    return str(best)


# --------------------------------------------------------------------------- text


_SENTENCE_END = tuple('.!?"”’)')


def split_headline(raw_text: str) -> tuple[str, str]:
    """Split a plain-text article into (headline, body).

    The first line is a headline when it is short, does not end like a sentence,
    and more text follows; otherwise the whole text is body and the headline is
    empty (a title can then be derived from the first sentence).
    """
    text = raw_text.replace("\r\n", "\n").replace("\r", "\n")
    stripped = text.lstrip("\n")
    first, sep, rest = stripped.partition("\n")
    line = first.strip()
    if sep and rest.strip() and line and len(line.split()) <= 30 and not line.endswith(_SENTENCE_END):
        return line, rest.strip("\n")
    return "", stripped.strip("\n")


def parse_text(raw_text: str, article_id: str, origin: str, **meta: Any) -> Article:
    """Turn plain text into an article (headline detected, source detected)."""
    title, body = split_headline(raw_text)
    body = body.rstrip()
    if len(body.strip()) < MIN_TEXT_CHARS:
        raise InputError(origin, f"no article text (fewer than {MIN_TEXT_CHARS} characters)")
    if not title:
        title = first_sentence(body)
    source = detect_source(body, meta.get("source"), meta.get("url"), article_id)
    return Article(
        id=article_id,
        title=title,
        text=body,
        source=source,
        published=normalize_date(meta.get("published"), origin),
        url=meta.get("url"),
        byline=meta.get("byline"),
        origin=origin,
    )


def first_sentence(text: str, limit: int = 120) -> str:
    """A stand-in headline: the first sentence, cut at a word boundary."""
    m = re.search(r"(.+?[.!?][\"”’]?)(?=\s+[A-Z\"“‘]|\s*$)", text.strip(), re.S)
    s = " ".join((m.group(1) if m else text).split())
    s = re.sub(r"^[A-Z][A-Z .,'’-]+\([^)]{1,20}\)\s*[—–-]+\s*", "", s)  # drop a dateline
    if len(s) > limit:
        s = s[:limit].rsplit(" ", 1)[0] + "…"
    return s


# --------------------------------------------------------------------------- source detection

_DATELINE = re.compile(r"^\s*[A-Z][A-Za-z .,'’-]{1,40}?\s*\(([A-Z][A-Za-z0-9&.\- ]{0,24})\)\s*[—–-]")
_CREDIT = re.compile(
    r"\b([A-Z]{2,}(?: News)?|[A-Z][a-z]+ News)\b"
    r"(?= (?:[A-Z][a-z]+ ){0,2}(?:Correspondent|Editor|Reporter|Producer)\b)"
)
_NEWS_NAME = re.compile(r"\b([A-Z][A-Za-z]+ News)\b")


def source_from_text(text: str) -> str | None:
    """The outlet the text names for itself: a dateline or a correspondent credit."""
    m = _DATELINE.match(text)
    if m:
        return m.group(1).strip()
    credits = Counter(c for c in _CREDIT.findall(text))
    if not credits:
        return None
    names = Counter(_NEWS_NAME.findall(text))
    best = credits.most_common(1)[0][0]
    stem = best.removesuffix(" News")
    news = f"{stem} News"
    return news if news in names or best.endswith(" News") else best


def source_from_url(url: str | None) -> str | None:
    if not url:
        return None
    host = urlparse(url).hostname or ""
    host = host.removeprefix("www.")
    return host or None


def detect_source(text: str, meta_source: str | None, url: str | None, stem: str | None) -> str | None:
    """Outlet name: named in the text, else metadata, else URL host, else the file name."""
    found = source_from_text(text)
    if found:
        return found
    if meta_source and str(meta_source).strip():
        return str(meta_source).strip()
    host = source_from_url(url)
    if host:
        return host
    if stem:
        token = re.split(r"[-_ .]", stem)[0]
        return token or stem
    return None


# --------------------------------------------------------------------------- dates


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def _iso_datetime(text: str) -> datetime | None:
    """``text`` as a datetime when it is a plain ISO 8601 date or date-time, else None."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def normalize_date(value: Any, origin: str) -> str | None:
    """An ISO 8601 string for a date-like value, or None. Implausible years are refused."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        dt = value
    elif (iso := _iso_datetime(str(value))) is not None:
        dt = iso  # the common case, without dateutil's general parser (a fifth of placement's cost)
    else:
        from dateutil import parser as dateparser

        try:
            dt = dateparser.parse(str(value))
        except (ValueError, OverflowError) as exc:
            raise InputError(origin, f"unreadable publication date {str(value)[:40]!r}: {exc}") from exc
    now = datetime.now(UTC)
    if not 1800 <= dt.year <= now.year + 1:
        raise InputError(origin, f"implausible publication date {dt.date().isoformat()} (year {dt.year})")
    if dt.tzinfo is None and dt.hour == dt.minute == dt.second == 0:
        return dt.date().isoformat()
    return dt.isoformat()


# --------------------------------------------------------------------------- JSONL


def read_jsonl(path: Path) -> Iterator[Article | InputError]:
    """Read JSON Lines, one article a line; a bad line is an error for that line only."""
    seen: set[str] = set()
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield InputError(str(path), f"cannot read file: {exc.strerror or exc}")
        return
    with fh:
        for lineno, raw in enumerate(_bounded_lines(fh), start=1):
            origin = f"{path}:{lineno}"
            if raw is None:
                yield InputError(origin, f"line too long (over {MAX_INPUT_BYTES} bytes)")
                continue
            if not raw.strip():
                continue
            try:
                article = parse_record(raw, default_id=f"{path.stem}-{lineno}", origin=origin)
            except InputError as exc:
                yield exc
                continue
            if article.id in seen:
                yield InputError(origin, f"duplicate id {article.id!r} in this file")
                continue
            seen.add(article.id)
            yield article


def _bounded_lines(fh: Any) -> Iterator[bytes | None]:
    """Lines of a binary file; a line longer than the limit is skipped and yields None."""
    while True:
        line = fh.readline(MAX_INPUT_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_INPUT_BYTES and not line.endswith(b"\n"):
            while True:  # discard the rest of the oversized line
                chunk = fh.readline(1 << 20)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield None
            continue
        yield line


def parse_record(raw: bytes | str | dict[str, Any], default_id: str, origin: str) -> Article:
    """One JSON record ``{"id", "title", "text", "published"?, "source"?, "url"?}``."""
    if isinstance(raw, dict):
        record: Any = raw
    else:
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            record = json.loads(text)
        except UnicodeDecodeError as exc:
            raise InputError(origin, f"undecodable line: not UTF-8 at byte {exc.start}") from exc
        except json.JSONDecodeError as exc:
            raise InputError(origin, f"malformed JSON: {exc.msg} at column {exc.colno}") from exc
        except RecursionError as exc:
            raise InputError(origin, "malformed JSON: nested too deeply") from exc
    if not isinstance(record, dict):
        raise InputError(origin, f"expected a JSON object, got {type(record).__name__}")
    body = record.get("text")
    if not isinstance(body, str) or len(body.strip()) < MIN_TEXT_CHARS:
        raise InputError(origin, "missing or empty 'text' field")
    title = record.get("title") or ""
    if not isinstance(title, str):
        raise InputError(origin, "'title' must be a string")
    article_id = record.get("id", default_id)
    if not isinstance(article_id, (str, int)) or str(article_id).strip() == "":
        raise InputError(origin, "'id' must be a non-empty string")
    article_id = str(article_id)
    url = record.get("url") if isinstance(record.get("url"), str) else None
    meta_source = record.get("source") if isinstance(record.get("source"), str) else None
    published = record.get("published", record.get("date"))
    body = body.strip("\n")
    return Article(
        id=article_id,
        title=title.strip() or first_sentence(body),
        text=body,
        source=detect_source(body, meta_source, url, None),
        published=normalize_date(published, origin),
        url=url,
        byline=record.get("byline") if isinstance(record.get("byline"), str) else None,
        origin=origin,
    )


# --------------------------------------------------------------------------- HTML


def parse_html(raw: bytes | str, article_id: str, origin: str, url: str | None = None) -> Article:
    """Main text and metadata of an HTML page, with trafilatura."""
    import trafilatura

    if isinstance(raw, bytes) and b"\x00" in raw[:8192]:
        raise InputError(origin, "binary file (NUL bytes found): not an HTML page")
    try:
        result = trafilatura.extract(
            raw, output_format="json", with_metadata=True, url=url, include_comments=False, favor_recall=True
        )
    except Exception as exc:  # trafilatura/lxml raise many types on hostile input
        raise InputError(origin, f"malformed HTML: {type(exc).__name__}: {exc}") from exc
    if not result:
        raise InputError(origin, "no main text found in the HTML page")
    data = json.loads(result)
    title = (data.get("title") or "").strip()
    body = (data.get("text") or "").strip()
    if title and body.startswith(title):  # trafilatura keeps the <h1> as the first line
        body = body[len(title) :].lstrip()
    if len(body) < MIN_TEXT_CHARS:
        raise InputError(origin, "no main text found in the HTML page")
    page_url = url or data.get("source") or data.get("url") or None
    sitename = data.get("sitename") or data.get("source-hostname") or None
    title = title or first_sentence(body)
    try:
        published = normalize_date(data.get("date"), origin)
    except InputError:
        published = None
    return Article(
        id=article_id,
        title=title,
        text=body,
        source=detect_source(body, sitename, page_url, article_id),
        published=published,
        url=page_url,
        byline=data.get("author") or None,
        origin=origin,
    )


# --------------------------------------------------------------------------- feeds


def _strip_html(fragment: str) -> str:
    import lxml.html

    if "<" not in fragment:
        return fragment.strip()
    try:
        tree = lxml.html.fromstring(f"<div>{fragment}</div>")
    except Exception:  # lxml raises ParserError/ValueError on junk
        return re.sub(r"<[^>]+>", " ", fragment).strip()
    for br in tree.iter("br", "p", "div", "li"):
        br.tail = "\n" + (br.tail or "")
    return re.sub(r"\n\s*\n+", "\n\n", tree.text_content()).strip()


def parse_feed(
    raw: bytes, origin: str, fallback_source: str | None = None, min_text: int = MIN_TEXT_CHARS
) -> Iterator[Article | InputError]:
    """RSS/Atom entries become articles with their links and dates (feedparser).

    ``min_text`` is the shortest entry text kept; the feed watcher passes 0
    because it fetches the linked page of entries that carry no text.
    """
    import feedparser

    if _declares_entities(raw):
        yield InputError(origin, "XML declares entities (<!ENTITY>): refused, as entity expansion can be a bomb")
        return
    parsed = feedparser.parse(raw)
    if parsed.get("bozo") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        yield InputError(origin, f"malformed feed: {reason}")
        return
    if not parsed.entries:
        yield InputError(origin, "feed has no entries")
        return
    feed_title = _str_or_none(parsed.feed.get("title")) if parsed.get("feed") else None
    entries = parsed.entries
    if len(entries) > MAX_FEED_ENTRIES:
        yield InputError(origin, f"feed has {len(entries)} entries; only the first {MAX_FEED_ENTRIES} were read")
        entries = entries[:MAX_FEED_ENTRIES]
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        # feedparser leaves fields None (or odd types) on malformed entries
        link = _str_or_none(entry.get("link"))
        entry_origin = f"{origin}#entry{n}"
        entry_id = _str_or_none(entry.get("id")) or link or f"{Path(origin).stem}-{n}"
        article_id = _slug_id(entry_id)
        if article_id in seen:
            yield InputError(entry_origin, f"duplicate entry id {entry_id!r}")
            continue
        seen.add(article_id)
        content = ""
        if entry.get("content"):
            content = " ".join(_str_or_none(c.get("value")) or "" for c in entry.content)
        content = content or _str_or_none(entry.get("summary")) or ""
        body = _strip_html(content)
        if len(body) < min_text or (not body and not link):
            yield InputError(entry_origin, "feed entry has no text")
            continue
        published = None
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp:
            try:
                stamp_dt = datetime.fromtimestamp(calendar.timegm(stamp), UTC)
                published = normalize_date(stamp_dt, entry_origin)
            except (InputError, ValueError, OverflowError, OSError) as exc:
                yield InputError(entry_origin, str(exc))
                continue
        yield Article(
            id=article_id,
            title=_strip_html(_str_or_none(entry.get("title")) or "") or first_sentence(body),
            text=body,
            source=detect_source(body, feed_title or None, link, fallback_source),
            published=published,
            url=link,
            byline=_str_or_none(entry.get("author")),
            origin=entry_origin,
        )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _declares_entities(raw: bytes) -> bool:
    """Whether an XML document's prolog declares entities (billion laughs and external entities live there)."""
    head = raw[: 1 << 20]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "replace").encode("utf-8")
    return b"<!ENTITY" in head.upper()


def _slug_id(value: str) -> str:
    """A short, stable, filesystem- and URL-safe id for a feed entry id or URL."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-")[-48:]
    digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else digest


#: Public name of :func:`_slug_id` (the fetcher and watcher derive ids from URLs with it).
slug_id = _slug_id
