"""Read-side queries over the store: story lists with filters and paging, and derived story views.

The CLI, the REST API and the web pages list and search stories through these
functions, so every adapter filters the same way. They read the SQLAlchemy
tables of :mod:`newsweave.store` and the stored analysis JSON (the contract of
``docs/contract.md``); they never run the pipeline.

The second half derives read-only views from one story in the contract: the
evidence behind each summary citation, the coverage matrix (facts x outlets)
and the figures side by side per outlet. They only re-arrange what the
analysis already says, so any aligner that honours the contract gets them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from .errors import ConfigError, NotFound
from .models import Article, Story
from .store import Store, articles_t, stories_t

#: Largest page a caller may ask for.
MAX_LIMIT = 200

CellState = Literal["reported", "absent", "differs"]


@dataclass
class StoryQuery:
    """Filters for :func:`find_stories`; every field is optional and they combine with AND.

    Attributes:
        text: Words that must appear (case-insensitive) in the headline or in an article's title or text.
        entity: A name (or alias) the story's entity list must hold, case-insensitive.
        outlet: An outlet (article source) that must have covered the story, case-insensitive.
        since: ISO date; the story must have activity on or after it.
        until: ISO date; the story must have activity on or before it.
        limit: Page size (1..MAX_LIMIT).
        offset: Rows to skip.
    """

    text: str = ""
    entity: str = ""
    outlet: str = ""
    since: str | None = None
    until: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass
class StoryPage:
    """One page of matching stories and the total count of matches."""

    rows: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or None on the last one."""
        nxt = self.offset + self.limit
        return nxt if nxt < self.total else None

    @property
    def prev_offset(self) -> int | None:
        """Offset of the previous page, or None on the first one."""
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def _iso_date(value: str | None, name: str) -> str | None:
    """Validate an ISO date (``YYYY-MM-DD``); raise a ConfigError naming the parameter otherwise."""
    if value is None or value == "":
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ConfigError(f"'{name}' must be an ISO date such as 2025-04-15, got {value!r}")
    return value


