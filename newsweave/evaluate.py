"""Evaluation: clustering scores (B-cubed, pairwise) for labelled JSONL.

``newsweave eval clustering FILE.jsonl`` feeds the articles one at a time, in
file order, through the same engine as ingestion, and scores the stories
against the gold ``story`` field.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InputError
from .ingest import parse_record
from .models import Article


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
    return {
        "articles": len(gold),
        "gold_stories": len(set(gold.values())),
        "predicted_stories": len({pred[i] for i in gold}),
        "bcubed": bcubed(gold, pred),
        "pairwise": pairwise(gold, pred),
    }
