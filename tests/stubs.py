"""A model-free pipeline for store-level tests: placement by a title keyword, no analysis.

The store's guarantees (idempotence, revisions, crash safety, quarantine) do
not depend on the NLP stages, so these tests use a tiny deterministic
clusterer whose state, like the real ones', round-trips through JSON.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from newsweave.models import Article, ArticleAnalysis, DuplicateInfo, StoryAssignment
from newsweave.pipeline import Pipeline


class KeywordClusterer:
    """Articles whose titles share their first word form one story."""

    def __init__(self) -> None:
        self.assign: dict[str, str] = {}

    def add(self, article: Article, duplicate: DuplicateInfo | None = None) -> StoryAssignment:
        key = (article.title.split() or ["untitled"])[0].lower()
        story = "s-" + hashlib.sha1(key.encode()).hexdigest()[:10]
        self.assign[article.id] = story
        return StoryAssignment(article.id, story)

    def export(self) -> dict[str, Any]:
        return {"kind": "keyword", "assign": dict(self.assign)}

    def restore(self, state: dict[str, Any]) -> None:
        self.assign = dict(state.get("assign", {}))


class NoDedupe:
    def check(self, article: Article) -> DuplicateInfo:
        return DuplicateInfo(article.id)

    def forget(self, article_id: str) -> None:
        pass


class NoAnalysis:
    """Extractor, aligner and summarizer that find nothing (store tests run with analyze=False)."""

    def extract(self, article: Article) -> ArticleAnalysis:
        return ArticleAnalysis(article.id)

    def extract_many(self, articles: Sequence[Article]) -> list[ArticleAnalysis]:
        return [ArticleAnalysis(a.id) for a in articles]

    def align(self, articles: Any, analyses: Any, copies: Any) -> dict[str, list[dict[str, Any]]]:
        return {}

    def summarize(self, articles: Any, analyses: Any, alignment: Any) -> dict[str, list[dict[str, Any]]]:
        return {}


def stub_pipeline() -> Pipeline:
    """A pipeline with :class:`KeywordClusterer` and no models."""
    none = NoAnalysis()
    return Pipeline(deduper=NoDedupe(), clusterer=KeywordClusterer(), extractor=none, aligner=none, summarizer=none)


def article(aid: str, title: str = "Dam gates opened", text: str | None = None, url: str | None = None) -> Article:
    """A small hand-made article."""
    body = text or f"Engineers opened two spillway gates at the dam on Tuesday, report {aid} said."
    return Article(id=aid, title=title, text=body, source="test", url=url, origin=f"test:{aid}")
