"""The SQL store on SQLite and PostgreSQL: migrations, idempotence, revisions, quarantine, integrity."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from stubs import article, stub_pipeline

from newsweave.engine import Newsweave
from newsweave.errors import StoreError
from newsweave.store import HEAD_REVISION, Store, aliases_t, articles_t, upgrade

#: The schema newsweave 0.1 created (``Store`` of commit a7bbb14, ``create_all`` on SQLite), verbatim.
SCHEMA_0_1 = """
CREATE TABLE articles (id VARCHAR(512) NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, source VARCHAR(512),
 published VARCHAR(64), url TEXT, byline TEXT, origin TEXT, content_hash VARCHAR(64) NOT NULL, story_id VARCHAR(64),
 copy_of VARCHAR(512), analysis TEXT, ingested_at VARCHAR(64) NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_articles_content_hash ON articles (content_hash);
CREATE INDEX ix_articles_seq ON articles (seq);
CREATE INDEX ix_articles_story_id ON articles (story_id);
CREATE TABLE story_aliases (alias VARCHAR(64) NOT NULL, story_id VARCHAR(64) NOT NULL, merged_at VARCHAR(64) NOT NULL,
 PRIMARY KEY (alias));
CREATE INDEX ix_story_aliases_story_id ON story_aliases (story_id);
CREATE TABLE quarantine (id INTEGER NOT NULL, origin TEXT NOT NULL, reason TEXT NOT NULL,
 created_at VARCHAR(64) NOT NULL, PRIMARY KEY (id));
CREATE TABLE state ("key" VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE stories (id VARCHAR(64) NOT NULL, headline TEXT NOT NULL, first_seen VARCHAR(64), last_seen VARCHAR(64),
 n_articles INTEGER NOT NULL, n_sources INTEGER NOT NULL, updates TEXT NOT NULL, closed BOOLEAN NOT NULL,
 dirty BOOLEAN NOT NULL, analysis TEXT, PRIMARY KEY (id));
"""

OLD_ROWS = """
INSERT INTO articles VALUES ('a1','Dam gates opened','Engineers opened two gates at the dam.','KXNW','2024-10-01',
 'https://kxnw.example/dam','Ann Lee','demo/a1.txt','h1','s-1',NULL,'{"article": "a1"}','2024-10-01T10:00:00+00:00',1);
INSERT INTO articles VALUES ('a2','Dam alert','Residents were told to stay alert.','Gazette',NULL,NULL,NULL,
 'demo/a2.txt','h2','s-1','a1',NULL,'2024-10-01T11:00:00+00:00',2);
INSERT INTO stories VALUES ('s-1','Dam gates opened','2024-10-01','2024-10-01',2,2,'["2024-10-01"]',0,0,
 '{"id": "s-1"}');
INSERT INTO story_aliases VALUES ('s-0','s-1','2024-10-01T11:00:00+00:00');
INSERT INTO state VALUES ('clusterer','{"kind": "keyword", "assign": {"a1": "s-1", "a2": "s-1"}}');
INSERT INTO quarantine VALUES (1,'demo/bad.txt','empty file (0 bytes)','2024-10-01T09:00:00+00:00');
"""


def _norm(sql: str) -> str:
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split())


def _sqlite_schema(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'alembic_version'")
        return {_norm(r[0]) for r in rows}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL on each backend (PostgreSQL skips where no server can be had)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_url"))


def test_store_migration_0001_is_exactly_the_0_1_schema(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    with sqlite3.connect(old) as conn:
        conn.executescript(SCHEMA_0_1)
    store = Store(new, migrate=False)
    upgrade(store, "0001")
    assert store.revision() == "0001"
    assert _sqlite_schema(new) == {_norm(s) for s in SCHEMA_0_1.split(";") if s.strip()}
    store.close()


def test_store_upgrade_from_0_1_keeps_all_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_0_1 + OLD_ROWS)
    with Newsweave(path, pipeline=stub_pipeline()) as nw:
        store = nw.store
        assert store.revision() == HEAD_REVISION
        rows = list(store.all_articles())
        assert [(r["id"], r["revision"], r["copy_of"], r["analysis"]) for r in rows] == [
            ("a1", 1, None, '{"article": "a1"}'),
            ("a2", 1, "a1", None),
        ]
        assert rows[0]["byline"] == "Ann Lee" and rows[0]["url"] == "https://kxnw.example/dam"
        assert store.resolve_story_id("s-0") == "s-1"
        assert store.story_row("s-1")["analysis"] == '{"id": "s-1"}'
        (q,) = store.quarantined()
        assert q["origin"] == "demo/bad.txt" and q["attempts"] == 1
        assert store.check() == []
        # and the upgraded store keeps working: a new article, then a revision of an old one
        report = nw.ingest_items([article("a3", "Dam repairs begin")], analyze=False)
        assert report.added == ["a3"]
        report = nw.ingest_items(
            [article("a1", "Dam gates opened", "Engineers opened three gates, not two.")], analyze=False
        )
        assert report.revised == ["a1"]
        assert [r["text"] for r in store.article_revisions("a1")] == ["Engineers opened two gates at the dam."]
        assert store.check() == []


def test_store_upgrade_from_0_1_on_postgresql_keeps_all_data(pg_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from newsweave.store import MIGRATIONS

    store = Store(pg_url, migrate=False)
    upgrade(store, "0001")
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))  # as newsweave 0.1 left it: tables, no version
        for stmt in OLD_ROWS.strip().split(";\n"):
            if stmt.strip():
                conn.execute(text(stmt.replace("',0,0,\n '", "',false,false,'")))
    store.close()
    store = Store(pg_url)
    assert store.revision() == HEAD_REVISION
    assert [r["id"] for r in store.all_articles()] == ["a1", "a2"]
    assert store.resolve_story_id("s-0") == "s-1" and store.check() == []
    # and back down to 0001 and up again, keeping the rows
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    store.close()
    store = Store(pg_url)
    assert store.count_articles() == 2 and store.revision() == HEAD_REVISION
    store.close()


def test_store_same_id_url_or_content_is_one_article_and_updates_are_revisions(any_db: str) -> None:
    with Newsweave(any_db, pipeline=stub_pipeline()) as nw:
        first = nw.ingest_items(
            [article("a1", url="https://x.example/dam"), article("b1", "Orchard robots arrive")], analyze=False
        )
        assert first.added == ["a1", "b1"]
        again = nw.ingest_items(
            [
                article("a1", url="https://x.example/dam"),  # same id
                article("a1-copy", text=nw.article("a1").text),  # same content, other id
                article("feed-entry-9", text=nw.article("a1").text, url="https://x.example/dam"),  # same URL
            ],
            analyze=False,
        )
        assert again.added == [] and again.revised == [] and len(again.unchanged) == 3
        update = nw.ingest_items(
            [article("a1", text="Engineers opened three spillway gates on Tuesday, not two.")], analyze=False
        )
        assert update.revised == ["a1"] and nw.store.count_articles() == 2
        by_url = nw.ingest_items(
            [article("other-id", url="https://x.example/dam", text="Engineers closed the gates again on Wednesday.")],
            analyze=False,
        )
        assert by_url.revised == ["a1"]
        row = nw.store.article_row("a1")
        assert row["revision"] == 3 and "closed the gates" in row["text"]
        assert [r["revision"] for r in nw.store.article_revisions("a1")] == [1, 2]
        # an earlier revision offered again is known content, not an update
        old = nw.ingest_items([article("a1", url="https://x.example/dam")], analyze=False)
        assert old.unchanged == ["a1"] and nw.store.article_row("a1")["revision"] == 3
        # the story was marked changed by the revision
        assert nw.store.story_row(row["story_id"])["dirty"]
        assert nw.store.count_articles() == 2 and nw.store.check() == []


def test_store_quarantine_keeps_one_row_per_input(any_db: str) -> None:
    store = Store(any_db)
    store.quarantine("feeds/bad.xml", "malformed feed")
    store.quarantine("feeds/bad.xml", "malformed feed: still")
    store.quarantine("x\x00y\ud800", "reason with\nnewline")
    rows = store.quarantined()
    assert [(r["origin"], r["attempts"]) for r in rows] == [("feeds/bad.xml", 2), ("x\\x00y\\ud800", 1)]
    assert rows[0]["reason"] == "malformed feed: still" and rows[1]["reason"] == "reason with newline"
    store.close()


def test_store_unstorable_text_is_cleaned_the_same_on_every_backend(any_db: str) -> None:
    with Newsweave(any_db, pipeline=stub_pipeline()) as nw:
        report = nw.ingest_items(
            [
                article("nul", "Dam\x00 gates", "Engineers opened\x00 two gates \ud800 at the dam on Tuesday."),
                article("x" * 600, "Long id"),
            ],
            analyze=False,
        )
        assert report.added == ["nul"]
        assert nw.article("nul").text == "Engineers opened two gates ? at the dam on Tuesday."
        assert len(report.errors) == 1 and "longer than 512" in str(report.errors[0])
        assert len(nw.store.quarantined()) == 1


def test_store_check_finds_inconsistencies(fresh_db: str) -> None:
    with Newsweave(fresh_db, pipeline=stub_pipeline()) as nw:
        nw.ingest_items([article("a1"), article("b1", "Orchard robots arrive")], analyze=False)
        assert nw.store.check() == []
        with nw.store.transaction() as conn:
            conn.execute(articles_t.update().where(articles_t.c.id == "b1").values(story_id="s-gone"))
            conn.execute(aliases_t.insert().values(alias="s-old", story_id="s-nowhere", merged_at="x"))
            nw.store.save_state(conn, "clusterer", {"kind": "keyword", "assign": {"a1": "s"}})
        problems = "\n".join(nw.store.check())
    assert "article 'b1' belongs to missing story 's-gone'" in problems
    assert "alias 's-old' points at missing story 's-nowhere'" in problems
    assert "clusterer state lacks 1 articles" in problems


def test_store_bad_url_is_a_store_error_naming_it() -> None:
    with pytest.raises(StoreError, match=r"cannot open the store at postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/x"):
        Store("postgresql://u:secret@127.0.0.1:1/x")


def test_store_feed_rows_round_trip(any_db: str) -> None:
    store = Store(any_db)
    store.save_feed("https://f.example/rss", interval_s=600, etag='"e1"')
    store.save_feed("https://f.example/rss", failures=2, last_error="timed out")
    (row,) = store.feed_rows()
    assert (row["interval_s"], row["etag"], row["failures"], row["last_error"]) == (600, '"e1"', 2, "timed out")
    with pytest.raises(StoreError, match="unknown feed fields"):
        store.save_feed("https://f.example/rss", colour="red")
    store.close()


def test_store_state_json_round_trip(any_db: str) -> None:
    store = Store(any_db)
    with store.transaction() as conn:
        store.save_state(conn, "k", {"a": [1, 2]})
        store.save_state(conn, "k", {"a": [3]})
    assert store.load_state("k") == {"a": [3]} and json.dumps(store.load_state("missing")) == "null"
    store.close()


def test_store_nested_write_fails_instead_of_hanging(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write opened inside another write would wait for itself: it must fail with a StoreError, not hang."""
    import newsweave.store as store_mod

    monkeypatch.setattr(store_mod, "PG_LOCK_TIMEOUT_S", 1)
    store = Store(pg_url)
    with pytest.raises(StoreError, match="lock"), store.transaction():
        store.quarantine("inner", "nested write")
    assert store.quarantined() == []
    store.close()


def test_store_postgres_fixture_says_why_when_no_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pgserver import start_server

    monkeypatch.setenv("NEWSWEAVE_PG_BINDIR", str(tmp_path / "nowhere"))
    with pytest.raises(RuntimeError, match="no PostgreSQL server binaries"):
        start_server()
