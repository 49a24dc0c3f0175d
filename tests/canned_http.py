"""A canned HTTP server on 127.0.0.1 for the fetcher and watcher tests (never the network).

Routes map a path to a fixed response or to a function of the request; every
request is recorded (path, headers, time) so tests can check conditional GETs
and politeness.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Canned:
    """One response: status, headers, body (a callable route may build one per request)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long between header and body (slow servers)
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    at: float


Route = Canned | Callable[[Seen], Canned]


class CannedServer:
    """A threaded HTTP server on loopback answering from ``routes``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                server.requests.append(seen)
                route = server.routes.get(self.path)
                if route is None:
                    canned = Canned(404, b"not here")
                else:
                    canned = route(seen) if callable(route) else route
                self.send_response(canned.status)
                for k, v in canned.headers.items():
                    self.send_header(k, v)
                if canned.send_length and "content-length" not in {k.lower() for k in canned.headers}:
                    self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                if canned.delay_s:
                    time.sleep(canned.delay_s)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(canned.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[CannedServer]:
    """A fresh canned server per test."""
    server = CannedServer()
    try:
        yield server
    finally:
        server.close()
