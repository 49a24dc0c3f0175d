"""Evaluation: clustering scores (B-cubed, pairwise) for labelled JSONL.

``newsweave eval clustering FILE.jsonl`` feeds the articles one at a time, in
file order, through the same engine as ingestion, and scores the stories
against the gold ``story`` field.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .ingest import parse_record
from .models import Article, Placements

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .pipeline import Pipeline


def bcubed(gold: Mapping[str, str], pred: Mapping[str, str]) -> dict[str, float]:
    """B-cubed precision, recall and F1 over the items in ``gold``."""
    items = list(gold)
    gold_groups: dict[str, set[str]] = defaultdict(set)
    pred_groups: dict[str, set[str]] = defaultdict(set)
    for i in items:
        gold_groups[gold[i]].add(i)
        pred_groups[pred[i]].add(i)
    p = r = 0.0
    for i in items:
        g, c = gold_groups[gold[i]], pred_groups[pred[i]]
        inter = len(g & c)
        p += inter / len(c)
        r += inter / len(g)
    n = len(items) or 1
    p, r = p / n, r / n
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def pairwise(gold: Mapping[str, str], pred: Mapping[str, str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 (pairs of items placed together)."""

    def pairs(labels: Mapping[str, str]) -> int:
        return sum(n * (n - 1) // 2 for n in Counter(labels[i] for i in gold).values())

    both = Counter((gold[i], pred[i]) for i in gold)
    tp = sum(n * (n - 1) // 2 for n in both.values())
    pp, gp = pairs(pred), pairs(gold)
    p = tp / pp if pp else 1.0
    r = tp / gp if gp else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def load_labelled(path: str | Path, label: str = "story") -> tuple[list[Article], dict[str, str]]:
    """Articles and their gold labels from a JSONL file with a ``story`` field."""
    articles: list[Article] = []
    gold: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            origin = f"{path}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(origin, f"malformed JSON: {exc.msg}") from exc
            if label not in rec:
                raise InputError(origin, f"no {label!r} field: evaluation needs gold labels")
            art = parse_record(rec, default_id=f"line-{n}", origin=origin)
            articles.append(art)
            gold[art.id] = str(rec[label])
    return articles, gold


def clustering_scores(gold: Mapping[str, str], pred: Mapping[str, str]) -> dict[str, Any]:
    """Counts, B-cubed and pairwise scores of a predicted partition (``article -> story``) against gold."""
    return {
        "articles": len(gold),
        "gold_stories": len(set(gold.values())),
        "predicted_stories": len({pred[i] for i in gold}),
        "bcubed": bcubed(gold, pred),
        "pairwise": pairwise(gold, pred),
    }


def place_stream(
    articles: Iterable[Article], pipeline: Pipeline | None = None, step: Callable[[int], None] | None = None
) -> dict[str, str]:
    """Place articles one at a time, in order, as ingestion does; return each article's final story.

    Later merges and moves relabel earlier articles (a merged story's id becomes an
    alias of the surviving one), so the result is the partition at the end of the stream.

    Args:
        articles: the stream, in arrival order.
        pipeline: the engine; when None, :func:`~newsweave.registry.build_placement`: the
            default deduper and clusterer, the same as ingestion, without the analysis models.
        step: called with 1 after each article (a progress bar).
    """
    from .registry import build_placement

    pipe = pipeline or build_placement()
    placements = Placements()
    for article in articles:
        placements.record(article.id, pipe.place(article))
        if step:
            step(1)
    return placements.final()


def evaluate_clustering(path: str | Path, pipeline: Pipeline | None = None) -> dict[str, Any]:
    """Stream a labelled JSONL through the engine and score its stories against the ``story`` field."""
    articles, gold = load_labelled(path)
    return clustering_scores(gold, place_stream(articles, pipeline))
