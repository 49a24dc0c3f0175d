"""The pipeline: ingest → dedupe → cluster → extract → align → summarize.

Each stage is a role with a declared contract (a Protocol below); built-in
implementations are registered in :mod:`newsweave.registry` and any object with
the same methods can replace them (``Pipeline(clusterer=MyClusterer())``).
The runner names the stage and the article or story whenever a stage fails.

Placement (dedupe + cluster) is streaming: one article at a time, each placed
at once. Analysis (extract + align + summarize) works on one story's articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from .errors import NewsweaveError, StageError
from .models import Article, ArticleAnalysis, DuplicateInfo, Story, StoryAssignment


@runtime_checkable
class Deduper(Protocol):
    """Stage ``dedupe``: reads an Article; assigns ``DuplicateInfo.copy_of`` (near-duplicate of an earlier one)."""

    def check(self, article: Article) -> DuplicateInfo: ...

    def forget(self, article_id: str) -> None: ...


@runtime_checkable
class Clusterer(Protocol):
    """Stage ``cluster``: reads an Article (+ its DuplicateInfo); assigns it a story id, at once.

    ``export``/``restore`` move its state to and from JSON-compatible data, so a
    store can resume streaming where the last run stopped.
    """

    def add(self, article: Article, duplicate: DuplicateInfo | None = None) -> StoryAssignment: ...

    def export(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Extractor(Protocol):
    """Stage ``extract``: reads an Article; assigns sentences, entities, quotes, figures, dates."""

    def extract(self, article: Article) -> ArticleAnalysis: ...

    def extract_many(self, articles: Sequence[Article]) -> list[ArticleAnalysis]: ...


@runtime_checkable
class Aligner(Protocol):
    """Stage ``align``: reads one story's articles and analyses; assigns facts, figures, quotes,
    entities and shared passages (contract fields, as dicts)."""

    def align(
        self,
        articles: Sequence[Article],
        analyses: Sequence[ArticleAnalysis],
        copies: dict[str, str],
    ) -> dict[str, list[dict[str, Any]]]: ...


@runtime_checkable
class Summarizer(Protocol):
    """Stage ``summarize``: reads a story's articles, analyses and alignment; assigns
    ``summary``, ``single_source`` and ``timeline``."""

    def summarize(
        self,
        articles: Sequence[Article],
        analyses: Sequence[ArticleAnalysis],
        alignment: dict[str, list[dict[str, Any]]],
    ) -> dict[str, list[dict[str, Any]]]: ...


T = TypeVar("T")


def run_stage(stage: str, subject: str, fn: Callable[[], T]) -> T:
    """Run one stage call; any unexpected exception becomes a StageError naming stage and subject."""
    try:
        return fn()
    except NewsweaveError:
        raise
    except Exception as exc:  # a stage bug must name where it happened, not crash the batch
        raise StageError(stage, subject, exc) from exc


@dataclass
class Pipeline:
    """The stages, wired. Build one with :func:`newsweave.registry.build_pipeline`."""

    deduper: Deduper
    clusterer: Clusterer
    extractor: Extractor
    aligner: Aligner
    summarizer: Summarizer
    copies: dict[str, str] = field(default_factory=dict)

    def place(self, article: Article) -> StoryAssignment:
        """Dedupe and cluster one article (streaming)."""
        dup = run_stage("dedupe", f"article {article.id!r}", lambda: self.deduper.check(article))
        if dup.copy_of:
            self.copies[article.id] = dup.copy_of
        assignment = run_stage("cluster", f"article {article.id!r}", lambda: self.clusterer.add(article, dup))
        if dup.copy_of and not assignment.copy_of:
            assignment.copy_of = dup.copy_of
        return assignment

    def extract(self, articles: Sequence[Article]) -> list[ArticleAnalysis]:
        """Extract every article; the failing article is named in the error."""
        try:
            return self.extractor.extract_many(articles)
        except NewsweaveError:
            raise
        except Exception:
            # Find and name the culprit: re-run one by one.
            return [self._extract_one(a) for a in articles]

    def _extract_one(self, article: Article) -> ArticleAnalysis:
        return run_stage("extract", f"article {article.id!r}", lambda: self.extractor.extract(article))

    def analyze_story(
        self,
        story_id: str,
        articles: Sequence[Article],
        analyses: Sequence[ArticleAnalysis] | None = None,
        copies: dict[str, str] | None = None,
        aliases: Iterable[str] = (),
    ) -> Story:
        """Extract (unless given), align and summarize one story's articles."""
        articles = sorted(articles, key=_chronological_key)
        if analyses is None:
            analyses = self.extract(articles)
        else:
            by_id = {a.article: a for a in analyses}
            analyses = [by_id[a.id] for a in articles]
        story_copies = {k: v for k, v in (copies if copies is not None else self.copies).items()}
        subject = f"story {story_id!r}"
        alignment = run_stage("align", subject, lambda: self.aligner.align(articles, analyses, story_copies))
        summary = run_stage("summarize", subject, lambda: self.summarizer.summarize(articles, analyses, alignment))
        return Story(
            id=story_id,
            headline=pick_headline(articles, story_copies),
            articles=[article_ref(a, story_copies.get(a.id)) for a in articles],
            summary=summary.get("summary", []),
            facts=alignment.get("facts", []),
            figures=alignment.get("figures", []),
            quotes=alignment.get("quotes", []),
            entities=alignment.get("entities", []),
            timeline=summary.get("timeline", []),
            shared_passages=alignment.get("shared_passages", []),
            single_source=summary.get("single_source", []),
            aliases=sorted(aliases),
        )


def _chronological_key(a: Article) -> tuple[str, str]:
    return (a.published or "9999", a.id)


def article_ref(article: Article, copy_of: str | None = None) -> dict[str, Any]:
    """The contract's ``articles[]`` entry."""
    return {
        "id": article.id,
        "source": article.source,
        "title": article.title,
        "published": article.published,
        "url": article.url,
        "copy_of": copy_of,
    }


def pick_headline(articles: Sequence[Article], copies: dict[str, str]) -> str:
    """The story's headline: the title of the earliest original article with a real title."""
    originals = [a for a in articles if a.id not in copies] or list(articles)
    for a in originals:
        if a.title and len(a.title.split()) >= 3:
            return a.title
    return originals[0].title if originals else ""
