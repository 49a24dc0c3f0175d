"""The store: articles, stories, clusterer state and quarantine, in SQL.

SQLite (WAL mode) by default; any SQLAlchemy URL, PostgreSQL included, works
through the same code. The store knows nothing about NLP: the engine
(:mod:`newsweave.engine`) decides what to write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from .errors import NotFound, StoreError
from .models import Article, ArticleAnalysis, Story

DEFAULT_DB = "newsweave.db"

metadata = MetaData()

articles_t = Table(
    "articles",
    metadata,
    Column("id", String(512), primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("source", String(512)),
    Column("published", String(64)),
    Column("url", Text),
    Column("byline", Text),
    Column("origin", Text),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("story_id", String(64), index=True),
    Column("copy_of", String(512)),
    Column("analysis", Text),
    Column("ingested_at", String(64), nullable=False),
    Column("seq", Integer, nullable=False, index=True),
)

stories_t = Table(
    "stories",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("headline", Text, nullable=False, default=""),
    Column("first_seen", String(64)),
    Column("last_seen", String(64)),
    Column("n_articles", Integer, nullable=False, default=0),
    Column("n_sources", Integer, nullable=False, default=0),
    Column("updates", Text, nullable=False, default="[]"),
    Column("closed", Boolean, nullable=False, default=False),
    Column("dirty", Boolean, nullable=False, default=True),
    Column("analysis", Text),
)

aliases_t = Table(
    "story_aliases",
    metadata,
    Column("alias", String(64), primary_key=True),
    Column("story_id", String(64), nullable=False, index=True),
    Column("merged_at", String(64), nullable=False),
)

state_t = Table(
    "state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

quarantine_t = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", String(64), nullable=False),
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def db_url(db: str | os.PathLike[str] | None) -> str:
    """An SQLAlchemy URL for ``--db``: a URL as given, a path as SQLite, else $NEWSWEAVE_DB or the default."""
    value = str(db) if db else os.environ.get("NEWSWEAVE_DB") or DEFAULT_DB
    if "://" in value:
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """SQL storage for articles and stories."""

    def __init__(self, db: str | os.PathLike[str] | None = None) -> None:
        self.url = db_url(db)
        try:
            self.engine: Engine = create_engine(self.url, future=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {self.url}: {exc.__class__.__name__}: {exc}") from exc
        except ModuleNotFoundError as exc:
            raise StoreError(f"cannot open the store at {self.url}: missing driver {exc.name}") from exc

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit of work; everything in it is written, or nothing."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store write failed ({self.url}): {exc.__class__.__name__}: {exc}") from exc

    # ------------------------------------------------------------------ articles

    def find_article(self, conn: Connection, article: Article) -> dict[str, Any] | None:
        """An existing article with the same id or the same content, if any."""
        row = conn.execute(select(articles_t).where(articles_t.c.id == article.id)).mappings().first()
        if row is None:
            row = (
                conn.execute(select(articles_t).where(articles_t.c.content_hash == article.content_hash))
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def insert_article(self, conn: Connection, article: Article, story_id: str, copy_of: str | None) -> None:
        seq = conn.execute(select(func.coalesce(func.max(articles_t.c.seq), 0))).scalar_one() + 1
        conn.execute(
            articles_t.insert().values(
                id=article.id,
                title=article.title,
                text=article.text,
                source=article.source,
                published=article.published,
                url=article.url,
                byline=article.byline,
                origin=article.origin,
                content_hash=article.content_hash,
                story_id=story_id,
                copy_of=copy_of,
                ingested_at=now_iso(),
                seq=seq,
            )
        )

    def article(self, article_id: str) -> Article:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles_t).where(articles_t.c.id == article_id)).mappings().first()
        if row is None:
            raise NotFound(f"no article {article_id!r} in the store; `newsweave stories` lists what is there")
        return _article(row)

    def article_row(self, article_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles_t).where(articles_t.c.id == article_id)).mappings().first()
        if row is None:
            raise NotFound(f"no article {article_id!r} in the store")
        return dict(row)

    def story_articles(self, story_id: str) -> list[tuple[Article, ArticleAnalysis | None, str | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles_t).where(articles_t.c.story_id == story_id).order_by(articles_t.c.seq)
            ).mappings()
            return [(_article(r), _analysis(r["analysis"]), r["copy_of"]) for r in rows]

    def save_analyses(self, conn: Connection, analyses: Iterable[ArticleAnalysis]) -> None:
        for an in analyses:
            conn.execute(articles_t.update().where(articles_t.c.id == an.article).values(analysis=_dump_analysis(an)))

    def count_articles(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(articles_t)).scalar_one())

    def all_articles(self) -> Iterator[dict[str, Any]]:
        with self.engine.connect() as conn:
            for row in conn.execute(select(articles_t).order_by(articles_t.c.seq)).mappings():
                yield dict(row)

    # ------------------------------------------------------------------ stories

    def move_articles(self, conn: Connection, from_story: str, to_story: str) -> None:
        """Record that ``from_story`` merged into ``to_story``; links to either keep working."""
        conn.execute(articles_t.update().where(articles_t.c.story_id == from_story).values(story_id=to_story))
        conn.execute(aliases_t.update().where(aliases_t.c.story_id == from_story).values(story_id=to_story))
        conn.execute(aliases_t.insert().values(alias=from_story, story_id=to_story, merged_at=now_iso()))
        conn.execute(stories_t.delete().where(stories_t.c.id == from_story))
        self.touch_story(conn, to_story)

    def touch_story(self, conn: Connection, story_id: str) -> None:
        """Mark a story as changed (its analysis will be recomputed) and record the update time."""
        row = conn.execute(select(stories_t).where(stories_t.c.id == story_id)).mappings().first()
        now = now_iso()
        if row is None:
            conn.execute(
                stories_t.insert().values(
                    id=story_id, headline="", first_seen=now, last_seen=now, updates=json.dumps([now]), dirty=True
                )
            )
        else:
            updates = [*json.loads(row["updates"])[-99:], now]
            conn.execute(
                stories_t.update()
                .where(stories_t.c.id == story_id)
                .values(last_seen=now, updates=json.dumps(updates), dirty=True, closed=False)
            )

    def dirty_stories(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(stories_t.c.id).where(stories_t.c.dirty.is_(True)))]

    def save_story(self, story: Story, n_sources: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                stories_t.update()
                .where(stories_t.c.id == story.id)
                .values(
                    headline=story.headline,
                    n_articles=len(story.articles),
                    n_sources=n_sources,
                    analysis=json.dumps(story.to_dict()),
                    dirty=False,
                )
            )

    def resolve_story_id(self, story_id: str) -> str:
        """The current id of a story, following merges."""
        with self.engine.connect() as conn:
            if conn.execute(select(stories_t.c.id).where(stories_t.c.id == story_id)).first():
                return story_id
            row = conn.execute(select(aliases_t.c.story_id).where(aliases_t.c.alias == story_id)).first()
            if row:
                return str(row[0])
        raise NotFound(f"no story {story_id!r} in the store; `newsweave stories` lists the story ids")

    def story_row(self, story_id: str) -> dict[str, Any]:
        sid = self.resolve_story_id(story_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(stories_t).where(stories_t.c.id == sid)).mappings().first()
        if row is None:
            raise NotFound(f"no story {story_id!r} in the store")
        return dict(row)

    def story_rows(self, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        q = select(stories_t).order_by(stories_t.c.last_seen.desc(), stories_t.c.id)
        if limit is not None:
            q = q.limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def aliases_of(self, story_id: str) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(aliases_t.c.alias).where(aliases_t.c.story_id == story_id))]

    # ------------------------------------------------------------------ state & quarantine

    def load_state(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(state_t.c.value).where(state_t.c.key == key)).first()
        return json.loads(row[0]) if row else None

    def save_state(self, conn: Connection, key: str, value: dict[str, Any]) -> None:
        payload = json.dumps(value)
        updated = conn.execute(state_t.update().where(state_t.c.key == key).values(value=payload))
        if updated.rowcount == 0:
            conn.execute(state_t.insert().values(key=key, value=payload))

    def quarantine(self, origin: str, reason: str) -> None:
        with self.transaction() as conn:
            conn.execute(quarantine_t.insert().values(origin=origin, reason=reason, created_at=now_iso()))

    def quarantined(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(quarantine_t).order_by(quarantine_t.c.id)).mappings()]


def _article(row: Any) -> Article:
    return Article(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        source=row["source"],
        published=row["published"],
        url=row["url"],
        byline=row["byline"],
        origin=row["origin"] or "",
    )


def _dump_analysis(an: ArticleAnalysis) -> str:
    from dataclasses import asdict

    return json.dumps(asdict(an))


def _analysis(payload: str | None) -> ArticleAnalysis | None:
    if not payload:
        return None
    from .models import DateMention, EntityMention, Figure, Quote, Sentence

    d = json.loads(payload)
    return ArticleAnalysis(
        article=d["article"],
        sentences=[Sentence(**x) for x in d["sentences"]],
        entities=[EntityMention(**x) for x in d["entities"]],
        quotes=[Quote(**x) for x in d["quotes"]],
        figures=[Figure(**x) for x in d["figures"]],
        dates=[DateMention(**x) for x in d["dates"]],
    )


def story_from_row(row: dict[str, Any]) -> Story:
    if not row.get("analysis"):
        return Story(id=row["id"], headline=row.get("headline") or "")
    return Story.from_dict(json.loads(row["analysis"]))
