"""Property-based fuzzing: no parser and no clustering/alignment entry point raises anything but NewsweaveError.

Budget in CI: ``max_examples`` per target below (``derandomize=True``, so every
run tries the same inputs). ``scripts/fuzz.sh N`` runs the same targets with
N examples each and fresh randomness (``NEWSWEAVE_FUZZ_EXAMPLES``,
``NEWSWEAVE_FUZZ_RANDOM=1``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsweave.errors import NewsweaveError
from newsweave.ingest import (
    detect_source,
    normalize_date,
    parse_feed,
    parse_html,
    parse_record,
    parse_text,
    split_headline,
)
from newsweave.models import Article

#: Examples per target in CI (the slow analysis target gets a fifth of it).
CI_EXAMPLES = 60
EXAMPLES = int(os.environ.get("NEWSWEAVE_FUZZ_EXAMPLES", CI_EXAMPLES))
RANDOM = os.environ.get("NEWSWEAVE_FUZZ_RANDOM") == "1"


def budget(n: int = EXAMPLES) -> Any:
    return settings(
        max_examples=n,
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def only_newsweave_errors(fn: Callable[[], Any]) -> None:
    """Run fn (consuming generators); a NewsweaveError is an allowed outcome, anything else fails the test."""
    try:
        result = fn()
        if hasattr(result, "__next__"):
            for _ in result:
                pass
    except NewsweaveError:
        pass


# any code point, lone surrogates included (JSON escapes can produce them)
any_text = st.text(st.characters(codec=None, categories=None), max_size=300)
words = st.text(st.sampled_from("abcdefg ABC (WCMH) —.!?\"\n\t-,'’"), max_size=200)
texts = st.one_of(any_text, words)

TAGS = ["html", "head", "title", "body", "article", "p", "div", "h1", "script", "style", "meta", "a", "br", "table"]


@st.composite
def html_docs(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(st.sampled_from(TAGS))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(f"<{tag}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(texts))
        else:
            parts.append(
                f'<{tag} content="{draw(words)}" charset="{draw(st.sampled_from(["utf-8", "latin-1", "x"]))}">'
            )
    doc = "".join(parts)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
    return doc.encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace")


FEED_BITS = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rss version="2.0">',
    "</rss>",
    "<channel>",
    "</channel>",
    "<item>",
    "</item>",
    "<title>",
    "</title>",
    "<link>http://x.example/a</link>",
    "<guid>g</guid>",
    "<description>",
    "</description>",
    "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>",
    "<pubDate>Tue, 01 Oct 2024 10:00:00 GMT</pubDate>",
    "<pubDate>garbage</pubDate>",
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    "<entry>",
    "</entry>",
    "<content type='html'>&lt;p&gt;x&lt;/p&gt;",
    "</content>",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x>",
]


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    bits = draw(st.lists(st.one_of(st.sampled_from(FEED_BITS), words), max_size=40))
    return "".join(bits).encode("utf-8")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)
FIELDS = ["id", "title", "text", "published", "date", "source", "url", "byline"]
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8)


# ---------------------------------------------------------------------- parsers


@budget()
@given(texts, texts, texts)
def test_fuzz_parse_text(raw: str, article_id: str, origin: str) -> None:
    only_newsweave_errors(lambda: parse_text(raw, article_id=article_id, origin=origin))


@budget()
@given(texts)
def test_fuzz_split_headline(raw: str) -> None:
    title, body = split_headline(raw)
    assert isinstance(title, str) and isinstance(body, str)


@budget()
@given(texts, st.one_of(st.none(), texts), st.one_of(st.none(), texts), st.one_of(st.none(), texts))
def test_fuzz_detect_source(text: str, meta: str | None, url: str | None, stem: str | None) -> None:
    only_newsweave_errors(lambda: detect_source(text, meta, url, stem))


@budget()
@given(
    st.one_of(
        texts,
        st.integers(),
        st.floats(allow_nan=True),
        st.datetimes(),
        st.just(datetime(9999, 12, 31)),
        json_values,
        st.sampled_from(["9999-12-31", "0001-01-01", "1e400", "2024-02-30", "yesterday", "32/13/2020", "99999999999"]),
    )
)
def test_fuzz_normalize_date(value: Any) -> None:
    only_newsweave_errors(lambda: normalize_date(value, "fuzz"))


@budget()
@given(st.one_of(records, json_values, st.binary(max_size=300), texts, records.map(lambda r: json.dumps(r))))
def test_fuzz_parse_record(raw: Any) -> None:
    if not isinstance(raw, dict | str | bytes):
        raw = json.dumps(raw)
    only_newsweave_errors(lambda: parse_record(raw, default_id="d", origin="fuzz"))


@budget()
@given(st.one_of(html_docs(), st.binary(max_size=500)))
def test_fuzz_parse_html(raw: bytes) -> None:
    only_newsweave_errors(lambda: parse_html(raw, article_id="h", origin="fuzz"))


@budget()
@given(st.one_of(feeds(), st.binary(max_size=500)))
@example(b"<item><description></content>")  # found by scripts/fuzz.sh: feedparser left the summary None
def test_fuzz_parse_feed(raw: bytes) -> None:
    only_newsweave_errors(lambda: parse_feed(raw, origin="fuzz"))


def _valid_warc() -> bytes:
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = BytesIO()
    writer = WARCWriter(out, gzip=False)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    page = (
        b"<html><body><article><p>"
        + b"Engineers opened two gates at the dam on Tuesday. " * 3
        + b"</p></article></body></html>"
    )
    writer.write_record(
        writer.create_warc_record("https://a.example/x", "response", payload=BytesIO(page), http_headers=http)
    )
    return out.getvalue()


@budget()
@given(st.data())
def test_fuzz_read_warc(data: st.DataObject) -> None:
    pytest.importorskip("warcio")
    import gzip

    from newsweave.warc import read_warc

    base = _valid_warc()
    mode = data.draw(st.sampled_from(["random", "mutate", "cut"]))
    if mode == "random":
        raw = b"WARC/1.0\r\n" + data.draw(st.binary(max_size=400))
    elif mode == "mutate":
        pos = data.draw(st.integers(0, len(base) - 1))
        raw = base[:pos] + data.draw(st.binary(min_size=1, max_size=8)) + base[pos + 1 :]
    else:
        raw = base[: data.draw(st.integers(0, len(base)))]
    if data.draw(st.booleans()):
        raw = gzip.compress(raw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.warc.gz"
        path.write_bytes(raw)
        only_newsweave_errors(lambda: list(read_warc(path)))


# ---------------------------------------------------------------------- clustering and alignment


@pytest.fixture(scope="module")
def hashing_pipeline() -> Any:
    from newsweave.registry import build_pipeline

    return build_pipeline("hashing")


PHRASES = [
    "COLUMBUS (WCMH) —",
    '"We will rebuild," said Mayor Ann Lee.',
    "“It is over”, the minister told reporters.",
    "More than 2,000 people were evacuated.",
    "Nearly 40% of homes lost power on Friday.",
    "The damage is put at $1.2 million, or about £900,000.",
    "Officials said 12 people died; others said 15.",
    "On 3 March 2024, the dam at Larkmoor failed.",
    "Larkmoor Dam Authority spokesperson John Smith declined to comment.",
    "Thousands marched last Tuesday.",
    "ITV News Security Correspondent Paul Brand reports.",
    "The vote was 52-48.",
    "roughly half",
    "\n\n",
    ". . .",
    '"',
    "—",
    "0",
    "-1e308",
    "‮",
]
news_text = st.lists(st.one_of(st.sampled_from(PHRASES), words), max_size=25).map(" ".join)

article_st = st.builds(
    Article,
    id=st.text(min_size=1, max_size=20),
    title=st.one_of(texts, news_text),
    text=st.one_of(texts, news_text, news_text),
    source=st.one_of(st.none(), words),
    published=st.one_of(st.none(), st.sampled_from(["2024-10-01", "2024-10-01T10:00:00+00:00", "9999", "x"])),
    url=st.one_of(st.none(), st.just("https://a.example/x")),
)


@budget()
@given(st.lists(article_st, min_size=1, max_size=4))
def test_fuzz_place(hashing_pipeline: Any, articles: list[Article]) -> None:
    for a in articles:
        only_newsweave_errors(lambda a=a: hashing_pipeline.place(a))


@pytest.mark.slow
@budget(max(5, EXAMPLES // 5))
@given(st.lists(article_st, min_size=1, max_size=3, unique_by=lambda a: a.id))
def test_fuzz_analyze_story(hashing_pipeline: Any, articles: list[Article]) -> None:
    only_newsweave_errors(lambda: hashing_pipeline.analyze_story("s-fuzz", articles))
