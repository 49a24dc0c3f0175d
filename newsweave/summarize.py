"""The summarize stage: an extractive, cited summary, single-source extras and a dated timeline.

Sentences are scored by a linear model over features the align stage
measures (position in the article, cross-source support, centrality,
similarity to the headlines, length), with weights fitted on the NeuS
*train* split against the human roundups (``newsweave.evaluate_summary.fit_weights``;
the numbers below are its output). Sentences are then taken best first,
skipping any that repeats what is already chosen, until the word budget is
spent. Each summary sentence cites every article that carries the same
statement (its fact's evidence, or a sentence close in meaning).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from .dates import is_event_date
from .models import Article, ArticleAnalysis, Sentence

#: Feature weights fitted on NeuS train (see ``newsweave eval summary --fit``); order of ``FEATURES``.
FEATURES = ("first", "early", "position", "support", "centrality", "title", "length", "quote", "cited")
WEIGHTS = (0.0, 0.0, -0.05, 0.3, 0.2, 0.3, 0.0, -0.05, 0.0)
INTERCEPT = 0.0
#: A candidate sharing this share of its content bigrams with the chosen text is redundant.
REDUNDANCY = 0.5

_WORD = re.compile(r"\w+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "i",
        "you",
        "his",
        "her",
        "their",
        "our",
        "not",
        "no",
        "will",
        "would",
        "said",
        "says",
    ]
)


def content_words(text: str) -> list[str]:
    """Lower-cased words without stop words."""
    return [w for w in (t.lower() for t in _WORD.findall(text)) if w not in _STOP]


def _bigrams(text: str) -> set[tuple[str, str]]:
    w = content_words(text)
    return set(itertools.pairwise(w)) | {(x, "") for x in w}


def features(sentence: Sentence, score: dict[str, Any], n_articles: int) -> list[float]:
    """The feature vector of one sentence, in the order of ``FEATURES``."""
    words = len(sentence.text.split())
    starts_quoted = sentence.text.lstrip()[:1] in "\"“'‘"
    return [
        1.0 if sentence.index == 0 else 0.0,
        1.0 / (1.0 + sentence.index),
        float(score.get("position", 0.0)),
        float(score.get("support", 0.0)),
        float(score.get("centrality", 0.0)),
        float(score.get("title_similarity", 0.0)),
        min(words, 60) / 60.0,
        1.0 if starts_quoted else 0.0,
        (len(score.get("citations", [])) - 1) / max(n_articles - 1, 1),
    ]


def score_sentences(
    analyses: Sequence[ArticleAnalysis],
    scores: Sequence[dict[str, Any]],
    weights: Sequence[float] = WEIGHTS,
    intercept: float = INTERCEPT,
) -> list[tuple[float, Sentence, dict[str, Any]]]:
    """Every sentence with its model score, best first (ties: earlier first)."""
    by_key = {(s["article"], s["sentence"]): s for s in scores}
    n = len(analyses)
    out = []
    for an in analyses:
        for s in an.sentences:
            sc = by_key.get((s.article, s.index), {"citations": [s.article]})
            value = intercept + sum(w * x for w, x in zip(weights, features(s, sc, n), strict=True))
            out.append((value, s, sc))
    out.sort(key=lambda t: (-t[0], t[1].index, t[1].article))
    return out


class ExtractiveSummarizer:
    """Best-scored, non-redundant sentences within ``max_words`` (see the module docstring).

    Args:
        max_words: Word budget of the summary.
        min_words: Keep adding (shorter) sentences until this many words, if any fit.
        single_source_limit: At most this many single-source facts after the summary.
        min_sentence_words: Shorter sentences (captions, bylines) are never chosen.
        overflow: Let the last sentence run past ``max_words`` (for a reader that cuts
            at the budget, as ROUGE evaluation does) instead of skipping it.
    """

    def __init__(
        self,
        max_words: int = 120,
        min_words: int = 60,
        single_source_limit: int = 5,
        min_sentence_words: int = 6,
        overflow: bool = False,
    ) -> None:
        self.overflow = overflow
        self.max_words = max_words
        self.min_words = min_words
        self.single_source_limit = single_source_limit
        self.min_sentence_words = min_sentence_words

    def summarize(
        self,
        articles: Sequence[Article],
        analyses: Sequence[ArticleAnalysis],
        alignment: dict[str, list[dict[str, Any]]],
    ) -> dict[str, list[dict[str, Any]]]:
        facts = alignment.get("facts", [])
        fact_of = {(e["article"], e["sentence"]): f for f in facts for e in f["evidence"]}
        ranked = score_sentences(analyses, alignment.get("sentences", []))
        chosen = self.select(ranked)
        summary = []
        used_facts: set[int] = set()
        for s, sc in chosen:
            fact = fact_of.get((s.article, s.index))
            cites = set(sc.get("citations", [s.article])) | {s.article}
            if fact is not None:
                used_facts.add(id(fact))
                cites |= {e["article"] for e in fact["evidence"]}
            status = fact["status"] if fact is not None else ("corroborated" if len(cites) > 1 else "single-source")
            summary.append({"text": s.text, "citations": sorted(cites), "status": status})
        rank = {(s.article, s.index): i for i, (_, s, _) in enumerate(ranked)}
        singles = [
            f
            for f in facts
            if f["status"] == "single-source"
            and id(f) not in used_facts
            and len(f["text"].split()) >= self.min_sentence_words
        ]
        singles.sort(key=lambda f: rank.get((f["evidence"][0]["article"], f["evidence"][0]["sentence"]), 1 << 30))
        single = [
            {
                "text": f["text"],
                "citations": sorted({e["article"] for e in f["evidence"]}),
                "status": "single-source",
            }
            for f in singles[: self.single_source_limit]
        ]
        return {"summary": summary, "single_source": single, "timeline": timeline(analyses, facts)}

    def select(self, ranked: Sequence[tuple[float, Sentence, dict[str, Any]]]) -> list[tuple[Sentence, dict[str, Any]]]:
        """Greedy choice within the budget, skipping redundant sentences."""
        chosen: list[tuple[Sentence, dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        total = 0
        for _, s, sc in ranked:
            n = len(s.text.split())
            if n < self.min_sentence_words or (total + n > self.max_words and not self.overflow):
                if total >= self.min_words:
                    break
                continue
            grams = _bigrams(s.text)
            if grams and len(grams & seen) / len(grams) > REDUNDANCY:
                continue
            chosen.append((s, sc))
            seen |= grams
            total += n
            if total >= self.max_words:
                break
        return chosen


def timeline(analyses: Sequence[ArticleAnalysis], facts: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Dated events: sentences with a day-level date, merged across articles when they state one fact.

    Dates that could not be resolved (no publication date to anchor "on Friday")
    keep ``date: null`` and their ``expression``, after the dated ones.
    """
    fact_of = {(e["article"], e["sentence"]): i for i, f in enumerate(facts) for e in f["evidence"]}
    entries: dict[tuple[str, object], dict[str, Any]] = {}
    for an in analyses:
        sents = {s.index: s for s in an.sentences}
        for d in an.dates:
            if d.sentence not in sents or not is_event_date(d.text):
                continue
            s = sents[d.sentence]
            key = (d.date or d.text.lower(), fact_of.get((s.article, s.index), (s.article, s.index)))
            entry = entries.setdefault(
                key,
                {
                    "date": d.date,
                    "text": s.text,
                    "citations": [],
                    "expression": d.text,
                    "evidence": [],
                },
            )
            if an.article not in entry["citations"]:
                entry["citations"].append(an.article)
                entry["evidence"].append({"article": s.article, "start": s.start, "end": s.end, "text": s.text})
    return sorted(entries.values(), key=lambda e: (e["date"] is None, e["date"] or "", -len(e["citations"])))
