"""The web pages: server-rendered HTML (Jinja2, autoescaped), no script needed.

Each route reads through the same functions as the REST API
(:mod:`newsweave.search`, the engine) and hands the template plain data.
Text from articles reaches the page either as a template variable (escaped by
autoescape) or as :class:`~markupsafe.Markup` built by
:mod:`newsweave.web.markup`, which escapes every piece it wraps.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from .. import search
from ..errors import ConfigError
from ..models import Story
from .markup import Mark, highlight, highlight_paragraphs, sparkline

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every template, whatever its name
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)


class RenderCache:
    """A small thread-safe LRU of rendered pages, keyed by the story's version (see ``story_version``).

    A story page depends only on the stored story and its articles, so a page
    rendered once is served again until the story changes.
    """

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        """The cached page, or None."""
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def get_or_render(self, key: tuple[str, str], render_page: Callable[[], str]) -> str:
        """The cached page, or render it once: concurrent misses wait for one render instead of all rendering."""
        html = self.get(key)
        if html is not None:
            return html
        with self._render_lock:  # rendering is CPU-bound under the GIL: one at a time loses nothing
            html = self.get(key)
            if html is None:
                html = render_page()
                self.put(key, html)
            return html

    def put(self, key: tuple[str, str], html: str) -> None:
        """Remember a page, forgetting the least recently used beyond ``size``."""
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


pages_cache = RenderCache()


def _safe_url(url: str | None) -> str | None:
    """An article's URL if it is http(s), else None: a ``javascript:`` URL never becomes a link."""
    if url and re.match(r"https?://", url, re.I):
        return url
    return None


def hedged(mention: dict[str, Any]) -> Markup:
    """A figure mention's text with its hedge word ("about", "nearly") marked."""
    text = str(mention.get("text", ""))
    hedge = mention.get("hedge")
    at = text.lower().find(str(hedge).lower()) if hedge else -1
    marks = [Mark(at, at + len(str(hedge)), "hedge", "hedge")] if at >= 0 else []
    return highlight(text, marks)


def article_link(article_id: str, span: dict[str, Any] | None = None) -> str:
    """URL of an article page, highlighting ``span`` when given."""
    from urllib.parse import quote

    base = f"/articles/{quote(article_id, safe='')}"
    if span is None:
        return base
    return f"{base}?hl={int(span['start'])}-{int(span['end'])}#hl"


def story_link(story_id: str) -> str:
    """URL of a story page."""
    from urllib.parse import quote

    return f"/stories/{quote(story_id, safe='')}"


