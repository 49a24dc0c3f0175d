"""Where built-in stages are registered, the same way a plugin would register its own.

``build_pipeline(preset)`` wires a :class:`~newsweave.pipeline.Pipeline`. Any
role can be overridden by passing an object with that role's methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .embed import Embedder, HashingEmbedder, default_embedder
from .errors import ConfigError
from .models import Article, ArticleAnalysis
from .pipeline import Aligner, Clusterer, Deduper, Extractor, Pipeline, Summarizer


def _gpu_embedder() -> Embedder:
    from .embed_gpu import GpuMiniLMEmbedder  # torch is optional: imported only when asked for

    return GpuMiniLMEmbedder()


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "minilm": default_embedder,
    "hashing": HashingEmbedder,
    "gpu": _gpu_embedder,
}


def make_embedder(name: str) -> Embedder:
    """An embedder by registered name."""
    try:
        return EMBEDDERS[name]()
    except KeyError:
        raise ConfigError(f"unknown embedder {name!r}; choose one of {sorted(EMBEDDERS)}") from None


def build_pipeline(
    embedder: Embedder | str = "minilm",
    *,
    deduper: Deduper | None = None,
    clusterer: Clusterer | None = None,
    extractor: Extractor | None = None,
    aligner: Aligner | None = None,
    summarizer: Summarizer | None = None,
    **options: Any,
) -> Pipeline:
    """The default pipeline, with any role replaced by the caller's object."""
    from .align import SimilarityAligner
    from .extract import SpacyExtractor
    from .summarize import ExtractiveSummarizer

    emb = make_embedder(embedder) if isinstance(embedder, str) else embedder
    return Pipeline(
        deduper=deduper or default_deduper(),
        clusterer=clusterer or default_clusterer(),
        extractor=extractor or SpacyExtractor(),
        aligner=aligner or SimilarityAligner(emb),
        summarizer=summarizer or ExtractiveSummarizer(),
    )


def default_deduper() -> Deduper:
    """The built-in dedupe stage (MinHash LSH)."""
    from .dedupe import MinHashDeduper

    return MinHashDeduper()


def default_clusterer() -> Clusterer:
    """The built-in cluster stage: themes from an HNSW index of centroids, events within each theme."""
    from .events import EventClusterer

    return EventClusterer()


class PlacementOnly:
    """Stands in for the analysis stages of a pipeline that only places articles."""

    def _refuse(self) -> NoReturn:
        raise ConfigError("this pipeline only places articles: build it with build_pipeline() to analyze stories")

    def extract(self, article: Article) -> ArticleAnalysis:
        self._refuse()

    def extract_many(self, articles: Sequence[Article]) -> list[ArticleAnalysis]:
        self._refuse()

    def align(self, articles: Sequence[Article], analyses: Sequence[ArticleAnalysis], copies: dict[str, str]) -> Any:
        self._refuse()

    def summarize(self, articles: Sequence[Article], analyses: Sequence[ArticleAnalysis], alignment: Any) -> Any:
        self._refuse()


def build_placement(*, deduper: Deduper | None = None, clusterer: Clusterer | None = None) -> Pipeline:
    """The placement half of the default pipeline (dedupe + cluster), with no model loaded.

    It places articles exactly as :func:`build_pipeline` does (the same default
    deduper and clusterer); ``newsweave cluster`` and ``newsweave eval clustering``
    use it, so they neither load nor depend on the analysis stages.
    """
    rest = PlacementOnly()
    return Pipeline(
        deduper=deduper or default_deduper(),
        clusterer=clusterer or default_clusterer(),
        extractor=rest,
        aligner=rest,
        summarizer=rest,
    )
