"""The REST API and the web server: a FastAPI app over one :class:`~newsweave.engine.Newsweave`.

:func:`create_app` builds the app; ``newsweave serve`` runs it with uvicorn.
Routes hold no logic: they parse the request, call the engine or
:mod:`newsweave.search`, and shape the answer. The web pages
(:mod:`newsweave.web`) are mounted on the same app.

Security, because article text is untrusted and the server may be reachable:

- writes (``POST /api/articles``) need the API token (``Authorization: Bearer``
  or ``X-Newsweave-Token``), compared in constant time; see :func:`resolve_token`;
- reads are open to loopback clients, and to everyone only with ``public_reads``;
- request bodies over ``max_body`` bytes get 413 before they are read whole;
- every response carries a strict Content-Security-Policy (no script at all on
  the pages), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and
  ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from . import __version__, search
from .engine import IngestReport, Newsweave
from .errors import ConfigError, InputError, NewsweaveError, NotFound, StageError, StoreError
from .ingest import decode_text, parse_feed, parse_html, parse_record, parse_text
from .models import Article, Story
from .store import db_url

#: Default largest request body, in bytes.
MAX_BODY = 5 * 1024 * 1024
TOKEN_ENV = "NEWSWEAVE_TOKEN"

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}

JSON_TYPES = {"application/json"}
JSONL_TYPES = {"application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml"}
TEXT_TYPES = {"text/plain"}


class Unauthorized(NewsweaveError):
    """The request lacks a valid API token."""


class TooLarge(NewsweaveError):
    """The request body is over the server's size limit."""


class UnsupportedType(NewsweaveError):
    """The request body's Content-Type is not one newsweave reads."""


class BadRequest(NewsweaveError):
    """The request is malformed (e.g. its JSON does not parse)."""


STATUS: list[tuple[type[Exception], int]] = [
    (Unauthorized, 401),
    (NotFound, 404),
    (TooLarge, 413),
    (UnsupportedType, 415),
    (BadRequest, 400),
    (ConfigError, 400),
    (InputError, 422),
    (StageError, 500),
    (StoreError, 503),
    (NewsweaveError, 500),
]


def status_of(exc: Exception) -> int:
    """The HTTP status for a newsweave error."""
    for kind, code in STATUS:
        if isinstance(exc, kind):
            return code
    return 500


# --------------------------------------------------------------------------- token


def token_path(db: str | os.PathLike[str] | None) -> Path:
    """Where the token file lives: beside an SQLite store (``<db>.token``), else in the user config dir."""
    url = db_url(db)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        store = Path(url[len("sqlite:///") :])
        return store.with_name(store.name + ".token")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "newsweave" / "token"


def resolve_token(db: str | os.PathLike[str] | None) -> tuple[str, str]:
    """The API token and where it comes from: ``$NEWSWEAVE_TOKEN``, else a token file made on first run.

    The file is created with mode 0600 holding a random 256-bit token.

    Returns:
        ``(token, description of its origin)``.

    Raises:
        ConfigError: The token file exists but is empty or unreadable.
    """
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return env, f"${TOKEN_ENV}"
    path = token_path(db)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server made it just now
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the API token file {path}: {exc}; fix it or set ${TOKEN_ENV}") from exc
    if not token:
        raise ConfigError(f"the API token file {path} is empty; delete it to make a new one or set ${TOKEN_ENV}")
    return token, str(path)


