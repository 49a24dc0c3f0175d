"""The store: articles and their revisions, stories, clusterer state, quarantine and feeds, in SQL.

SQLite (WAL mode) by default; PostgreSQL (``postgresql://...``) through the
same code and the same schema. The schema is managed by Alembic
(``newsweave/migrations``): opening a store upgrades it to the newest revision,
keeping every row. The store knows nothing about NLP: the engine
(:mod:`newsweave.engine`) decides what to write.

Writers are serialised: a write transaction holds the store's one write lock
(SQLite ``BEGIN IMMEDIATE``; a PostgreSQL transaction-level advisory lock), so
two ingesting processes never interleave their read-then-write steps and never
lose each other's writes. Readers never wait for writers.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
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
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from .errors import NotFound, StoreError
from .models import Article, ArticleAnalysis, Story

DEFAULT_DB = "newsweave.db"
MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest schema revision; :func:`upgrade` brings any older store here.
HEAD_REVISION = "0002"
#: Key of PostgreSQL's transaction-level advisory lock that serialises writers.
PG_WRITE_LOCK = zlib.crc32(b"newsweave-store-write")
#: Longest wait for PostgreSQL's write lock (SQLite's busy_timeout is the same).
PG_LOCK_TIMEOUT_S = 60
#: Quarantine origins and reasons are cut to this many characters.
MAX_QUARANTINE_TEXT = 2000

metadata = MetaData()

articles_t = Table(
    "articles",
    metadata,
    Column("id", String(512), primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("source", String(512)),
    Column("published", String(64)),
    Column("url", Text, index=True),
    Column("byline", Text),
    Column("origin", Text),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("story_id", String(64), index=True),
    Column("copy_of", String(512)),
    Column("analysis", Text),
    Column("ingested_at", String(64), nullable=False),
    Column("seq", Integer, nullable=False, index=True),
    Column("revision", Integer, nullable=False, default=1, server_default="1"),
)

revisions_t = Table(
    "article_revisions",
    metadata,
    Column("article_id", String(512), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("published", String(64)),
    Column("url", Text),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("ingested_at", String(64), nullable=False),
    Column("replaced_at", String(64), nullable=False),
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
    Column("generation", Integer, nullable=False, default=0, server_default="0"),
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
    Column("origin", Text, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("created_at", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=1, server_default="1"),
    Column("last_seen", String(64)),
)

feeds_t = Table(
    "feeds",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("title", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("interval_s", Integer, nullable=False, default=900, server_default="900"),
    Column("next_poll", Float, nullable=False, default=0.0, server_default="0"),
    Column("failures", Integer, nullable=False, default=0, server_default="0"),
    Column("last_status", String(64)),
    Column("last_error", Text),
    Column("last_polled", String(64)),
    Column("last_ok", String(64)),
    Column("articles", Integer, nullable=False, default=0, server_default="0"),
)

#: Tables the first schema (revision 0001) had; a store with these and no
#: ``alembic_version`` table was made by newsweave 0.1 and is stamped 0001.
SCHEMA_0001_TABLES = {"articles", "stories", "story_aliases", "state", "quarantine"}


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
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


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own implicit transactions are switched off so that the
    # "begin" hook below decides how each transaction starts.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a transaction that returned from COMMIT survives a power cut too,
    # which is what "acknowledged" promises.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock at BEGIN, not at its first write: a
    # deferred transaction that read first could not upgrade once another
    # writer committed (SQLITE_BUSY_SNAPSHOT, which busy_timeout cannot wait out).
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("newsweave_write") else "BEGIN")


def _url_for_message(url: str) -> str:
    """The store URL with any password masked, for error messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given, minus nothing secret
        return url.split("@")[-1]


