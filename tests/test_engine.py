"""The Python API on a real SQLite store: ingest, idempotence, stories, merges."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsweave import Newsweave
from newsweave.errors import NotFound
from newsweave.models import Article, DuplicateInfo, StoryAssignment
from newsweave.registry import build_pipeline

pytestmark = pytest.mark.slow


def test_engine_ingest_demo_groups_the_event_and_is_idempotent(demo_dir: Path, fresh_db: str) -> None:
    with Newsweave(fresh_db) as nw:
        first = nw.ingest([demo_dir])
        assert first.ok and len(first.added) == 4
        stories = nw.stories()
        assert sorted(s["articles"] for s in stories) == [1, 3]
        again = nw.ingest([demo_dir])
        assert again.added == [] and len(again.unchanged) == 4
        assert nw.store.count_articles() == 4
        dam = next(s for s in stories if s["articles"] == 3)
        story = nw.story(dam["id"])
        assert {a["id"] for a in story.articles} == {
            "kxnw-larkmoor-dam",
            "riverside-larkmoor-dam",
            "gazette-larkmoor-dam",
        }
        assert story.summary and story.facts and story.entities


def test_engine_state_survives_reopening_the_store(demo_dir: Path, fresh_db: str, tmp_path: Path) -> None:
    first, rest = sorted(demo_dir.glob("*larkmoor*"))[:1], sorted(demo_dir.glob("*larkmoor*"))[1:]
    with Newsweave(fresh_db) as nw:
        nw.ingest(first)
    with Newsweave(fresh_db) as nw:
        nw.ingest(rest)
        assert [s["articles"] for s in nw.stories()] == [3]


def test_engine_bad_input_is_quarantined_and_the_rest_is_stored(demo_dir: Path, fresh_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x00binary")
    with Newsweave(fresh_db) as nw:
        report = nw.ingest([bad, demo_dir / "kxnw-orchard-robots.txt"])
        assert len(report.added) == 1 and len(report.errors) == 1
        (q,) = nw.store.quarantined()
        assert q["origin"] == str(bad) and "binary" in q["reason"]


def test_engine_unknown_story_raises_not_found(fresh_db: str) -> None:
    with Newsweave(fresh_db) as nw, pytest.raises(NotFound, match="newsweave stories"):
        nw.story("s-nope")


class _MergingClusterer:
    """A clusterer that puts the first two articles apart, then merges them with the third."""

    def __init__(self) -> None:
        self.n = 0

    def add(self, article: Article, duplicate: DuplicateInfo | None = None) -> StoryAssignment:
        self.n += 1
        if self.n == 1:
            return StoryAssignment(article.id, "s-a")
        if self.n == 2:
            return StoryAssignment(article.id, "s-b")
        return StoryAssignment(article.id, "s-a", merged=["s-b"])

    def export(self) -> dict[str, object]:
        return {"n": self.n}

    def restore(self, state: dict[str, object]) -> None:
        self.n = int(state["n"])  # type: ignore[call-overload]


def test_engine_merged_story_ids_still_resolve(demo_dir: Path, fresh_db: str) -> None:
    pipe = build_pipeline("hashing", clusterer=_MergingClusterer())
    with Newsweave(fresh_db, pipeline=pipe) as nw:
        nw.ingest(sorted(demo_dir.glob("*larkmoor*")))
        assert [s["id"] for s in nw.stories()] == ["s-a"]
        merged = nw.story("s-b")
        assert merged.id == "s-a" and merged.aliases == ["s-b"]
        assert len(merged.articles) == 3
