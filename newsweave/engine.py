"""The Python API: one object, :class:`Newsweave`, for everything a user does.

    >>> from newsweave import Newsweave
    >>> nw = Newsweave("news.db")            # SQLite file, or a PostgreSQL URL
    >>> report = nw.ingest(["articles/"])    # files, directories, JSONL, HTML, feeds
    >>> for s in nw.stories(): print(s["id"], s["headline"])
    >>> story = nw.story(s["id"])           # the JSON contract, as a Story

For one-off work without a store, :func:`analyze` groups and analyzes in memory.
The CLI, the REST API and the web pages all call these methods.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, NewsweaveError, StageError
from .ingest import read_paths
from .models import Article, ArticleAnalysis, Story, StoryAssignment
from .pipeline import Pipeline
from .registry import build_pipeline
from .store import Store, story_from_row

CLUSTER_STATE_KEY = "clusterer"
#: Articles per transaction during ingestion: each batch is acknowledged atomically.
COMMIT_EVERY = 25

Progress = Callable[[int], None]


@dataclass
class IngestReport:
    """What one ingestion did."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[InputError | StageError] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class AnalyzeResult:
    """In-memory analysis: stories, each article's placement, and the inputs that failed."""

    stories: list[Story]
    assignments: list[StoryAssignment]
    errors: list[InputError | StageError]


def sources_of(articles: Iterable[Article]) -> int:
    return len({a.source or a.id for a in articles})


def analyze_articles(
    articles: Sequence[Article], pipeline: Pipeline | None = None, progress: Progress | None = None
) -> AnalyzeResult:
    """Place and analyze articles in memory (no store)."""
    pipe = pipeline or build_pipeline()
    errors: list[InputError | StageError] = []
    assignments: list[StoryAssignment] = []
    by_story: dict[str, list[Article]] = {}
    for article in articles:
        try:
            a = pipe.place(article)
        except StageError as exc:
            errors.append(exc)
            continue
        assignments.append(a)
        for merged in a.merged:
            by_story.setdefault(a.story, []).extend(by_story.pop(merged, []))
        by_story.setdefault(a.story, []).append(article)
        if progress:
            progress(1)
    stories = []
    for sid, arts in by_story.items():
        try:
            stories.append(pipe.analyze_story(sid, arts))
        except StageError as exc:
            errors.append(exc)
    stories.sort(key=lambda s: (-len(s.articles), s.headline))
    final = {a.id: sid for sid, arts in by_story.items() for a in arts}
    for a in assignments:
        a.story = final.get(a.article, a.story)
    return AnalyzeResult(stories, assignments, errors)


def analyze(paths: Iterable[str | os.PathLike[str]], pipeline: Pipeline | None = None) -> AnalyzeResult:
    """Read files and directories, group them into stories and analyze each, in memory."""
    articles: list[Article] = []
    errors: list[InputError | StageError] = []
    for item in read_paths(paths):
        if isinstance(item, InputError):
            errors.append(item)
        else:
            articles.append(item)
    result = analyze_articles(articles, pipeline)
    result.errors[:0] = errors
    return result