def _given_token(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-newsweave-token", "").strip()


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


# --------------------------------------------------------------------------- middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Guard:
    """ASGI middleware: security headers on every response; 413 for bodies over the limit; Host check.

    A declared ``Content-Length`` over the limit is refused before reading; a
    chunked body is counted as it streams and cut off at the limit. With
    ``allowed_hosts``, a request whose ``Host`` is not one of them gets 400:
    this stops DNS-rebinding pages from reading a server bound to localhost.
    """

    def __init__(self, app: ASGIApp, max_body: int, docs_csp: str, allowed_hosts: frozenset[str] | None) -> None:
        self.app = app
        self.max_body = max_body
        self.docs_csp = docs_csp
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope["path"] == "/docs" else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                headers.append((b"content-security-policy", csp.encode()))
                headers.extend((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())
                message["headers"] = headers
            await send(message)

        headers = dict(scope.get("headers", []))
        if self.allowed_hosts is not None:
            host = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in self.allowed_hosts:
                message = f"host {host!r} is not served here; use http://127.0.0.1 or start serve with that --host"
                await _error_response(400, message)(scope, receive, send_with_headers)
                return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _error_response(413 if length.isdigit() else 400, self._too_large())(
                scope, receive, send_with_headers
            )
            return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise TooLarge(self._too_large())
            return message

        await self.app(scope, counted_receive, send_with_headers)

    def _too_large(self) -> str:
        return f"request body over the limit of {self.max_body} bytes; send fewer articles per request"


def _host_name(host: str) -> str:
    """The host part of a ``Host`` header, lower-cased, without port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def loopback_hosts(host: str) -> frozenset[str] | None:
    """The ``Host`` names to accept for a server bound to ``host``: its own and localhost's; None (any) for 0.0.0.0."""
    if host in ("0.0.0.0", "::", ""):
        return None
    return frozenset({host.lower(), "localhost", "127.0.0.1", "::1"})


def _error_response(code: int, message: str) -> Response:
    """A JSON error answer, for the middleware (the app's handlers make the same shape)."""
    return JSONResponse({"error": {"status": code, "message": message}}, status_code=code)


# --------------------------------------------------------------------------- app


@dataclass
class ServerState:
    """What the routes share: the engine, its write lock, the token and the read policy."""

    nw: Newsweave
    token: str
    public_reads: bool
    max_body: int
    lock: threading.Lock

    def check_write(self, request: Request) -> None:
        """Raise Unauthorized unless the request carries the API token."""
        given = _given_token(request)
        if not given or not secrets.compare_digest(given.encode(), self.token.encode()):
            raise Unauthorized(
                "writing needs the API token: send `Authorization: Bearer TOKEN` "
                f"(the token is ${TOKEN_ENV} or the token file `newsweave serve` printed at start)"
            )

    def check_read(self, request: Request) -> None:
        """Raise Unauthorized for a non-loopback reader without the token, unless reads are public."""
        if self.public_reads or _is_loopback(request.client.host if request.client else None):
            return
        self.check_write(request)

    def ingest(self, items: list[Article | InputError]) -> IngestReport:
        """Ingest parsed articles, one writer at a time (the pipeline's clusterer is stateful)."""
        with self.lock:
            return self.nw.ingest_items(items)

    def story(self, story_id: str) -> Story:
        """A story as last stored; analyzed now (under the write lock) only if it never was."""
        story = search.stored_story(self.nw.store, story_id)
        if story is None:
            with self.lock:
                story = self.nw.story(story_id)
        return story


#: Where the vendored Swagger UI files (PyPI ``swagger-ui-bundle``) are served for ``/docs``.
SWAGGER_PREFIX = "/static/swagger"


def state_of(request: Request) -> ServerState:
    """The :class:`ServerState` of the app serving ``request``."""
    state: ServerState = request.app.state.newsweave
    return state


def _docs_csp() -> tuple[str, str]:
    """Swagger UI's page, served from the local ``swagger-ui-bundle`` files (no CDN, works offline),
    and a CSP allowing exactly those files and the page's one inline script (by hash)."""
    html = bytes(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="newsweave API",
            swagger_js_url=f"{SWAGGER_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_PREFIX}/favicon-32x32.png",
        ).body
    ).decode()
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline)
    csp = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return html, csp


