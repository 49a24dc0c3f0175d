"""The summarize stage: an extractive, cited summary and a dated timeline.

First version: corroborated facts are ranked by how many independent sources
carry them, then picked greedily without redundancy (MMR-style on word
overlap) until the word budget is reached. Each summary sentence cites every
article whose evidence supports it. Single-source facts follow, marked; the
timeline lists sentences with resolved dates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .models import Article, ArticleAnalysis

_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 3}


class ExtractiveSummarizer:
    """Greedy coverage of corroborated facts within ``max_words`` (at least ``min_words``)."""

    def __init__(self, max_words: int = 120, min_words: int = 60, single_source_limit: int = 5) -> None:
        self.max_words = max_words
        self.min_words = min_words
        self.single_source_limit = single_source_limit

    def summarize(
        self,
        articles: Sequence[Article],
        analyses: Sequence[ArticleAnalysis],
        alignment: dict[str, list[dict[str, Any]]],
    ) -> dict[str, list[dict[str, Any]]]:
        facts = alignment.get("facts", [])
        ranked = sorted(
            facts,
            key=lambda f: (
                -f.get("sources", 1),
                f["status"] != "corroborated",
                min(e["sentence"] for e in f["evidence"]),
            ),
        )
        summary: list[dict[str, Any]] = []
        seen: set[str] = set()
        total = 0
        for f in ranked:
            text = " ".join(f["text"].split())
            n = len(text.split())
            if total + n > self.max_words and total >= self.min_words:
                break
            if total + n > self.max_words:
                continue
            w = _words(text)
            if w and len(w & seen) / len(w) > 0.6:
                continue
            summary.append(
                {"text": text, "citations": sorted({e["article"] for e in f["evidence"]}), "status": f["status"]}
            )
            seen |= w
            total += n
        single = [
            {"text": " ".join(f["text"].split()), "citations": sorted({e["article"] for e in f["evidence"]})}
            for f in facts
            if f["status"] == "single-source" and f not in ranked[: len(summary)]
        ][: self.single_source_limit]
        return {"summary": summary, "single_source": single, "timeline": timeline(analyses)}


def timeline(analyses: Sequence[ArticleAnalysis]) -> list[dict[str, Any]]:
    """Dated events: each sentence with a date mention, merged across articles by date and wording.

    Dates that could not be resolved (no publication date to anchor "on Friday")
    are kept with ``date: null`` and their ``expression``, after the dated ones.
    """
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for an in analyses:
        sents = {s.index: s for s in an.sentences}
        for d in an.dates:
            if d.sentence not in sents:
                continue
            text = " ".join(sents[d.sentence].text.split())
            key = (d.date or "", " ".join(sorted(_words(text)))[:80])
            entry = entries.setdefault(key, {"date": d.date, "text": text, "citations": [], "expression": d.text})
            if an.article not in entry["citations"]:
                entry["citations"].append(an.article)
    return sorted(entries.values(), key=lambda e: (e["date"] is None, e["date"] or "", -len(e["citations"])))