class Newsweave:
    """newsweave on a store: ingest articles, list and show stories.

    Args:
        db: SQLite path or SQLAlchemy URL (``postgresql://...``); default
            ``$NEWSWEAVE_DB`` or ``newsweave.db``.
        pipeline: a custom :class:`~newsweave.pipeline.Pipeline`; built lazily
            with the defaults otherwise (loading models only when needed).
    """

    def __init__(self, db: str | os.PathLike[str] | None = None, pipeline: Pipeline | None = None) -> None:
        self.store = Store(db)
        self._pipeline = pipeline
        self._restored = False

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = build_pipeline()
        if not self._restored:
            state = self.store.load_state(CLUSTER_STATE_KEY)
            if state:
                self._pipeline.clusterer.restore(state)
            self._restored = True
        return self._pipeline

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Newsweave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def ingest(
        self, paths: Iterable[str | os.PathLike[str]], progress: Progress | None = None, analyze: bool = True
    ) -> IngestReport:
        """Read files/directories into the store; bad inputs are quarantined, the rest goes on."""
        return self.ingest_items(read_paths(paths), progress=progress, analyze=analyze)

    def ingest_items(
        self, items: Iterable[Article | InputError], progress: Progress | None = None, analyze: bool = True
    ) -> IngestReport:
        """Ingest already-parsed articles (and record the errors given alongside them)."""
        report = IngestReport()
        batch: list[Article] = []
        for item in items:
            if isinstance(item, InputError):
                report.errors.append(item)
                self.store.quarantine(item.origin, item.reason)
                continue
            batch.append(item)
            if len(batch) >= COMMIT_EVERY:
                self._commit(batch, report)
                batch = []
            if progress:
                progress(1)
        if batch:
            self._commit(batch, report)
        if analyze:
            report.errors.extend(self.refresh())
        return report

    def _commit(self, batch: list[Article], report: IngestReport) -> None:
        pipe = self.pipeline
        with self.store.transaction() as conn:
            for article in batch:
                existing = self.store.find_article(conn, article)
                if existing is not None:
                    report.unchanged.append(article.id)
                    continue
                try:
                    placed = pipe.place(article)
                except StageError as exc:
                    report.errors.append(exc)
                    self.store.quarantine(article.origin or article.id, str(exc))
                    continue
                for merged in placed.merged:
                    self.store.move_articles(conn, merged, placed.story)
                self.store.insert_article(conn, article, placed.story, placed.copy_of)
                self.store.touch_story(conn, placed.story)
                report.added.append(article.id)
                if placed.story not in report.stories:
                    report.stories.append(placed.story)
            self.store.save_state(conn, CLUSTER_STATE_KEY, pipe.clusterer.export())

    def refresh(self) -> list[InputError | StageError]:
        """Recompute the analysis of every story changed since it was last analyzed."""
        errors: list[InputError | StageError] = []
        for sid in self.store.dirty_stories():
            try:
                self.analyze_story(sid)
            except StageError as exc:
                errors.append(exc)
        return errors

    def analyze_story(self, story_id: str) -> Story:
        rows = self.store.story_articles(story_id)
        articles = [a for a, _, _ in rows]
        missing = [a for a, an, _ in rows if an is None]
        fresh: list[ArticleAnalysis] = self.pipeline.extract(missing) if missing else []
        if fresh:
            with self.store.transaction() as conn:
                self.store.save_analyses(conn, fresh)
        by_id = {an.article: an for an in fresh}
        analyses = [an if an is not None else by_id[a.id] for a, an, _ in rows]
        copies = {a.id: c for a, _, c in rows if c}
        story = self.pipeline.analyze_story(
            story_id, articles, analyses, copies=copies, aliases=self.store.aliases_of(story_id)
        )
        self.store.save_story(story, sources_of(articles))
        return story

    # ------------------------------------------------------------------ reading

    def stories(self, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """One row per story: id, headline, counts, first/last seen."""
        out = []
        for row in self.store.story_rows(limit=limit, offset=offset):
            out.append(
                {
                    "id": row["id"],
                    "headline": row["headline"],
                    "articles": row["n_articles"],
                    "sources": row["n_sources"],
                    "first_seen": row["first_seen"],
                    "last_seen": row["last_seen"],
                    "updates": len(json.loads(row["updates"])),
                    "closed": bool(row["closed"]),
                }
            )
        return out

    def story(self, story_id: str) -> Story:
        """One story in the JSON contract (ids of merged stories are followed)."""
        row = self.store.story_row(story_id)
        if row["dirty"] or not row["analysis"]:
            return self.analyze_story(row["id"])
        return story_from_row(row)

    def all_stories(self) -> list[Story]:
        return [self.story(r["id"]) for r in self.store.story_rows()]

    def article(self, article_id: str) -> Article:
        return self.store.article(article_id)


def default_db_path() -> Path:
    return Path(os.environ.get("NEWSWEAVE_DB", "newsweave.db"))


__all__ = ["AnalyzeResult", "IngestReport", "Newsweave", "NewsweaveError", "analyze", "analyze_articles"]
