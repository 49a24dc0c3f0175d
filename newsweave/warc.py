"""WARC archives (for example Common Crawl's CC-NEWS) become articles, with warcio.

Every HTML ``response`` or ``resource`` record with a 2xx status is read as an
article page (trafilatura, via :func:`newsweave.ingest.parse_html`); its id
is derived from the record's target URI, so the same page crawled twice is one
article (or a revision when its text changed). Records of other kinds
(``warcinfo``, ``request``, ``metadata``, images, ...) are skipped. A bad record
is an :class:`InputError` naming the file, the record's byte offset and URI; a
damaged archive stops where the damage is, keeping what came before.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import InputError, NotInstalled
from .ingest import parse_html, slug_id
from .models import Article

#: Largest record payload read, in bytes (larger pages are refused, not truncated).
MAX_RECORD_BYTES = 20 * 1024 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_warc(path: str | Path) -> Iterator[Article | InputError]:
    """Read every HTML page of a ``.warc`` or ``.warc.gz`` file.

    Args:
        path: the archive.

    Yields:
        An :class:`Article` per readable page, an :class:`InputError` per bad
        record or for a damaged archive.
    """
    try:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed
    except ModuleNotFoundError:
        # one unreadable file, not a failed batch: the message says what to install
        yield InputError(str(path), str(NotInstalled("reading WARC files", "warc")))
        return
    origin = str(path)
    try:
        head = _head(Path(path))
    except (OSError, EOFError, zlib.error) as exc:
        yield InputError(origin, f"damaged WARC archive: {type(exc).__name__}: {_short(exc)}")
        return
    if not head.startswith((b"WARC/", b"filedesc://")):
        # warcio would guess at any bytes (as ARC or bare HTTP); refuse them instead.
        yield InputError(origin, f"not a WARC file (starts with {head[:16]!r}, not 'WARC/')")
        return
    with Path(path).open("rb") as fh:
        records = ArchiveIterator(fh, check_digests=False)
        offset = 0
        seen = 0
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except ArchiveLoadFailed as exc:
                yield InputError(f"{origin}@{offset}", f"damaged WARC archive: {_short(exc)}; records after it skipped")
                return
            except Exception as exc:  # zlib/EOF/ValueError from damaged or truncated archives
                yield InputError(
                    f"{origin}@{offset}", f"damaged WARC archive: {type(exc).__name__}: {_short(exc)}; stopped here"
                )
                return
            seen += 1
            # the payload is read before asking for the offset: warcio computes
            # the offset by consuming the record.
            item = _record_article(record, origin, lambda: records.get_record_offset())
            offset = records.get_record_offset()
            if item is not None:
                yield item
    if seen == 0:
        yield InputError(origin, "no WARC records found: an empty or damaged archive")
        return
    if head_is_gzip(Path(path)):
        damage = _gzip_damage(Path(path))
        if damage:
            # warcio ends quietly at a cut gzip member; say that records were lost.
            yield InputError(f"{origin}@{offset}", f"damaged WARC archive: {damage}; records after it are lost")


def head_is_gzip(path: Path) -> bool:
    """Whether the file starts with the gzip magic number."""
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _gzip_damage(path: Path) -> str | None:
    """Why the gzip stream is damaged or truncated, or None when it reads to its end."""
    try:
        with gzip.open(path, "rb") as gz:
            while gz.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error) as exc:
        return f"{type(exc).__name__}: {_short(exc)}"
    return None


def _head(path: Path) -> bytes:
    """The first bytes of the (decompressed) archive."""
    if head_is_gzip(path):
        with gzip.open(path, "rb") as gz:
            return gz.read(16)
    with path.open("rb") as fh:
        return fh.read(16)


def _record_article(record: Any, origin: str, offset_of: Callable[[], int]) -> Article | InputError | None:
    """One record as an article, an error, or None when it is not an HTML page."""
    if not record.rec_type:
        return InputError(f"{origin}@{offset_of()}", "WARC record without a WARC-Type header: damaged archive")
    if record.rec_type not in ("response", "resource"):
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    try:
        if record.rec_type == "response":
            if record.http_headers is None:
                return None  # a non-HTTP response (dns:, whois:): not a page
            status = record.http_headers.get_statuscode() or ""
            ctype = record.http_headers.get_header("Content-Type") or ""
            if not status.startswith("2"):
                return None  # redirects and errors were crawled, not articles
        else:
            ctype = record.rec_headers.get_header("Content-Type") or ""
        if not ctype.split(";")[0].strip().lower().startswith(HTML_TYPES):
            return None
        payload = record.content_stream().read(MAX_RECORD_BYTES + 1)
        missing = getattr(record.raw_stream, "limit", 0)
    except Exception as exc:  # warcio raises many types on damaged payloads
        return InputError(f"{origin} ({uri[:200]})", f"unreadable WARC record: {type(exc).__name__}: {_short(exc)}")
    offset = offset_of()
    where = f"{origin}@{offset}" + (f" ({uri[:200]})" if uri else "")
    if len(payload) <= MAX_RECORD_BYTES and missing:
        return InputError(where, f"truncated WARC record: {missing} bytes of it are missing")
    if len(payload) > MAX_RECORD_BYTES:
        return InputError(where, f"page larger than {MAX_RECORD_BYTES} bytes")
    if not payload.strip():
        return InputError(where, "empty page in WARC record")
    article_id = slug_id(uri) if uri else f"{Path(origin).name}-{offset}"
    try:
        article = parse_html(payload, article_id=article_id, origin=where, url=uri or None)
    except InputError as exc:
        return exc
    return article


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
