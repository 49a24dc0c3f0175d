"""Evaluation of the align stage's facts against hand-annotated claims.

The gold (``tests/fixtures/ecbplus_facts_gold.json``) lists, for a few
multi-article stories, every claim its annotated sentences state and which
sentences state it. Three measures:

* **pairs**: two annotated sentences of different articles state one claim
  (gold) / stand in one fact (newsweave): precision, recall, F1;
* **corroboration**: an annotated sentence states a claim that two or more
  articles make (gold) / its fact's evidence spans two or more articles
  (newsweave; a wire copy, one source under the contract's rule, counts here as
  the annotation counts it): precision, recall, F1 over sentences;
* **citations**: another article states one of an annotated sentence's claims
  (gold) / is among the sentence's citations (newsweave, the articles a summary
  sentence would cite): precision, recall, F1 over (sentence, article) pairs.

Sentences are named by article id and :func:`sentence_key`, a hash of their
first words, so the gold stores no article text.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .align import SimilarityAligner
from .evaluate import load_labelled
from .models import Article, ArticleAnalysis


def sentence_key(text: str, words: int = 6) -> str:
    """The first 12 hex digits of sha1 of the sentence's first ``words`` words joined by spaces."""
    return hashlib.sha1(" ".join(text.split()[:words]).encode("utf-8")).hexdigest()[:12]


def _f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def score_story(
    story: dict[str, Any],
    analyses: Sequence[ArticleAnalysis],
    facts: Sequence[dict[str, Any]],
    sentences: Sequence[dict[str, Any]] = (),
) -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) of pairs, of corroborated sentences,
    and of citations: (sentence, other article) where the article states one of the sentence's
    claims (gold) / is among the sentence's ``citations`` in the align stage's sentence scores."""
    name = {(s.article, s.index): (s.article, sentence_key(s.text)) for an in analyses for s in an.sentences}
    annotated = [tuple(k) for k in story["annotated"]]
    claims: dict[tuple[str, str], set[int]] = {}
    spread: dict[int, set[str]] = {}
    for i, claim in enumerate(story["facts"]):
        for article, key in claim["sentences"]:
            claims.setdefault((article, key), set()).add(i)
            spread.setdefault(i, set()).add(article)
    group: dict[tuple[str, str], int] = {}
    status: dict[tuple[str, str], str] = {}
    for gi, fact in enumerate(facts):
        for e in fact["evidence"]:
            key = name.get((e["article"], e["sentence"]))
            if key is not None:
                # Found in two or more articles: the annotation counts articles, so a wire copy
                # (one source by the contract's rule, ``wire_copy``) counts as found here too.
                spans = len({x["article"] for x in fact["evidence"]})
                group[key], status[key] = gi, "several" if spans >= 2 else "one"
    pairs = [0, 0, 0]
    for a, b in itertools.combinations(annotated, 2):
        if a[0] == b[0]:
            continue
        gold = bool(claims.get(a, set()) & claims.get(b, set()))
        pred = a in group and b in group and group[a] == group[b]
        pairs[0] += gold and pred
        pairs[1] += pred and not gold
        pairs[2] += gold and not pred
    corr = [0, 0, 0]
    for key in annotated:
        gold = any(len(spread[c]) >= 2 for c in claims.get(key, ()))
        pred = status.get(key) == "several"
        corr[0] += gold and pred
        corr[1] += pred and not gold
        corr[2] += gold and not pred
    cites = [0, 0, 0]
    cited = {
        name[(sc["article"], sc["sentence"])]: set(sc["citations"])
        for sc in sentences
        if (sc["article"], sc["sentence"]) in name
    }
    for key in annotated:
        if key not in cited or not claims.get(key):
            continue  # citations are judged for sentences that state something
        gold_arts = {a for c in claims[key] for a in spread[c]} - {key[0]}
        pred_arts = cited[key] - {key[0]}
        cites[0] += len(gold_arts & pred_arts)
        cites[1] += len(pred_arts - gold_arts)
        cites[2] += len(gold_arts - pred_arts)
    return {
        "pairs": (pairs[0], pairs[1], pairs[2]),
        "corroboration": (corr[0], corr[1], corr[2]),
        "citations": (cites[0], cites[1], cites[2]),
    }


def evaluate_facts(
    gold_path: str | Path,
    articles_path: str | Path,
    aligner: SimilarityAligner | None = None,
    analyses: dict[str, ArticleAnalysis] | None = None,
) -> dict[str, dict[str, float]]:
    """Pair and corroboration precision/recall/F1 of the align stage's facts over the gold stories.

    ``analyses`` may hold extract results by article id (reused, and filled in), so that a
    caller trying several aligners parses each article once.
    """
    from .extract import SpacyExtractor
    from .registry import make_embedder

    gold = json.loads(Path(gold_path).read_text(encoding="utf-8"))
    articles, _ = load_labelled(articles_path)
    by_id: dict[str, Article] = {a.id: a for a in articles}
    aligner = aligner or SimilarityAligner(make_embedder("minilm"))
    cache = analyses if analyses is not None else {}
    extractor = None
    totals = {"pairs": [0, 0, 0], "corroboration": [0, 0, 0], "citations": [0, 0, 0]}
    for story in gold["stories"]:
        chosen = [by_id[a] for a in story["articles"]]
        missing = [a for a in chosen if a.id not in cache]
        if missing:
            extractor = extractor or SpacyExtractor()
            cache.update(zip((a.id for a in missing), extractor.extract_many(missing), strict=True))
        ans = [cache[a.id] for a in chosen]
        aligned = aligner.align(chosen, ans, {})
        for name, counts in score_story(story, ans, aligned["facts"], aligned["sentences"]).items():
            totals[name] = [t + c for t, c in zip(totals[name], counts, strict=True)]
    return {name: _f1(*counts) for name, counts in totals.items()}
