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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from .errors import ConfigError, InputError, NewsweaveError, StageError
from .ingest import read_paths
from .models import Article, ArticleAnalysis, Placements, Story, StoryAssignment
from .pipeline import Pipeline
from .registry import build_pipeline
from .store import Store, story_from_row

CLUSTER_STATE_KEY = "clusterer"
#: State key of the deduper's memory (MinHash signatures of recent texts), saved with the clusterer's.
DEDUPE_STATE_KEY = "deduper"
#: State key of a counter bumped with every save of the clusterer state: a
#: process whose in-memory clusterer is older (another process ingested
#: meanwhile) reloads it before placing anything.
CLUSTER_VERSION_KEY = "clusterer.version"
#: Longest article id the store accepts (the ``articles.id`` column).
MAX_ID_CHARS = 512
#: Articles per transaction during ingestion: each batch is acknowledged atomically.
COMMIT_EVERY = 25

Progress = Callable[[int], None]
#: Called after each batch's transaction has committed, with ``(status, article id)``
#: pairs, status one of ``added``, ``revised``, ``unchanged``: from then on those
#: articles survive any crash.
OnCommit = Callable[[list[tuple[str, str]]], None]


@dataclass
class IngestReport:
    """What one ingestion did."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
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
    placements = Placements()
    placed_articles: list[Article] = []
    for article in articles:
        try:
            a = pipe.place(article)
        except StageError as exc:
            errors.append(exc)
            continue
        assignments.append(a)
        placements.record(article.id, a)
        placed_articles.append(article)
        if progress:
            progress(1)
    by_story: dict[str, list[Article]] = {}
    for article in placed_articles:
        by_story.setdefault(placements.story(article.id), []).append(article)
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
        self._state_version = 0

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = build_pipeline(os.environ.get("NEWSWEAVE_EMBEDDER") or "minilm")
        if not self._restored:
            self._reload_state(self._pipeline)
            self._restored = True
        return self._pipeline

    def _reload_state(self, pipe: Pipeline, conn: Connection | None = None) -> None:
        """Load the saved clusterer and deduper state, and its version, into ``pipe``."""
        state = self.store.load_state(CLUSTER_STATE_KEY, conn)
        if state:
            pipe.clusterer.restore(state)
        _restore_deduper(pipe, self.store.load_state(DEDUPE_STATE_KEY, conn))
        version = self.store.load_state(CLUSTER_VERSION_KEY, conn)
        self._state_version = int(version["n"]) if version else 0

    def close(self) -> None:
        self.store.close()

    def load_batch(self, output: str, spark: Any = None) -> int:
        """Load a Spark batch run's Parquet output (``newsweave batch``) into this store; returns articles added.

        Needs the spark extra; ``spark`` is a SparkSession (a local one is started when None).
        """
        from .spark import load_output, spark_session

        return load_output(spark or spark_session("local[1]"), output, self.store)

    def __enter__(self) -> Newsweave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        progress: Progress | None = None,
        analyze: bool = True,
        on_commit: OnCommit | None = None,
        batch_size: int = COMMIT_EVERY,
    ) -> IngestReport:
        """Read files, directories and http(s) URLs into the store; bad inputs are quarantined, the rest goes on."""
        from .fetch import read_inputs

        return self.ingest_items(
            read_inputs(paths), progress=progress, analyze=analyze, on_commit=on_commit, batch_size=batch_size
        )

    def ingest_items(
        self,
        items: Iterable[Article | InputError],
        progress: Progress | None = None,
        analyze: bool = True,
        on_commit: OnCommit | None = None,
        batch_size: int = COMMIT_EVERY,
    ) -> IngestReport:
        """Ingest already-parsed articles (and record the errors given alongside them).

        Articles are committed in batches of ``batch_size``, each batch in one
        transaction together with the clusterer state, so a crash loses at most
        the batch in flight and never leaves half of one. The same id, URL or
        content is one article; new content under a known id or URL is a new
        revision of it. Errors are quarantined with their reason.

        Args:
            items: articles, and the input errors met while reading them.
            progress: called with 1 per item read.
            analyze: analyze the changed stories afterwards.
            on_commit: called after each batch commits (see :data:`OnCommit`).
            batch_size: articles per transaction.
        """
        if batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, not {batch_size}")
        report = IngestReport()
        batch: list[Article | InputError] = []
        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                self._commit(batch, report, on_commit)
                batch = []
            if progress:
                progress(1)
        if batch:
            self._commit(batch, report, on_commit)
        if analyze:
            report.errors.extend(self.refresh())
        return report

    def _sync_clusterer(self, conn: Connection) -> Pipeline:
        """The pipeline, its clusterer reloaded if another writer saved a newer state."""
        pipe = self.pipeline
        version = self.store.load_state(CLUSTER_VERSION_KEY, conn)
        current = int(version["n"]) if version else 0
        if current != self._state_version:
            self._reload_state(pipe, conn)
        return pipe

    def _commit(self, batch: list[Article | InputError], report: IngestReport, on_commit: OnCommit | None) -> None:
        acks: list[tuple[str, str]] = []
        errors: list[InputError | StageError] = []
        touched: list[str] = []
        try:
            with self.store.transaction() as conn:
                pipe = self._sync_clusterer(conn)
                placed_any = False
                for item in batch:
                    if isinstance(item, InputError):
                        errors.append(item)
                        self.store.quarantine(item.origin, item.reason, conn=conn)
                        continue
                    checked = storable(item)
                    if isinstance(checked, InputError):
                        errors.append(checked)
                        self.store.quarantine(checked.origin, checked.reason, conn=conn)
                        continue
                    article = checked
                    existing = self.store.find_article(conn, article)
                    if existing is not None:
                        status = self._update_existing(conn, existing, article)
                        acks.append((status, str(existing["id"])))
                        if status == "revised" and existing.get("story_id"):
                            touched.append(str(existing["story_id"]))
                        continue
                    try:
                        placed = pipe.place(article)
                    except StageError as exc:
                        errors.append(exc)
                        self.store.quarantine(article.origin or article.id, str(exc), conn=conn)
                        continue
                    placed_any = True
                    for moved, to_story in placed.moved.items():
                        from_story = self.store.move_article(conn, moved, to_story)
                        touched.extend(s for s in (from_story, to_story) if s)
                    for merged, into in placed.merges().items():
                        self.store.move_articles(conn, merged, into)
                    self.store.insert_article(conn, article, placed.story, placed.copy_of)
                    self.store.touch_story(conn, placed.story)
                    acks.append(("added", article.id))
                    touched.append(placed.story)
                if placed_any:
                    self._state_version += 1
                    self.store.save_state(conn, CLUSTER_STATE_KEY, pipe.clusterer.export())
                    export_dedupe = getattr(pipe.deduper, "export", None)
                    if callable(export_dedupe):
                        self.store.save_state(conn, DEDUPE_STATE_KEY, export_dedupe())
                    self.store.save_state(conn, CLUSTER_VERSION_KEY, {"n": self._state_version})
        except BaseException:
            # The in-memory clusterer may hold placements that were rolled back:
            # reload it from the store before the next batch.
            self._restored = False
            raise
        report.errors.extend(errors)
        for status, article_id in acks:
            {"added": report.added, "revised": report.revised, "unchanged": report.unchanged}[status].append(article_id)
        for sid in touched:
            if sid not in report.stories:
                report.stories.append(sid)
        if on_commit and acks:
            on_commit(acks)

    def _update_existing(self, conn: Connection, existing: dict[str, Any], article: Article) -> str:
        """``unchanged`` for known content; ``revised`` for new content under a known id or URL."""
        same_key = existing["id"] == article.id or (article.url is not None and existing["url"] == article.url)
        if not same_key or self.store.is_known_content(conn, existing["id"], article.content_hash):
            return "unchanged"
        if self.store.content_owner(conn, article.content_hash) is not None:
            return "unchanged"  # that content is already stored as another article
        self.store.revise_article(conn, existing, article)
        return "revised"

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
        """Extract what is missing, align and summarize one story, and store the result."""
        generation = self.store.story_generation(story_id)
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
        self.store.save_story(story, sources_of(articles), generation=generation)
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


def storable(article: Article) -> Article | InputError:
    """The article as the store can hold it on every backend, or why it cannot be stored.

    PostgreSQL text holds no NUL character and neither backend can encode a
    lone surrogate (both reach us from JSON escapes), so they are replaced;
    an id longer than the column is refused rather than cut (cutting could
    merge two articles).
    """
    if len(article.id) > MAX_ID_CHARS:
        return InputError(article.origin or article.id[:80], f"article id longer than {MAX_ID_CHARS} characters")
    if not article.id.strip():
        return InputError(article.origin or "?", "empty article id")
    changes: dict[str, Any] = {}
    for name in ("id", "title", "text", "source", "published", "url", "byline", "origin"):
        value = getattr(article, name)
        if isinstance(value, str):
            clean = _clean(value)
            if name == "source":
                clean = clean[:512]
            if clean != value:
                changes[name] = clean
    return replace(article, **changes) if changes else article


def _clean(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def default_db_path() -> Path:
    return Path(os.environ.get("NEWSWEAVE_DB", "newsweave.db"))


__all__ = ["AnalyzeResult", "IngestReport", "Newsweave", "NewsweaveError", "analyze", "analyze_articles"]


def _restore_deduper(pipe: Pipeline, state: Any) -> None:
    """Give the deduper its saved memory, when it keeps one (a custom deduper may not)."""
    restore = getattr(pipe.deduper, "restore", None)
    if state and callable(restore):
        restore(state)
