"""The safe fetcher: refusals say why; loopback servers only with the explicit test allowance."""

from __future__ import annotations

import gzip
import zlib

import pytest
from canned_http import Canned, CannedServer, Seen

from newsweave.errors import FetchRefused
from newsweave.fetch import FetchLimits, SafeFetcher, address_problem, read_url
from newsweave.models import Article

PAGE = (
    b"<html><head><title>Dam gates opened at Larkmoor</title></head><body><article>"
    b"<h1>Dam gates opened at Larkmoor</h1><p>Engineers opened two spillway gates at the Larkmoor dam on "
    b"Tuesday after days of heavy rain, officials said, and residents downstream were told to stay alert.</p>"
    b"<p>The county said no homes had flooded so far and that it would update residents every hour.</p>"
    b"</article></body></html>"
)


def _fake_dns(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme 'file' is not http or https"),
        ("gopher://example.org/", "scheme 'gopher'"),
        ("ftp://example.org/x", "scheme 'ftp'"),
        ("http:///nohost", "no host name"),
        ("http://127.0.0.1/", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.1.1/", "private"),
        ("http://user:pw@example.org/", "credentials"),
    ],
)
def test_fetch_refuses_bad_schemes_and_private_addresses(url: str, why: str) -> None:
    with SafeFetcher() as f, pytest.raises(FetchRefused, match=why):
        f.fetch(url)


def test_fetch_checks_every_resolved_address() -> None:
    """A name with one public and one private address is refused (no cherry-picking)."""
    dns = _fake_dns({"mixed.example": ["93.184.216.34", "10.0.0.7"], "public.example": ["93.184.216.34"]})
    with SafeFetcher(resolver=dns) as f:
        with pytest.raises(FetchRefused, match=r"'mixed.example' resolves to 10.0.0.7, a private address"):
            f.check("http://mixed.example/")
        assert f.check("https://public.example/a") == ("https", "public.example", 443, "93.184.216.34")


def test_fetch_address_problem_classes() -> None:
    import ipaddress

    assert address_problem(ipaddress.ip_address("8.8.8.8")) is None
    assert address_problem(ipaddress.ip_address("fd00:ec2::254")) == "a private address"
    assert "link-local" in str(address_problem(ipaddress.ip_address("fe80::1")))


def test_fetch_connects_to_the_checked_address_not_a_second_lookup(http_server: CannedServer) -> None:
    """DNS rebinding: the first answer is checked and pinned; a later answer is never used."""
    http_server.routes["/a"] = Canned(200, b"pinned")
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    with SafeFetcher(allow_private=True, resolver=lambda h, p: next(answers)) as f:
        result = f.fetch(f"http://rebind.example:{http_server.port}/a")
    assert result.body == b"pinned"
    assert http_server.requests[0].headers["host"] == f"rebind.example:{http_server.port}"


