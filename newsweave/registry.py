"""Where built-in stages are registered, the same way a plugin would register its own.

``build_pipeline(preset)`` wires a :class:`~newsweave.pipeline.Pipeline`. Any
role can be overridden by passing an object with that role's methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .embed import Embedder, HashingEmbedder, default_embedder
from .errors import ConfigError
from .pipeline import Aligner, Clusterer, Deduper, Extractor, Pipeline, Summarizer

EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "minilm": default_embedder,
    "hashing": HashingEmbedder,
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
    from .cluster import StreamClusterer
    from .dedupe import MinHashDeduper
    from .extract import SpacyExtractor
    from .summarize import ExtractiveSummarizer

    emb = make_embedder(embedder) if isinstance(embedder, str) else embedder
    return Pipeline(
        deduper=deduper or MinHashDeduper(),
        clusterer=clusterer or StreamClusterer(),
        extractor=extractor or SpacyExtractor(),
        aligner=aligner or SimilarityAligner(emb),
        summarizer=summarizer or ExtractiveSummarizer(),
    )
