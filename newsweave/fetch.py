"""The safe fetcher: every URL newsweave fetches goes through :class:`SafeFetcher`.

A URL is untrusted input: a feed, a redirect or a user can name any address.
The fetcher therefore refuses

* schemes other than ``http`` and ``https``;
* hosts that resolve to loopback, private, link-local (cloud metadata
  ``169.254.169.254`` included), carrier-grade NAT, multicast, reserved or
  unspecified addresses: *every* address DNS returns is checked, and the
  connection goes to the checked address (the ``Host`` header and TLS SNI
  keep the name), so a second DNS answer cannot point elsewhere (DNS rebinding);
* redirects leading there: each hop is checked the same way;
* bodies over a size limit, transfers over a time limit, and compressed
  bodies that expand past the size limit (only gzip and deflate are accepted
  and they are inflated incrementally, so a bomb is stopped, not expanded).

Each refusal is a :class:`~newsweave.errors.FetchRefused` saying why. Tests
reach servers they start on loopback with ``SafeFetcher(allow_private=True)``,
an explicit allowance no command-line option exposes.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__
from .errors import FetchRefused, InputError
from .models import Article

USER_AGENT = f"newsweave/{__version__} (+https://github.com/newsweave/newsweave)"
ALLOWED_SCHEMES = ("http", "https")
#: Addresses refused even though ``ipaddress`` may call them global.
EXTRA_BLOCKED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT, often internal
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS IPv6 metadata
)

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may take.

    Attributes:
        max_bytes: largest body, after decompression.
        timeout_s: the whole fetch, redirects included.
        connect_timeout_s: one TCP/TLS connection.
        max_redirects: redirect hops followed.
        max_ratio: largest decompressed/compressed ratio tolerated once past 1 MiB.
    """

    max_bytes: int = 10 * 1024 * 1024
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    max_redirects: int = 5
    max_ratio: int = 200


