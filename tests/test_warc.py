"""WARC input (warcio): HTML responses become articles; other records are skipped; damage is reported."""

from __future__ import annotations

import gzip
from io import BytesIO
from pathlib import Path

import pytest

pytest.importorskip("warcio", reason="warcio is not installed: pip install 'newsweave[warc]'")

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsweave.errors import InputError
from newsweave.ingest import read_paths
from newsweave.models import Article
from newsweave.warc import read_warc


def page(title: str, body: str) -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{body}</p><p>Officials said more details would follow later in the day.</p></article></body></html>"
    ).encode()


def write_warc(path: Path, records: list[tuple[str, str, int, str, bytes]], gz: bool = True) -> Path:
    """records: (kind, uri, status, content type, payload)."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "newsweave-tests"}))
        for kind, uri, status, ctype, payload in records:
            if kind == "response":
                http = StatusAndHeaders(f"{status} OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
                rec = writer.create_warc_record(uri, "response", payload=BytesIO(payload), http_headers=http)
            else:
                rec = writer.create_warc_record(uri, kind, payload=BytesIO(payload), warc_content_type=ctype)
            writer.write_record(rec)
    return path


RECORDS = [
    (
        "response",
        "https://news.example/dam",
        200,
        "text/html; charset=utf-8",
        page("Dam gates opened", "Engineers opened two spillway gates at the Larkmoor dam on Tuesday after rain."),
    ),
    ("request", "https://news.example/dam", 0, "application/http; msgtype=request", b"GET /dam HTTP/1.1\r\n\r\n"),
    ("response", "https://news.example/logo.png", 200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
    ("response", "https://news.example/moved", 301, "text/html", b"<html>moved</html>"),
    ("response", "https://news.example/empty", 200, "text/html", b"<html><body></body></html>"),
    (
        "resource",
        "https://other.example/orchard",
        0,
        "text/html",
        page("Orchard robots arrive", "A farm near Pellworth started using picking robots this week, its owner said."),
    ),
]


@pytest.mark.parametrize("gz", [True, False])
def test_warc_reads_html_pages_and_skips_other_records(tmp_path: Path, gz: bool) -> None:
    path = write_warc(tmp_path / ("a.warc.gz" if gz else "a.warc"), RECORDS, gz=gz)
    items = list(read_warc(path))
    articles = [i for i in items if isinstance(i, Article)]
    errors = [i for i in items if isinstance(i, InputError)]
    assert [a.url for a in articles] == ["https://news.example/dam", "https://other.example/orchard"]
    assert "spillway" in articles[0].text and articles[0].title == "Dam gates opened"
    assert len(errors) == 1 and "news.example/empty" in errors[0].origin and "no main text" in errors[0].reason
    assert list(read_paths([path])) and [a.id for a in articles] == [
        i.id for i in read_paths([path]) if isinstance(i, Article)
    ]


def test_warc_same_uri_gives_the_same_id(tmp_path: Path) -> None:
    one = write_warc(tmp_path / "one.warc.gz", RECORDS[:1])
    two = write_warc(tmp_path / "two.warc.gz", RECORDS[:1])
    (a,) = [i for i in read_warc(one) if isinstance(i, Article)]
    (b,) = [i for i in read_warc(two) if isinstance(i, Article)]
    assert a.id == b.id


@pytest.mark.parametrize("keep", [0.8, 0.95, 0.99])
def test_warc_truncated_archive_keeps_what_came_before(tmp_path: Path, keep: float) -> None:
    full = write_warc(tmp_path / "full.warc.gz", RECORDS).read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(full[: int(len(full) * keep)])
    items = list(read_warc(cut))
    assert isinstance(items[0], Article) and items[0].url == "https://news.example/dam"
    assert not any(isinstance(i, Article) and i.url == "https://other.example/orchard" for i in items)
    assert isinstance(items[-1], InputError) and str(cut) in items[-1].origin
    assert "damaged WARC archive" in items[-1].reason or "truncated WARC record" in items[-1].reason


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"this is not a warc file at all\n" * 20, "not a WARC file"),
        (gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nshort"), "WARC"),
        (b"\x1f\x8b\x08\x00garbage", "damaged WARC archive"),
    ],
)
def test_warc_garbage_is_an_error_not_a_crash(tmp_path: Path, data: bytes, why: str) -> None:
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(data)
    items = list(read_warc(path))
    assert items and all(isinstance(i, InputError) for i in items)
    assert any(why in i.reason for i in items if isinstance(i, InputError))