env.filters["hedged"] = hedged
env.globals.update(
    article_link=article_link, story_link=story_link, sparkline=sparkline, safe_url=_safe_url, urlencode=urlencode
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page template to a response."""
    html = env.get_template(template).render(request_path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, code: int, message: str) -> Response:
    """The HTML error page (the REST API answers JSON instead)."""
    return render(request, "error.html", status_code=code, code=code, message=message)


def _state(request: Request) -> Any:
    from ..api import state_of

    state = state_of(request)
    state.check_read(request)
    return state


# --------------------------------------------------------------------------- pages


@router.get("/", response_class=HTMLResponse)
def index(request: Request, offset: int = Query(0, ge=0)) -> Response:
    """The stories list, newest activity first."""
    state = _state(request)
    page = search.find_stories(state.nw.store, search.StoryQuery(limit=25, offset=offset))
    return render(request, "index.html", page=page, query=None, outlets=search.outlets(state.nw.store))


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = Query("", max_length=500),
    entity: str = Query("", max_length=200),
    outlet: str = Query("", max_length=200),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    offset: int = Query(0, ge=0),
) -> Response:
    """Stories (and articles) matching words, an entity, an outlet and a date range."""
    state = _state(request)
    query = search.StoryQuery(q, entity, outlet, since or None, until or None, limit=25, offset=offset)
    page = search.find_stories(state.nw.store, query)
    articles = search.find_articles(state.nw.store, q, limit=20) if q.strip() else []
    given = {"q": q, "entity": entity, "outlet": outlet, "since": since, "until": until}
    params = {k: v for k, v in given.items() if v}
    return render(
        request,
        "search.html",
        page=page,
        query=query,
        params=params,
        articles=articles,
        outlets=search.outlets(state.nw.store),
    )


STATUS_LABELS = {
    "conflicting": "Conflicting",
    "corroborated": "Corroborated",
    "single-source": "Single source",
}


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: str, status: str = Query("", max_length=20)) -> Response:
    """A story: cited summary, facts by status, figures, quotes, entities, coverage, timeline, articles."""
    state = _state(request)
    if status and status not in STATUS_LABELS:
        raise ConfigError(f"unknown status {status!r}: choose corroborated, single-source or conflicting")
    row = state.nw.store.story_row(story_id)
    if row["id"] != story_id:  # an id merged into another story
        return RedirectResponse(story_link(row["id"]), status_code=301)
    key = (search.story_version(row), status)
    etag = '"' + hashlib.blake2b("|".join(key).encode(), digest_size=12).hexdigest() + '"'
    headers = {"etag": etag, "cache-control": "no-cache"}  # revalidate each time; 304 while unchanged
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(pages_cache.get_or_render(key, lambda: _render_story(state, row, status)), headers=headers)


def _render_story(state: Any, row: dict[str, Any], status: str) -> str:
    story: Story = state.story(row["id"])
    articles = search.story_articles(state.nw.store, story)
    names = search.outlet_names(story)
    sides = []
    for a in articles:
        marks = [
            Mark(s, e, kind, "shared with other outlets" if kind == "shared" else "reported by this source only")
            for s, e, kind in search.passage_spans(story, a.id)
        ]
        copy_of = next((m.get("copy_of") for m in story.articles if m["id"] == a.id), None)
        sides.append(
            {
                "article": a,
                "outlet": names.get(a.id, a.id),
                "copy_of": copy_of,
                "html": highlight_paragraphs(a.text, marks),
            }
        )
    return env.get_template("story.html").render(
        story=story,
        names=names,
        outlets=search.outlet_list(story),
        summary=[{**s, "cites": search.cited(story, s["text"], s.get("citations", []))} for s in story.summary],
        single=[{**s, "cites": search.cited(story, s["text"], s.get("citations", []))} for s in story.single_source],
        groups=search.facts_by_status(story, status or None),
        counts=Counter(f.get("status") for f in story.facts),
        status=status,
        labels=STATUS_LABELS,
        coverage=search.coverage_matrix(story),
        figures=search.figure_table(story),
        timeline=[{**t, "cites": search.cited(story, t["text"], t.get("citations", []))} for t in story.timeline],
        sides=sides,
        row=row,
    )


@router.get("/articles/{article_id:path}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str, hl: str = Query("", max_length=40)) -> Response:
    """An article's clean text with its entities, quotes, figures and dates marked."""
    state = _state(request)
    view = search.article_view(state.nw.store, article_id)
    marks = [Mark(e["start"], e["end"], "entity", f"{e.get('label', '')} entity") for e in view.entities]
    marks += [Mark(q["start"], q["end"], "quote", f"quote: {q.get('speaker') or 'unattributed'}") for q in view.quotes]
    marks += [Mark(f["start"], f["end"], "figure", _figure_title(f)) for f in view.figures]
    marks += [Mark(d["start"], d["end"], "date", f"date: {d.get('date') or 'unresolved'}") for d in view.dates]
    cited = None
    m = re.fullmatch(r"(\d+)-(\d+)", hl)
    if m and int(m[1]) < int(m[2]) <= len(view.article.text):
        cited = (int(m[1]), int(m[2]))
        marks.append(Mark(cited[0], cited[1], "cited", "the cited passage", anchor="hl"))
    return render(
        request,
        "article.html",
        view=view,
        a=view.article,
        html=highlight_paragraphs(view.article.text, marks),
        cited=cited,
    )


def _figure_title(f: dict[str, Any]) -> str:
    parts = [f"figure: {f.get('value')}"]
    if f.get("unit"):
        parts.append(str(f["unit"]))
    if f.get("hedge"):
        parts.append(f"(hedged: {f['hedge']})")
    if f.get("counted"):
        parts.append(f"counting {f['counted']}")
    return " ".join(parts)