class Store:
    """SQL storage for articles, their revisions, stories, quarantine and feeds.

    Args:
        db: SQLite path or SQLAlchemy URL (``postgresql://...``); default
            ``$NEWSWEAVE_DB`` or ``newsweave.db``.
        migrate: upgrade the schema to :data:`HEAD_REVISION` on open (the default).

    Raises:
        StoreError: the store cannot be opened or upgraded; the message names it.
    """

    def __init__(self, db: str | os.PathLike[str] | None = None, migrate: bool = True) -> None:
        self.url = db_url(db)
        self.display_url = _url_for_message(self.url)
        try:
            if self.url.startswith("sqlite"):
                self.engine: Engine = create_engine(self.url, connect_args={"timeout": 60})
                event.listen(self.engine, "connect", _sqlite_connect)
                event.listen(self.engine, "begin", _sqlite_begin)
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True)
            self.dialect = self.engine.dialect.name
            if migrate:
                upgrade(self)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {self.display_url}: {exc.__class__.__name__}: {exc}; "
                "check the path or URL and that the server is running"
            ) from exc
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"cannot open the store at {self.display_url}: missing driver {exc.name}; "
                "run `pip install 'newsweave[postgres]'`"
            ) from exc

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic write: everything in it is written, or nothing.

        The transaction holds the store's write lock from its start, so its
        reads see the latest committed state and nobody writes in between.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(newsweave_write=True)
                with conn.begin():
                    if self.dialect == "postgresql":
                        # A writer waiting longer than this is stuck (e.g. a transaction
                        # opened inside another one): fail with a StoreError, never hang.
                        conn.execute(text(f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT_S}s'"))
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK})
                    yield conn
        except SQLAlchemyError as exc:
            raise StoreError(
                f"store write failed ({self.display_url}): {exc.__class__.__name__}: {exc}; nothing of it was kept"
            ) from exc

    def revision(self) -> str | None:
        """The schema revision of the store (``None`` before any migration)."""
        with self.engine.connect() as conn:
            return _current_revision(conn)

    # ------------------------------------------------------------------ articles

    def find_article(self, conn: Connection, article: Article) -> dict[str, Any] | None:
        """An existing article with the same id, the same URL, or the same content, if any."""
        row = conn.execute(select(articles_t).where(articles_t.c.id == article.id)).mappings().first()
        if row is None and article.url:
            row = (
                conn.execute(select(articles_t).where(articles_t.c.url == article.url).order_by(articles_t.c.seq))
                .mappings()
                .first()
            )
        if row is None:
            row = (
                conn.execute(
                    select(articles_t)
                    .where(articles_t.c.content_hash == article.content_hash)
                    .order_by(articles_t.c.seq)
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def is_known_content(self, conn: Connection, article_id: str, content_hash: str) -> bool:
        """Whether this content is the article's current text or one of its earlier revisions."""
        current = conn.execute(
            select(articles_t.c.id).where(articles_t.c.id == article_id, articles_t.c.content_hash == content_hash)
        ).first()
        if current:
            return True
        old = conn.execute(
            select(revisions_t.c.revision).where(
                revisions_t.c.article_id == article_id, revisions_t.c.content_hash == content_hash
            )
        ).first()
        return old is not None

    def has_article(self, article_id: str, url: str | None = None) -> bool:
        """Whether an article with this id (or this URL) is stored."""
        cond = articles_t.c.id == article_id
        if url:
            cond = cond | (articles_t.c.url == url)
        with self.engine.connect() as conn:
            return conn.execute(select(articles_t.c.id).where(cond).limit(1)).first() is not None

    def content_owner(self, conn: Connection, content_hash: str) -> str | None:
        """The id of the article whose current content this is, if any."""
        row = conn.execute(select(articles_t.c.id).where(articles_t.c.content_hash == content_hash)).first()
        return str(row[0]) if row else None

    def _next_seq(self, conn: Connection) -> int:
        return int(conn.execute(select(func.coalesce(func.max(articles_t.c.seq), 0))).scalar_one()) + 1

    def insert_article(self, conn: Connection, article: Article, story_id: str, copy_of: str | None) -> None:
        """Add a new article (revision 1) to a story."""
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
                seq=self._next_seq(conn),
                revision=1,
            )
        )

    def revise_article(self, conn: Connection, existing: dict[str, Any], article: Article) -> int:
        """Replace an article's content with an update, keeping the old text as a revision.

        The article keeps its id, story and place; its analysis is dropped (it
        is recomputed) and its story is marked changed.

        Returns:
            The new revision number.
        """
        old_rev = int(existing.get("revision") or 1)
        now = now_iso()
        conn.execute(
            revisions_t.insert().values(
                article_id=existing["id"],
                revision=old_rev,
                title=existing["title"],
                text=existing["text"],
                published=existing["published"],
                url=existing["url"],
                content_hash=existing["content_hash"],
                ingested_at=existing["ingested_at"],
                replaced_at=now,
            )
        )
        conn.execute(
            articles_t.update()
            .where(articles_t.c.id == existing["id"])
            .values(
                title=article.title,
                text=article.text,
                source=article.source or existing["source"],
                published=article.published or existing["published"],
                url=article.url or existing["url"],
                byline=article.byline or existing["byline"],
                origin=article.origin or existing["origin"],
                content_hash=article.content_hash,
                analysis=None,
                ingested_at=now,
                revision=old_rev + 1,
            )
        )
        if existing.get("story_id"):
            self.touch_story(conn, existing["story_id"])
        return old_rev + 1

    def article_revisions(self, article_id: str) -> list[dict[str, Any]]:
        """Every earlier revision of an article, oldest first (the current text is in ``articles``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(revisions_t).where(revisions_t.c.article_id == article_id).order_by(revisions_t.c.revision)
            ).mappings()
            return [dict(r) for r in rows]

    def article(self, article_id: str) -> Article:
        """One article by id.

        Raises:
            NotFound: no such article.
        """
        with self.engine.connect() as conn:
            row = conn.execute(select(articles_t).where(articles_t.c.id == article_id)).mappings().first()
        if row is None:
            raise NotFound(f"no article {article_id!r} in the store; `newsweave stories` lists what is there")
        return _article(row)

    def article_row(self, article_id: str) -> dict[str, Any]:
        """One article's full row (story, copy_of, revision, analysis JSON, ...)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(articles_t).where(articles_t.c.id == article_id)).mappings().first()
        if row is None:
            raise NotFound(f"no article {article_id!r} in the store")
        return dict(row)

    def story_articles(self, story_id: str) -> list[tuple[Article, ArticleAnalysis | None, str | None]]:
        """A story's articles in ingestion order, each with its cached analysis and ``copy_of``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles_t).where(articles_t.c.story_id == story_id).order_by(articles_t.c.seq)
            ).mappings()
            return [(_article(r), _analysis(r["analysis"]), r["copy_of"]) for r in rows]

    def save_analyses(self, conn: Connection, analyses: Iterable[ArticleAnalysis]) -> None:
        """Cache per-article extraction results."""
        for an in analyses:
            conn.execute(articles_t.update().where(articles_t.c.id == an.article).values(analysis=_dump_analysis(an)))

    def count_articles(self) -> int:
        """How many articles the store holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(articles_t)).scalar_one())

    def all_articles(self) -> Iterator[dict[str, Any]]:
        """Every article row, in ingestion order."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(articles_t).order_by(articles_t.c.seq)).mappings():
                yield dict(row)

    # ------------------------------------------------------------------ stories

    def move_article(self, conn: Connection, article_id: str, to_story: str) -> str | None:
        """Put one article in another story (a re-partition moved it); returns the story it left.

        Both stories are marked changed. A story left empty is not deleted here: the
        clusterer reports it as merged, and :meth:`move_articles` then records the alias.
        """
        row = conn.execute(select(articles_t.c.story_id).where(articles_t.c.id == article_id)).first()
        if row is None or row[0] == to_story:
            return None
        conn.execute(articles_t.update().where(articles_t.c.id == article_id).values(story_id=to_story))
        self.touch_story(conn, to_story)
        if row[0] is not None:
            self.touch_story(conn, str(row[0]))
        return None if row[0] is None else str(row[0])

    def move_articles(self, conn: Connection, from_story: str, to_story: str) -> None:
        """Record that ``from_story`` merged into ``to_story``; links to either keep working."""
        if from_story == to_story:
            return
        conn.execute(articles_t.update().where(articles_t.c.story_id == from_story).values(story_id=to_story))
        conn.execute(aliases_t.update().where(aliases_t.c.story_id == from_story).values(story_id=to_story))
        conn.execute(aliases_t.delete().where(aliases_t.c.alias.in_([from_story, to_story])))
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
                    id=story_id,
                    headline="",
                    first_seen=now,
                    last_seen=now,
                    updates=json.dumps([now]),
                    dirty=True,
                    generation=1,
                )
            )
        else:
            updates = [*json.loads(row["updates"])[-99:], now]
            conn.execute(
                stories_t.update()
                .where(stories_t.c.id == story_id)
                .values(
                    last_seen=now,
                    updates=json.dumps(updates),
                    dirty=True,
                    closed=False,
                    generation=int(row["generation"] or 0) + 1,
                )
            )

    def dirty_stories(self) -> list[str]:
        """Ids of the stories changed since they were last analyzed."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(stories_t.c.id).where(stories_t.c.dirty.is_(True)))]

    def story_generation(self, story_id: str) -> int | None:
        """The story's change counter (None when the story does not exist)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(stories_t.c.generation).where(stories_t.c.id == story_id)).first()
        return int(row[0]) if row else None

    def save_story(self, story: Story, n_sources: int, generation: int | None = None) -> None:
        """Store a story's analysis.

        Args:
            story: the analyzed story.
            n_sources: number of distinct outlets.
            generation: the story's generation the analysis was computed from;
                when another writer changed the story since, the analysis is
                still stored but the story stays marked for re-analysis.
        """
        with self.transaction() as conn:
            current = conn.execute(select(stories_t.c.generation).where(stories_t.c.id == story.id)).first()
            stale = generation is not None and current is not None and int(current[0]) != generation
            conn.execute(
                stories_t.update()
                .where(stories_t.c.id == story.id)
                .values(
                    headline=story.headline,
                    n_articles=len(story.articles),
                    n_sources=n_sources,
                    analysis=json.dumps(story.to_dict()),
                    dirty=stale,
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
        """One story's row, following merges."""
        sid = self.resolve_story_id(story_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(stories_t).where(stories_t.c.id == sid)).mappings().first()
        if row is None:
            raise NotFound(f"no story {story_id!r} in the store")
        return dict(row)

    def story_rows(self, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Story rows, most recently updated first."""
        q = select(stories_t).order_by(stories_t.c.last_seen.desc(), stories_t.c.id)
        if limit is not None:
            q = q.limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def aliases_of(self, story_id: str) -> list[str]:
        """Ids of the stories merged into this one."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(aliases_t.c.alias).where(aliases_t.c.story_id == story_id))]

    # ------------------------------------------------------------------ state & quarantine

    def load_state(self, key: str, conn: Connection | None = None) -> dict[str, Any] | None:
        """A JSON state blob (e.g. the clusterer's), or None."""
        if conn is not None:
            row = conn.execute(select(state_t.c.value).where(state_t.c.key == key)).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(select(state_t.c.value).where(state_t.c.key == key)).first()
        return json.loads(row[0]) if row else None

    def save_state(self, conn: Connection, key: str, value: dict[str, Any]) -> None:
        """Write a JSON state blob inside the caller's transaction."""
        payload = json.dumps(value)
        updated = conn.execute(state_t.update().where(state_t.c.key == key).values(value=payload))
        if updated.rowcount == 0:
            conn.execute(state_t.insert().values(key=key, value=payload))

    def quarantine(self, origin: str, reason: str, conn: Connection | None = None) -> None:
        """Put a bad input aside with its reason: one row per input, however often it comes back.

        Args:
            origin: the file, ``file:line``, feed entry or URL.
            reason: why it was refused.
            conn: write inside this transaction instead of a new one (a write
                transaction already holds the lock a new one would wait for).
        """
        if conn is None:
            with self.transaction() as own:
                self._quarantine(own, origin, reason)
        else:
            self._quarantine(conn, origin, reason)

    def _quarantine(self, conn: Connection, origin: str, reason: str) -> None:
        origin = _clean_text(origin)[:MAX_QUARANTINE_TEXT]
        reason = _clean_text(" ".join(reason.split()))[:MAX_QUARANTINE_TEXT]
        now = now_iso()
        row = conn.execute(
            select(quarantine_t.c.id, quarantine_t.c.attempts).where(quarantine_t.c.origin == origin)
        ).first()
        if row is None:
            conn.execute(quarantine_t.insert().values(origin=origin, reason=reason, created_at=now, last_seen=now))
        else:
            conn.execute(
                quarantine_t.update()
                .where(quarantine_t.c.id == row[0])
                .values(reason=reason, attempts=int(row[1]) + 1, last_seen=now)
            )

    def release(self, origin: str, conn: Connection | None = None) -> None:
        """Take an input out of quarantine (it has now been read successfully)."""
        origin = _clean_text(origin)[:MAX_QUARANTINE_TEXT]
        if conn is None:
            with self.transaction() as own:
                own.execute(quarantine_t.delete().where(quarantine_t.c.origin == origin))
        else:
            conn.execute(quarantine_t.delete().where(quarantine_t.c.origin == origin))

    def quarantined(self) -> list[dict[str, Any]]:
        """Every quarantined input, oldest first: origin, reason, created_at, attempts, last_seen."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(quarantine_t).order_by(quarantine_t.c.id)).mappings()]

    # ------------------------------------------------------------------ feeds

    def feed_rows(self) -> list[dict[str, Any]]:
        """Every watched feed with its schedule, validators and health."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(feeds_t).order_by(feeds_t.c.url)).mappings()]

    def feed_row(self, url: str) -> dict[str, Any] | None:
        """One watched feed's row, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(feeds_t).where(feeds_t.c.url == url)).mappings().first()
        return dict(row) if row else None

    def save_feed(self, url: str, **values: Any) -> None:
        """Create or update a watched feed's row (columns of ``feeds``)."""
        unknown = set(values) - set(feeds_t.c.keys())
        if unknown:
            raise StoreError(f"unknown feed fields {sorted(unknown)}; known: {sorted(feeds_t.c.keys())}")
        with self.transaction() as conn:
            updated = conn.execute(feeds_t.update().where(feeds_t.c.url == url).values(**values)) if values else None
            exists = (updated is not None and updated.rowcount) or conn.execute(
                select(feeds_t.c.url).where(feeds_t.c.url == url)
            ).first()
            if not exists:
                conn.execute(feeds_t.insert().values(url=url, **values))

    # ------------------------------------------------------------------ integrity

    def check(self, clusterer_key: str | None = "clusterer") -> list[str]:
        """Check the store's integrity; an empty list means it is sound.

        SQLite's own ``PRAGMA integrity_check``, then newsweave's consistency:
        every article's story exists, every alias points at a live story and
        shadows none, no two articles share content or URL, every revision
        belongs to an article, and the clusterer's saved state places every
        article (when its state has a per-article map, ``assign``).

        Returns:
            One line per problem found.
        """
        problems: list[str] = []
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                verdict = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                if verdict != ["ok"]:
                    problems += [f"sqlite integrity_check: {v}" for v in verdict]
            story_ids = {r[0] for r in conn.execute(select(stories_t.c.id))}
            article_rows = list(
                conn.execute(
                    select(articles_t.c.id, articles_t.c.story_id, articles_t.c.content_hash, articles_t.c.url)
                )
            )
            for aid, sid, _, _ in article_rows:
                if sid is None or sid not in story_ids:
                    problems.append(f"article {aid!r} belongs to missing story {sid!r}")
            for field, index in (("content", 2), ("url", 3)):
                seen: dict[str, str] = {}
                for row in article_rows:
                    key = row[index]
                    if key is None:
                        continue
                    if key in seen:
                        problems.append(f"articles {seen[key]!r} and {row[0]!r} have the same {field}")
                    seen[key] = row[0]
            for alias, target in conn.execute(select(aliases_t.c.alias, aliases_t.c.story_id)):
                if target not in story_ids:
                    problems.append(f"alias {alias!r} points at missing story {target!r}")
                if alias in story_ids:
                    problems.append(f"alias {alias!r} is also a live story id")
            ids = {r[0] for r in article_rows}
            for (aid,) in conn.execute(select(revisions_t.c.article_id).distinct()):
                if aid not in ids:
                    problems.append(f"revisions of missing article {aid!r}")
            if clusterer_key:
                state = self.load_state(clusterer_key, conn)
                assign = state.get("assign") if isinstance(state, dict) else None
                if ids and state is None:
                    problems.append("the store has articles but no clusterer state")
                elif isinstance(assign, dict):
                    missing = sorted(ids - set(assign))
                    if missing:
                        problems.append(f"clusterer state lacks {len(missing)} articles, e.g. {missing[:3]}")
        return problems


def _clean_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; lone surrogates cannot be encoded.
    return value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


# ---------------------------------------------------------------------- migrations

_MIGRATION_LOCK = threading.Lock()


def _current_revision(conn: Connection) -> str | None:
    names = set(inspect(conn).get_table_names())
    if "alembic_version" not in names:
        return "0001" if names >= SCHEMA_0001_TABLES else None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def upgrade(store: Store, target: str = "head") -> None:
    """Bring the store's schema to ``target`` with Alembic, keeping every row.

    A store made by newsweave 0.1 (tables, no ``alembic_version``) is stamped
    as revision 0001 first. Runs under the store's write lock, so processes
    opening the same new store at once migrate it once.

    Raises:
        StoreError: Alembic is missing or a migration failed.
    """
    if target == "head":
        with store.engine.connect() as conn:
            if _current_revision(conn) == HEAD_REVISION:
                return
    try:
        from alembic import command
        from alembic.config import Config
    except ModuleNotFoundError as exc:
        raise StoreError(
            "the store's schema needs upgrading and Alembic is missing: run `pip install 'newsweave[postgres]'`"
        ) from exc
    with _MIGRATION_LOCK, store.transaction() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        names = set(inspect(conn).get_table_names())
        if "alembic_version" not in names and names >= SCHEMA_0001_TABLES:
            command.stamp(config, "0001")
        command.upgrade(config, target)


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