def create_app(
    db: str | os.PathLike[str] | None = None,
    *,
    nw: Newsweave | None = None,
    token: str | None = None,
    public_reads: bool = False,
    max_body: int = MAX_BODY,
    allowed_hosts: frozenset[str] | None = None,
) -> FastAPI:
    """Build the newsweave web app (REST API under ``/api``, pages at ``/``, OpenAPI at ``/docs``).

    Args:
        db: The store (SQLite path or URL) when ``nw`` is not given.
        nw: An open :class:`Newsweave` to serve (the caller closes it).
        token: The API token for writes; from :func:`resolve_token` when None.
        public_reads: Let non-loopback clients read without the token.
        max_body: Largest request body accepted, in bytes (413 above).
        allowed_hosts: ``Host`` header names to answer (400 for others); any when None.
            ``serve`` passes :func:`loopback_hosts` of its ``--host``.
    """
    engine = nw or Newsweave(db)
    if token is None:
        token, _ = resolve_token(db)
    docs_html, docs_csp = _docs_csp()
    app = FastAPI(
        title="newsweave",
        version=__version__,
        description="Stories woven from many news reports, every claim linked to its sources.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.newsweave = ServerState(engine, token, public_reads, max_body, threading.Lock())
    app.add_middleware(Guard, max_body=max_body, docs_csp=docs_csp, allowed_hosts=allowed_hosts)
    _install_errors(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_html)

    app.include_router(_api_router())
    from swagger_ui_bundle import swagger_ui_path

    from .web import STATIC_DIR, router

    app.mount(SWAGGER_PREFIX, StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api", "/openapi", "/docs", "/static"))


def _install_errors(app: FastAPI) -> None:
    """JSON errors ``{"error": {"status", "message"}}`` for the API; an HTML page for the web pages."""

    def respond(request: Request, code: int, message: str) -> Response:
        if _wants_html(request):
            from .web import error_page

            return error_page(request, code, message)
        headers = {"www-authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"error": {"status": code, "message": message}}, status_code=code, headers=headers)

    @app.exception_handler(NewsweaveError)
    async def newsweave_error(request: Request, exc: NewsweaveError) -> Response:
        return respond(request, status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body"))
            parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return respond(request, 400, "invalid request: " + "; ".join(parts))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # A bug, not a user error: say so without leaking internals; the traceback goes to the server log.
        message = "internal error while answering this request; the server log has the details"
        return JSONResponse({"error": {"status": 500, "message": message}}, status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"nothing at {request.url.path}; the API is under /api (see /docs), the stories at /"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return respond(request, exc.status_code, message)


# --------------------------------------------------------------------------- REST routes


def _api_router() -> Any:
    from fastapi import APIRouter

    api = APIRouter(prefix="/api", tags=["api"])

    @api.get("/stories", summary="List and search stories")
    def list_stories(
        request: Request,
        q: str = Query("", description="Words that must all appear in the headline or an article", max_length=500),
        entity: str = Query("", description="An entity name or alias the story mentions", max_length=200),
        outlet: str = Query("", description="An outlet that covered the story", max_length=200),
        since: str | None = Query(None, description="ISO date: activity on or after it"),
        until: str | None = Query(None, description="ISO date: activity on or before it"),
        limit: int = Query(20, ge=1, le=search.MAX_LIMIT),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        """One page of stories, most recently updated first; filters combine with AND."""
        state = state_of(request)
        state.check_read(request)
        page = search.find_stories(
            state.nw.store, search.StoryQuery(q, entity, outlet, since, until, limit=limit, offset=offset)
        )
        return {
            "stories": page.rows,
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
            "next_offset": page.next_offset,
        }

    @api.get("/stories/{story_id}", summary="One story in the JSON contract")
    def get_story(request: Request, story_id: str) -> Any:
        """``{"stories": [story]}`` as in docs/contract.md; an id merged into another story still resolves."""
        state = state_of(request)
        state.check_read(request)
        row = state.nw.store.story_row(story_id)
        if row.get("analysis"):  # the stored analysis is the contract's story object: serve it as stored
            return Response(b'{"stories":[' + row["analysis"].encode() + b"]}", media_type="application/json")
        return {"stories": [state.story(story_id).to_dict()]}

    @api.get("/articles/{article_id:path}", summary="One article with its extracted entities, quotes and figures")
    def get_article(request: Request, article_id: str) -> dict[str, Any]:
        """The article's fields, its story id, and what was extracted from it (offsets into ``text``)."""
        state = state_of(request)
        state.check_read(request)
        return search.article_view(state.nw.store, article_id).to_dict()

    @api.post(
        "/articles",
        status_code=201,
        summary="Add articles (token required)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "string"}}
                    for t in ["application/json", "application/x-ndjson", "text/html", "application/rss+xml"]
                },
            }
        },
    )
    async def post_articles(
        request: Request,
        id: str | None = Query(None, description="Article id for an HTML or text body (default: a content hash)"),
        url: str | None = Query(None, description="The page's URL, for an HTML or text body", max_length=2000),
        source: str | None = Query(None, description="The outlet, for a text body", max_length=200),
    ) -> Response:
        """Ingest articles in any format ``newsweave ingest`` reads, chosen by Content-Type.

        ``application/json`` (one object or a list), ``application/x-ndjson``
        (JSON Lines), ``text/html``, ``application/rss+xml`` /
        ``application/atom+xml``, ``text/plain``. Answers 201 with what was
        added; 200 when everything was already there; 422 when nothing could be read.
        """
        state = state_of(request)
        state.check_write(request)
        body = await request.body()
        items = parse_body(request.headers.get("content-type", ""), body, id, url, source)
        if not any(isinstance(x, Article) for x in items):
            # Nothing readable: refuse the request whole, store nothing, and say why per record.
            return JSONResponse(
                {
                    "added": [],
                    "unchanged": [],
                    "stories": [],
                    "errors": [{"origin": e.origin, "reason": e.reason} for e in items if isinstance(e, InputError)],
                    "error": {"status": 422, "message": "no article could be read from the request"},
                },
                status_code=422,
            )
        report = await run_in_threadpool(state.ingest, items)
        errors = [{"origin": getattr(e, "origin", getattr(e, "subject", "")), "reason": str(e)} for e in report.errors]
        result = {"added": report.added, "unchanged": report.unchanged, "stories": report.stories, "errors": errors}
        if report.added:
            code = 201
        elif report.unchanged:
            code = 200
        else:
            code = 422
            result["error"] = {"status": 422, "message": "no article could be read from the request"}
        return JSONResponse(result, status_code=code)

    return api


def parse_body(
    content_type: str, body: bytes, article_id: str | None, url: str | None, source: str | None
) -> list[Article | InputError]:
    """Turn a POST body into articles (and per-record errors) with the ingest parsers.

    Raises:
        UnsupportedType: The Content-Type is not one of the supported formats.
        BadRequest: The body is empty, or its JSON does not parse.
    """
    kind = content_type.split(";")[0].strip().lower()
    if not body.strip():
        raise BadRequest("the request body is empty; send one or more articles")
    default_id = article_id or "api-" + hashlib.sha256(body).hexdigest()[:16]
    items: list[Article | InputError] = []

    def attempt(fn: Callable[..., Article], *args: Any, **kwargs: Any) -> None:
        try:
            items.append(fn(*args, **kwargs))
        except InputError as exc:
            items.append(exc)

    if kind in JSON_TYPES:
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from exc
        records = data if isinstance(data, list) else [data]
        for n, rec in enumerate(records, start=1):
            attempt(parse_record, rec, default_id=f"{default_id}-{n}", origin=f"request[{n}]")
    elif kind in JSONL_TYPES:
        for n, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                attempt(parse_record, line, default_id=f"{default_id}-{n}", origin=f"line {n}")
    elif kind in HTML_TYPES:
        attempt(parse_html, body, default_id, "request", url=url)
    elif kind in FEED_TYPES:
        items.extend(parse_feed(body, "request", fallback_source=source))
    elif kind in TEXT_TYPES:
        try:
            raw_text = decode_text(body, "request")
        except InputError as exc:
            raise BadRequest(str(exc)) from exc
        attempt(parse_text, raw_text, default_id, "request", url=url, source=source)
    else:
        raise UnsupportedType(
            f"cannot read Content-Type {kind or '(none)'!r}; send application/json, application/x-ndjson, "
            "text/html, application/rss+xml, application/atom+xml or text/plain"
        )
    return items


def serve(
    db: str | None, host: str = "127.0.0.1", port: int = 8000, public_reads: bool = False
) -> None:  # pragma: no cover - runs until interrupted
    """Run the app with uvicorn until interrupted (what ``newsweave serve`` does)."""
    import uvicorn

    token, where = resolve_token(db)
    with Newsweave(db) as nw:
        app = create_app(db, nw=nw, token=token, public_reads=public_reads, allowed_hosts=loopback_hosts(host))
        from sqlalchemy.engine import make_url

        where_db = make_url(nw.store.url).render_as_string(hide_password=True)
        print(f"newsweave: serving {where_db} at http://{host}:{port}/ (API docs at /docs)", flush=True)
        print(f"newsweave: writes need the API token in {where}", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