@dataclass
class FetchResult:
    """One fetched response (after redirects)."""

    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        """True for ``304 Not Modified`` (a conditional GET found nothing new)."""
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case (``text/html``)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        msg = Message()
        msg["content-type"] = self.headers.get("content-type", "")
        value = msg.get_param("charset")
        return value if isinstance(value, str) else None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def address_problem(ip: IPAddress) -> str | None:
    """Why an address must not be fetched from, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_problem(ip.ipv4_mapped)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if any(ip in net for net in EXTRA_BLOCKED) or ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


class SafeFetcher:
    """Fetches http(s) URLs while refusing private destinations and oversized bodies.

    Args:
        limits: size and time limits.
        allow_private: test-only: allow loopback and private addresses (the
            tests' own servers). Never set it for untrusted URLs.
        resolver: ``(host, port) -> [ip, ...]``; the system resolver by default
            (tests pass a fake one to simulate DNS answers).
        user_agent: the ``User-Agent`` sent.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        user_agent: str = USER_AGENT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.allow_private = allow_private
        self.resolver = resolver or system_resolver
        self.user_agent = user_agent
        self._client = httpx.Client(
            follow_redirects=False, trust_env=False, transport=transport, headers={"User-Agent": user_agent}
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def __enter__(self) -> SafeFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ checks

    def check(self, url: str) -> tuple[str, str, int, str]:
        """Check a URL before connecting.

        Returns:
            ``(scheme, host, port, ip)``: the address to connect to.

        Raises:
            FetchRefused: bad scheme, no host, unresolvable, or any resolved
                address is not public.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused(f"refused {url[:200]!r}: malformed URL ({exc})") from exc
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise FetchRefused(f"refused {url[:200]!r}: scheme {scheme or '(none)'!r} is not http or https")
        host = parts.hostname
        if not host:
            raise FetchRefused(f"refused {url[:200]!r}: no host name")
        if parts.username or parts.password:
            raise FetchRefused(f"refused {url[:200]!r}: credentials in URLs are not sent")
        port = port or (443 if scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise FetchRefused(f"refused {url[:200]!r}: host {host!r} does not resolve ({exc})") from exc
            if not addresses:
                raise FetchRefused(f"refused {url[:200]!r}: host {host!r} has no address")
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address.split("%")[0])
            except ValueError as exc:
                raise FetchRefused(f"refused {url[:200]!r}: resolver gave a bad address {address!r}") from exc
            problem = address_problem(ip)
            if problem and not self.allow_private:
                raise FetchRefused(f"refused {url[:200]!r}: host {host!r} resolves to {ip}, {problem}")
        return scheme, host, port, addresses[0].split("%")[0]

    # ------------------------------------------------------------------ fetching

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> FetchResult:
        """GET a URL, following redirects that pass the same checks.

        Args:
            url: an http(s) URL.
            etag: sent as ``If-None-Match`` (conditional GET).
            last_modified: sent as ``If-Modified-Since``.
            headers: extra request headers.

        Returns:
            The final response; ``status`` 304 means not modified (empty body).

        Raises:
            FetchRefused: the URL, a redirect, the size, the time or the
                encoding was refused, or the server could not be reached.
        """
        deadline = time.monotonic() + self.limits.timeout_s
        extra = dict(headers or {})
        if etag:
            extra["If-None-Match"] = etag
        if last_modified:
            extra["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        current = url
        for _ in range(self.limits.max_redirects + 1):
            result = self._get_once(current, extra, deadline)
            if result.status in (301, 302, 303, 307, 308) and "location" in result.headers:
                nxt = urljoin(current, result.headers["location"])
                redirects.append(nxt)
                current = nxt
                continue
            result.redirects = redirects
            return result
        raise FetchRefused(f"refused {url[:200]!r}: more than {self.limits.max_redirects} redirects")

    def _get_once(self, url: str, headers: dict[str, str], deadline: float) -> FetchResult:
        scheme, host, port, ip = self.check(url)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRefused(f"refused {url[:200]!r}: took longer than {self.limits.timeout_s:g} s")
        target = httpx.URL(url)
        # Connect to the address just checked, not to whatever a second DNS
        # lookup would say; Host and SNI keep the name.
        pinned = target.copy_with(host=ip)
        default_port = 443 if scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
        host_header = name if port == default_port else f"{name}:{port}"
        request_headers = {"Host": host_header, "Accept-Encoding": "gzip, deflate", **headers}
        timeout = httpx.Timeout(min(remaining, 30.0), connect=min(remaining, self.limits.connect_timeout_s))
        extensions: dict[str, Any] = {"sni_hostname": host} if scheme == "https" else {}
        try:
            with self._client.stream(
                "GET", pinned, headers=request_headers, timeout=timeout, extensions=extensions
            ) as response:
                resp_headers = {k.lower(): v for k, v in response.headers.items()}
                if response.status_code in (301, 302, 303, 307, 308, 304):
                    return FetchResult(url=url, status=response.status_code, headers=resp_headers)
                declared = resp_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.limits.max_bytes:
                    raise FetchRefused(
                        f"refused {url[:200]!r}: body of {declared} bytes is over the {self.limits.max_bytes} limit"
                    )
                body = self._read_body(url, response, resp_headers.get("content-encoding", ""), deadline)
                return FetchResult(url=url, status=response.status_code, headers=resp_headers, body=body)
        except httpx.TimeoutException as exc:
            raise FetchRefused(f"refused {url[:200]!r}: timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise FetchRefused(f"cannot fetch {url[:200]!r}: {type(exc).__name__}: {exc}") from exc

    def _read_body(self, url: str, response: httpx.Response, encoding: str, deadline: float) -> bytes:
        limit = self.limits.max_bytes
        decoder = _decoder(url, encoding)
        out = bytearray()
        raw_total = 0
        for chunk in _raw_chunks(response):
            raw_total += len(chunk)
            if time.monotonic() > deadline:
                raise FetchRefused(f"refused {url[:200]!r}: took longer than {self.limits.timeout_s:g} s")
            if raw_total > limit:
                raise FetchRefused(f"refused {url[:200]!r}: body over the {limit} byte limit")
            data = decoder(chunk, limit - len(out) + 1) if decoder else chunk
            out += data
            if len(out) > limit:
                raise FetchRefused(
                    f"refused {url[:200]!r}: body expands past the {limit} byte limit"
                    + (f" (compressed {encoding} bomb?)" if decoder else "")
                )
            if decoder and len(out) > 1 << 20 and len(out) > self.limits.max_ratio * raw_total:
                raise FetchRefused(
                    f"refused {url[:200]!r}: {encoding} body expands more than {self.limits.max_ratio}-fold"
                )
        return bytes(out)


def _raw_chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_raw(64 * 1024)


class _Inflater:
    """Incremental gzip/deflate decoding that stops at a byte budget instead of expanding a bomb."""

    def __init__(self, url: str, encoding: str) -> None:
        self.url = url
        self.encoding = encoding
        self.raw_deflate = False
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        self._d = zlib.decompressobj(wbits)

    def __call__(self, chunk: bytes, allowed: int) -> bytes:
        try:
            data = self._d.decompress(chunk, allowed)
        except zlib.error:
            if self.encoding == "deflate" and not self.raw_deflate:
                # Some servers send raw deflate without the zlib header.
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                self.raw_deflate = True
                return self(chunk, allowed)
            raise FetchRefused(f"refused {self.url[:200]!r}: corrupt {self.encoding} body") from None
        if self._d.unconsumed_tail:
            raise FetchRefused(
                f"refused {self.url[:200]!r}: {self.encoding} body expands past the byte limit (compression bomb?)"
            )
        return data


def _decoder(url: str, encoding: str) -> _Inflater | None:
    """The decoder for a content-encoding, None for identity; anything else is refused."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchRefused(f"refused {url[:200]!r}: unsupported content-encoding {encoding!r}")
    return _Inflater(url, encoding)


# ---------------------------------------------------------------------- articles from URLs


def read_url(url: str, fetcher: SafeFetcher | None = None) -> Iterator[Article | InputError]:
    """Fetch one URL and read it as an article page (or a feed's entries).

    Errors, refusals included, are yielded as :class:`InputError` naming the URL.
    """
    from .ingest import parse_feed, parse_html, slug_id

    own = fetcher is None
    fetcher = fetcher or SafeFetcher()
    try:
        result = fetcher.fetch(url)
    except FetchRefused as exc:
        yield InputError(url, str(exc))
        return
    finally:
        if own:
            fetcher.close()
    if result.status != 200:
        yield InputError(url, f"HTTP status {result.status}; expected 200")
        return
    if not result.body:
        yield InputError(url, "empty response body")
        return
    kind = result.content_type
    head = result.body[:512].lstrip().lower()
    is_feed = "rss" in kind or "atom" in kind or head.startswith((b"<rss", b"<feed", b"<?xml"))
    if "xml" in kind and is_feed and b"<html" not in head:
        yield from parse_feed(result.body, origin=url)
        return
    try:
        yield parse_html(result.body, article_id=slug_id(result.url), origin=url, url=result.url)
    except InputError as exc:
        yield exc


def read_inputs(
    items: Iterable[str | os.PathLike[str]], fetcher: SafeFetcher | None = None
) -> Iterator[Article | InputError]:
    """Articles from paths and URLs alike: anything with ``://`` is fetched (and refused unless http(s))."""
    from .ingest import read_paths

    for item in items:
        if "://" in str(item):
            yield from read_url(str(item), fetcher)
        else:
            yield from read_paths([item])