def _like(term: str) -> str:
    """A LIKE pattern matching ``term`` literally anywhere (``%`` and ``_`` escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(q: StoryQuery) -> list[ColumnElement[bool]]:
    """SQL conditions for the filters SQL can decide alone (text, outlet, entity pre-filter)."""
    conds: list[ColumnElement[bool]] = []
    in_story = articles_t.c.story_id == stories_t.c.id
    for word in q.text.split():
        pattern = _like(word)
        conds.append(
            or_(
                stories_t.c.headline.ilike(pattern, escape="\\"),
                exists().where(
                    and_(
                        in_story,
                        or_(
                            articles_t.c.title.ilike(pattern, escape="\\"),
                            articles_t.c.text.ilike(pattern, escape="\\"),
                        ),
                    )
                ),
            )
        )
    if q.outlet.strip():
        conds.append(exists().where(and_(in_story, func.lower(articles_t.c.source) == q.outlet.strip().lower())))
    if q.entity.strip():
        # Every entity name is a slice of some article's text: a cheap pre-filter before the exact check.
        conds.append(exists().where(and_(in_story, articles_t.c.text.ilike(_like(q.entity.strip()), escape="\\"))))
    return conds


def _has_entity(analysis: str | None, entity: str) -> bool:
    if not analysis:
        return False
    wanted = entity.strip().lower()
    for e in json.loads(analysis).get("entities", []):
        names = [e.get("name") or "", *(e.get("aliases") or [])]
        if any(n.lower() == wanted for n in names):
            return True
    return False


def _in_range(row: dict[str, Any], dates: list[str], since: str | None, until: str | None) -> bool:
    """Whether a story's activity (its articles' publication dates, else first/last seen) meets the range."""
    span = sorted(d[:10] for d in dates if d) or [
        (row["first_seen"] or "")[:10],
        (row["last_seen"] or "")[:10],
    ]
    first, last = span[0], span[-1]
    if since and last < since:
        return False
    return not (until and first > until)


def story_row(row: dict[str, Any], outlets: list[str]) -> dict[str, Any]:
    """The public listing row of a story (what ``GET /api/stories`` returns for each)."""
    return {
        "id": row["id"],
        "headline": row["headline"],
        "articles": row["n_articles"],
        "sources": row["n_sources"],
        "outlets": outlets,
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "updates": json.loads(row["updates"] or "[]"),
        "closed": bool(row["closed"]),
    }


def find_stories(store: Store, query: StoryQuery | None = None) -> StoryPage:
    """Stories matching ``query``, most recently updated first, one page of them.

    Args:
        store: The store to read.
        query: Filters and paging; all stories, first page, when None.

    Returns:
        The page of listing rows (see :func:`story_row`) and the total number of matches.

    Raises:
        ConfigError: A filter or paging value is invalid (the message names it).
    """
    q = query or StoryQuery()
    if not 1 <= q.limit <= MAX_LIMIT:
        raise ConfigError(f"'limit' must be between 1 and {MAX_LIMIT}, got {q.limit}")
    if q.offset < 0:
        raise ConfigError(f"'offset' must be 0 or more, got {q.offset}")
    since, until = _iso_date(q.since, "since"), _iso_date(q.until, "until")
    cols = [c for c in stories_t.c if c.name != "analysis" or q.entity.strip()]
    conds = _conditions(q)
    stmt = select(*cols).where(*conds).order_by(stories_t.c.last_seen.desc(), stories_t.c.id)
    with store.engine.connect() as conn:
        if not (q.entity.strip() or since or until):  # SQL decides alone: page and count there
            total = int(conn.execute(select(func.count()).select_from(stories_t).where(*conds)).scalar_one())
            rows = [dict(r) for r in conn.execute(stmt.limit(q.limit).offset(q.offset)).mappings()]
            meta = _article_meta(conn, [r["id"] for r in rows]) if rows else {}
            out = [story_row(r, meta.get(r["id"], ([], []))[0]) for r in rows]
            return StoryPage(rows=out, total=total, limit=q.limit, offset=q.offset)
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        if q.entity.strip():
            rows = [r for r in rows if _has_entity(r["analysis"], q.entity)]
        meta = _article_meta(conn, [r["id"] for r in rows]) if rows else {}
    if since or until:
        rows = [r for r in rows if _in_range(r, meta.get(r["id"], ([], []))[1], since, until)]
    page = rows[q.offset : q.offset + q.limit]
    out = [story_row(r, meta.get(r["id"], ([], []))[0]) for r in page]
    return StoryPage(rows=out, total=len(rows), limit=q.limit, offset=q.offset)


def _article_meta(conn: Any, story_ids: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Per story: its outlets (in first-seen order) and its articles' publication dates."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    stmt = (
        select(articles_t.c.story_id, articles_t.c.source, articles_t.c.id, articles_t.c.published)
        .where(articles_t.c.story_id.in_(story_ids))
        .order_by(articles_t.c.seq)
    )
    for sid, source, aid, published in conn.execute(stmt):
        outlets, dates = out.setdefault(sid, ([], []))
        name = source or aid
        if name not in outlets:
            outlets.append(name)
        if published:
            dates.append(published)
    return out


def outlets(store: Store) -> list[str]:
    """Every outlet in the store, by name (for the search form's outlet choice)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(articles_t.c.source).where(articles_t.c.source.is_not(None)).distinct())
        return sorted({r[0] for r in rows}, key=str.lower)


def find_articles(store: Store, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Articles whose title or text holds every word of ``text``, with a short snippet around the first hit."""
    words = text.split()
    if not words:
        return []
    conds = [
        or_(articles_t.c.title.ilike(_like(w), escape="\\"), articles_t.c.text.ilike(_like(w), escape="\\"))
        for w in words
    ]
    stmt = (
        select(articles_t.c.id, articles_t.c.title, articles_t.c.source, articles_t.c.story_id, articles_t.c.text)
        .where(*conds)
        .order_by(articles_t.c.seq.desc())
        .limit(max(1, min(limit, MAX_LIMIT)))
    )
    out = []
    with store.engine.connect() as conn:
        for aid, title, source, sid, body in conn.execute(stmt):
            out.append({"id": aid, "title": title, "source": source, "story": sid, "snippet": snippet(body, words[0])})
    return out


def snippet(text: str, word: str, width: int = 160) -> str:
    """About ``width`` characters of ``text`` around the first case-insensitive occurrence of ``word``."""
    at = text.lower().find(word.lower())
    if at < 0:
        return text[:width] + ("…" if len(text) > width else "")
    start = max(0, at - width // 2)
    end = min(len(text), start + width)
    return ("…" if start else "") + " ".join(text[start:end].split()) + ("…" if end < len(text) else "")


# --------------------------------------------------------------------------- one story, one article


def stored_story(store: Store, story_id: str) -> Story | None:
    """The last stored analysis of a story (ids of merged stories followed), or None if never analyzed.

    Unlike :meth:`newsweave.engine.Newsweave.story` this never runs the pipeline:
    a story being re-analyzed is served as last stored.

    Raises:
        NotFound: No story (or merged story) has that id.
    """
    row = store.story_row(story_id)
    if not row.get("analysis"):
        return None
    return Story.from_dict(json.loads(row["analysis"]))


def story_version(row: dict[str, Any]) -> str:
    """A fingerprint of a story row that changes whenever its articles or its analysis change.

    Used as a cache key for rendered pages: the generation counts changes to
    the story's articles, the digest covers the stored analysis itself.
    """
    digest = hashlib.blake2b((row.get("analysis") or "").encode(), digest_size=16).hexdigest()
    return f"{row['id']}:{row.get('generation', '')}:{row.get('last_seen', '')}:{digest}"


def story_articles(store: Store, story: Story) -> list[Article]:
    """The full articles of a story, in the story's order."""
    out = []
    for meta in story.articles:
        try:
            out.append(store.article(meta["id"]))
        except NotFound:  # removed since the analysis was stored
            continue
    return out


@dataclass
class ArticleView:
    """An article and everything extracted from it, with offsets into its text."""

    article: Article
    story_id: str | None
    copy_of: str | None
    entities: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    dates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The REST form: the article's fields, its story, and its extracted marks."""
        return {
            **self.article.to_dict(),
            "story": self.story_id,
            "copy_of": self.copy_of,
            "entities": self.entities,
            "quotes": self.quotes,
            "figures": self.figures,
            "dates": self.dates,
        }


def article_view(store: Store, article_id: str) -> ArticleView:
    """An article with its stored extraction (entities, quotes, figures, dates).

    Raises:
        NotFound: No article has that id.
    """
    row = store.article_row(article_id)
    article = store.article(article_id)
    view = ArticleView(article=article, story_id=row.get("story_id"), copy_of=row.get("copy_of"))
    if row.get("analysis"):
        data = json.loads(row["analysis"])
        n = len(article.text)

        def valid(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [x for x in items if 0 <= x.get("start", -1) < x.get("end", -1) <= n]

        view.entities = valid(data.get("entities", []))
        view.quotes = valid(data.get("quotes", []))
        view.figures = valid(data.get("figures", []))
        view.dates = valid(data.get("dates", []))
    return view


# --------------------------------------------------------------------------- derived story views


def outlet_names(story: Story) -> dict[str, str]:
    """Article id -> outlet name (the source, else the article id)."""
    return {a["id"]: (a.get("source") or a["id"]) for a in story.articles}


def outlet_list(story: Story) -> list[str]:
    """The story's outlets in article order, each once."""
    return list(dict.fromkeys(outlet_names(story).values()))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _words(text: str) -> set[str]:
    return set(_norm(text).split())


def citation_evidence(story: Story, text: str, article_id: str) -> dict[str, Any] | None:
    """The span of ``article_id`` that supports a summary or timeline sentence ``text``.

    Looks, in order, for: a fact with that text and evidence in the article; an
    evidence span of the article whose words overlap most with ``text``
    (at least half of them). Returns ``{"article", "text", "start", "end"}`` or None.
    """
    key = _norm(text)
    candidates: list[dict[str, Any]] = []
    for fact in story.facts:
        spans = [e for e in fact.get("evidence", []) if e.get("article") == article_id]
        if not spans:
            continue
        if _norm(fact.get("text", "")) == key or any(_norm(e.get("text", "")) == key for e in fact["evidence"]):
            return spans[0]
        candidates.extend(spans)
    for item in story.shared_passages:
        candidates.extend(s for s in item.get("spans", []) if s.get("article") == article_id)
    want = _words(text)
    if not want:
        return None
    best, score = None, 0.0
    for span in candidates:
        overlap = len(want & _words(span.get("text", ""))) / len(want)
        if overlap > score:
            best, score = span, overlap
    return best if score >= 0.5 else None


def cited(story: Story, text: str, citations: list[str]) -> list[dict[str, Any]]:
    """For each cited article: its outlet and the supporting span (None when no span is known)."""
    names = outlet_names(story)
    return [
        {"article": aid, "outlet": names.get(aid, aid), "span": citation_evidence(story, text, aid)}
        for aid in citations
    ]


def _figure_values(story: Story, article_id: str, start: int, end: int) -> set[float]:
    """Values of conflicting figures that an article states inside [start, end)."""
    out: set[float] = set()
    for fig in story.figures:
        if fig.get("status") != "conflict":
            continue
        for m in fig.get("mentions", []):
            if m.get("article") == article_id and start <= m.get("start", -1) and m.get("end", 1 << 62) <= end:
                out.add(float(m["value"]))
    return out


def coverage_matrix(story: Story) -> dict[str, Any]:
    """Facts down, outlets across: who reported each fact, who left it out, who differs.

    A cell is ``reported`` when the outlet has evidence for the fact and
    ``absent`` when it has none. For a ``conflicting`` fact the first evidence
    span is the reference: an outlet whose span states other conflicting figures
    than the reference (or, when no figures say how, any other outlet's span) is
    ``differs``.

    Conflicting figures follow the facts as rows of their own (``kind`` is
    ``figure``): there the outlets whose value differs from the most common one
    are ``differs`` (see :func:`figure_table`).

    Returns:
        ``{"outlets": [...], "rows": [{"kind": "fact" | "figure", "fact": index or None, "text",
        "status", "cells": [state per outlet]}]}``.
    """
    names = outlet_names(story)
    outlets_ = outlet_list(story)
    rows = []
    for index, fact in enumerate(story.facts):
        evidence = fact.get("evidence", [])
        by_outlet: dict[str, list[dict[str, Any]]] = {}
        for e in evidence:
            by_outlet.setdefault(names.get(e.get("article", ""), e.get("article", "")), []).append(e)
        ref = evidence[0] if evidence else None
        ref_values = _figure_values(story, ref["article"], ref["start"], ref["end"]) if ref else set()
        cells: list[CellState] = []
        for outlet in outlets_:
            spans = by_outlet.get(outlet)
            if not spans:
                cells.append("absent")
                continue
            state: CellState = "reported"
            if fact.get("status") == "conflicting" and ref is not None and spans[0] is not ref:
                values = set().union(*(_figure_values(story, s["article"], s["start"], s["end"]) for s in spans))
                if not ref_values or not values or values != ref_values:
                    state = "differs"
            cells.append(state)
        rows.append(
            {"kind": "fact", "fact": index, "text": fact.get("text", ""), "status": fact.get("status"), "cells": cells}
        )
    for fig in figure_table(story)["rows"]:
        if fig["status"] != "conflict":
            continue
        fig_cells: list[CellState] = [
            "differs" if outlet in fig["odd"] else "reported" if mentions else "absent"
            for outlet, mentions in zip(outlets_, fig["cells"], strict=True)
        ]
        text = "Figure: " + fig["what"]
        rows.append({"kind": "figure", "fact": None, "text": text, "status": "conflicting", "cells": fig_cells})
    return {"outlets": outlets_, "rows": rows}


def figure_table(story: Story) -> dict[str, Any]:
    """Figures side by side per outlet.

    Returns:
        ``{"outlets": [...], "rows": [{"what", "status", "cells": [[mention, ...] per outlet],
        "odd": [outlet, ...]}]}``; ``odd`` lists, for a conflicting figure, the outlets whose
        value differs from the one most outlets give (all of them when no value has a majority).
    """
    names = outlet_names(story)
    outlets_ = outlet_list(story)
    rows = []
    for fig in story.figures:
        cells: list[list[dict[str, Any]]] = [[] for _ in outlets_]
        for m in fig.get("mentions", []):
            outlet = names.get(m.get("article", ""), m.get("article", ""))
            if outlet in outlets_:
                cells[outlets_.index(outlet)].append(m)
        odd: list[str] = []
        if fig.get("status") == "conflict":
            common = Counter(float(m["value"]) for m in fig.get("mentions", [])).most_common(2)
            # The reference is the value most outlets give; with a tie there is none, and all differ.
            top = common[0][0] if common and (len(common) == 1 or common[0][1] > common[1][1]) else None
            odd = [
                outlet
                for outlet, ms in zip(outlets_, cells, strict=True)
                if any(top is None or float(m["value"]) != top for m in ms)
            ]
        rows.append({"what": fig.get("what", ""), "status": fig.get("status"), "cells": cells, "odd": odd})
    return {"outlets": outlets_, "rows": rows}


def facts_by_status(story: Story, status: str | None = None) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Facts grouped by status (conflicting, corroborated, single-source), keeping their index.

    Args:
        story: The story.
        status: Keep only this status; all when None or empty.

    Raises:
        ConfigError: ``status`` is not one of the three statuses.
    """
    order = ("conflicting", "corroborated", "single-source")
    if status and status not in order:
        raise ConfigError(f"'status' must be one of {', '.join(order)}; got {status!r}")
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {s: [] for s in order if not status or s == status}
    for i, fact in enumerate(story.facts):
        if fact.get("status") in groups:
            groups[fact["status"]].append((i, fact))
    return groups


def passage_spans(story: Story, article_id: str) -> list[tuple[int, int, str]]:
    """Spans of one article to highlight side by side: ``(start, end, kind)``.

    ``kind`` is ``shared`` for passages several articles carry (wire copy) and
    ``single`` for the evidence of facts one source alone reports.
    """
    out: list[tuple[int, int, str]] = []
    for item in story.shared_passages:
        for s in item.get("spans", []):
            if s.get("article") == article_id:
                out.append((int(s["start"]), int(s["end"]), "shared"))
    for fact in story.facts:
        if fact.get("status") == "single-source":
            for e in fact.get("evidence", []):
                if e.get("article") == article_id:
                    out.append((int(e["start"]), int(e["end"]), "single"))
    return out