def test_fetch_loopback_needs_the_test_allowance(http_server: CannedServer) -> None:
    http_server.routes["/page"] = Canned(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
    with SafeFetcher() as f, pytest.raises(FetchRefused, match="loopback"):
        f.fetch(http_server.url("/page"))
    assert http_server.requests == []  # refused before connecting
    with SafeFetcher(allow_private=True) as f:
        result = f.fetch(http_server.url("/page"))
    assert result.status == 200 and result.body == PAGE and result.charset == "utf-8"


def test_fetch_redirects_are_rechecked_at_every_hop(http_server: CannedServer) -> None:
    http_server.routes["/r1"] = Canned(302, headers={"Location": "/r2"})
    http_server.routes["/r2"] = Canned(301, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    http_server.routes["/r3"] = Canned(302, headers={"Location": "file:///etc/passwd"})
    http_server.routes["/ok1"] = Canned(307, headers={"Location": "/ok2"})
    http_server.routes["/ok2"] = Canned(200, b"arrived")
    http_server.routes["/loop"] = Canned(302, headers={"Location": "/loop"})

    # the allowance covers loopback only through the resolver; metadata stays refused
    def dns(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "feeds.example" else ["169.254.169.254"]

    base = f"http://feeds.example:{http_server.port}"
    strict = SafeFetcher(resolver=lambda h, p: ["127.0.0.1"] if h == "feeds.example" else ["169.254.169.254"])
    with SafeFetcher(allow_private=True, resolver=dns) as f:
        result = f.fetch(base + "/ok1")
        assert result.body == b"arrived" and result.redirects == [base + "/ok2"]
        with pytest.raises(FetchRefused, match="scheme 'file'"):
            f.fetch(base + "/r3")
        with pytest.raises(FetchRefused, match="more than 5 redirects"):
            f.fetch(base + "/loop")
    with strict, pytest.raises(FetchRefused, match="loopback"):
        strict.fetch(base + "/r1")


def test_fetch_redirect_to_metadata_is_refused_after_dns() -> None:
    """A public page redirecting to a name that resolves to the metadata address is refused at that hop."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://metadata.example/latest/"})

    dns = _fake_dns({"news.example": ["93.184.216.34"], "metadata.example": ["169.254.169.254"]})
    with (
        SafeFetcher(resolver=dns, transport=httpx.MockTransport(handler)) as f,
        pytest.raises(FetchRefused, match=r"'metadata.example' resolves to 169.254.169.254, a link-local"),
    ):
        f.fetch("http://news.example/story")


def test_fetch_size_limit_and_declared_length(http_server: CannedServer) -> None:
    http_server.routes["/big"] = Canned(200, b"x" * 5000, send_length=False)
    http_server.routes["/liar"] = Canned(200, b"x" * 5000, {"Content-Length": "99999999"})
    with SafeFetcher(FetchLimits(max_bytes=1000), allow_private=True) as f:
        with pytest.raises(FetchRefused, match="over the 1000 byte limit"):
            f.fetch(http_server.url("/big"))
        with pytest.raises(FetchRefused, match="99999999 bytes is over the 1000 limit"):
            f.fetch(http_server.url("/liar"))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_fetch_decompression_bomb_is_stopped(http_server: CannedServer, encoding: str) -> None:
    raw = b"\0" * (50 * 1024 * 1024)  # 50 MB of zeros, ~50 KB compressed
    packed = gzip.compress(raw, 9) if encoding == "gzip" else zlib.compress(raw, 9)
    http_server.routes["/bomb"] = Canned(200, packed, {"Content-Encoding": encoding})
    http_server.routes["/fine"] = Canned(200, gzip.compress(b"hello " * 100), {"Content-Encoding": "gzip"})
    with SafeFetcher(FetchLimits(max_bytes=1024 * 1024), allow_private=True) as f:
        with pytest.raises(FetchRefused, match="expands past"):
            f.fetch(http_server.url("/bomb"))
        if encoding == "gzip":
            assert f.fetch(http_server.url("/fine")).body == b"hello " * 100


def test_fetch_unknown_content_encoding_is_refused(http_server: CannedServer) -> None:
    http_server.routes["/br"] = Canned(200, b"\x8b\x00", {"Content-Encoding": "br"})
    with SafeFetcher(allow_private=True) as f, pytest.raises(FetchRefused, match="unsupported content-encoding 'br'"):
        f.fetch(http_server.url("/br"))


def test_fetch_time_limit(http_server: CannedServer) -> None:
    http_server.routes["/slow"] = Canned(200, b"late", delay_s=3.0)
    with (
        SafeFetcher(FetchLimits(timeout_s=0.5), allow_private=True) as f,
        pytest.raises(FetchRefused, match="timed out"),
    ):
        f.fetch(http_server.url("/slow"))


def test_fetch_conditional_get_sends_validators(http_server: CannedServer) -> None:
    def route(seen: Seen) -> Canned:
        if seen.headers.get("if-none-match") == '"v1"':
            return Canned(304)
        return Canned(200, b"<rss/>", {"ETag": '"v1"', "Last-Modified": "Tue, 01 Oct 2024 10:00:00 GMT"})

    http_server.routes["/feed"] = route
    with SafeFetcher(allow_private=True) as f:
        first = f.fetch(http_server.url("/feed"))
        assert first.etag == '"v1"' and first.last_modified and not first.not_modified
        second = f.fetch(http_server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body == b""
    assert http_server.requests[1].headers["if-modified-since"] == "Tue, 01 Oct 2024 10:00:00 GMT"


def test_fetch_read_url_makes_an_article_or_names_the_refusal(http_server: CannedServer) -> None:
    http_server.routes["/story"] = Canned(200, PAGE, {"Content-Type": "text/html"})
    with SafeFetcher(allow_private=True) as f:
        (article,) = list(read_url(http_server.url("/story"), f))
    assert isinstance(article, Article) and "spillway" in article.text and article.url == http_server.url("/story")
    (err,) = list(read_url(http_server.url("/story")))  # default fetcher: no allowance
    assert not isinstance(err, Article) and err.origin == http_server.url("/story") and "loopback" in err.reason
