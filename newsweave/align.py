"""The align stage: what the sources say together, alone, or in conflict.

First version:
    * entities: mentions resolved across articles by normalised name, surname
      and fuzzy spelling (rapidfuzz), never across two different full names;
    * quotes: the same quote in several outlets (fuzzy text match) becomes one;
    * figures: grouped by what they count, compared within their hedges;
    * facts: sentences aligned across articles by embedding similarity;
    * shared passages: word-for-word passages (see :mod:`newsweave.dedupe`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dedupe import shared_passages
from .embed import Embedder
from .models import Article, ArticleAnalysis, EntityMention, Figure, Quote, Sentence

TITLES = {
    "gen",
    "general",
    "maj",
    "major",
    "president",
    "mr",
    "mrs",
    "ms",
    "dr",
    "sen",
    "senator",
    "rep",
    "gov",
    "governor",
    "prime",
    "minister",
    "secretary",
    "ayatollah",
    "supreme",
    "leader",
    "col",
    "lt",
    "capt",
    "sir",
    "lord",
    "the",
}


def entity_key_tokens(name: str) -> list[str]:
    """Tokens of a name without titles or possessives: "Maj Gen Qasem Soleimani's" -> [qasem, soleimani]."""
    name = re.sub(r"['’]s\b", "", name)
    toks = [t for t in re.split(r"\s+", name.strip()) if t]
    while len(toks) > 1 and toks[0].lower().rstrip(".") in TITLES:
        toks = toks[1:]
    return [t.lower().strip(".,") for t in toks if t.strip(".,")]


def _similar(a: str, b: str) -> bool:
    from rapidfuzz.fuzz import ratio

    return a == b or (len(a) > 3 and len(b) > 3 and ratio(a, b) >= 85)


def resolve_entities(mentions: Sequence[EntityMention]) -> list[dict[str, Any]]:
    """Group mentions into entities: full names first, then surnames and variants attach to them."""
    groups: list[dict[str, Any]] = []
    ordered = sorted(mentions, key=lambda m: -len(entity_key_tokens(m.text)))
    for m in ordered:
        toks = entity_key_tokens(m.text)
        if not toks:
            continue
        home = None
        for g in groups:
            if g["type"] != m.label and not (m.label in {"GPE", "LOC", "NORP"} and g["type"] in {"GPE", "LOC"}):
                continue
            gt = g["tokens"]
            same_name = len(toks) == len(gt) and all(_similar(a, b) for a, b in zip(toks, gt, strict=True))
            surname = m.label == "PERSON" and len(toks) == 1 and len(gt) > 1 and _similar(toks[0], gt[-1])
            if same_name or surname:
                home = g
            if home:
                break
        if home is None:
            home = {"tokens": toks, "type": m.label, "mentions": []}
            groups.append(home)
        home["mentions"].append(m)
    out = []
    for g in groups:
        names: dict[str, int] = defaultdict(int)
        for m in g["mentions"]:
            names[re.sub(r"['’]s$", "", m.text)] += 1
        name = max(names, key=lambda n: (len(entity_key_tokens(n)), names[n], len(n)))
        out.append(
            {
                "name": name,
                "type": g["type"],
                "aliases": sorted(n for n in names if n != name),
                "articles": sorted({m.article for m in g["mentions"]}),
                "mentions": len(g["mentions"]),
            }
        )
    out.sort(key=lambda e: (-len(e["articles"]), -e["mentions"], e["name"]))
    return out


def merge_quotes(quotes: Sequence[Quote], texts: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per distinct quote; a quote repeated (even trimmed) across outlets is merged."""
    from rapidfuzz.fuzz import partial_ratio

    merged: list[dict[str, Any]] = []
    for q in sorted(quotes, key=lambda q: -len(q.text)):
        norm = " ".join(re.findall(r"\w+", q.text.lower()))
        home = None
        for g in merged:
            if partial_ratio(norm, g["_norm"]) >= 88:
                home = g
                break
        if home is None:
            home = {"speaker": q.speaker, "text": q.text, "mentions": [], "_norm": norm}
            merged.append(home)
        if home["speaker"] is None and q.speaker:
            home["speaker"] = q.speaker
        home["mentions"].append(
            {"article": q.article, "text": q.text, "start": q.start, "end": q.end, "speaker": q.speaker}
        )
    for g in merged:
        g.pop("_norm")
        g["articles"] = sorted({m["article"] for m in g["mentions"]})
        g["variants"] = sorted({m["text"] for m in g["mentions"]} - {g["text"]})
    merged.sort(key=lambda g: (-len(g["articles"]), -len(g["text"])))
    return merged


_SYNONYMS = {
    "soldiers": "troops",
    "soldier": "troops",
    "troop": "troops",
    "people": "people",
    "persons": "people",
    "dead": "deaths",
    "killed": "deaths",
}


def _bounds(f: Figure) -> tuple[float, float]:
    v = f.value
    if f.approximate:
        return v / 10, v * 10
    h = f.hedge or ""
    if h in {"more than", "over", "at least"}:
        return v, v * 1.5
    if h in {"less than", "fewer than", "under", "at most", "up to"}:
        return v * 0.5, v
    if h in {"almost", "nearly", "close to"}:
        return v * 0.9, v
    if h:
        return v * 0.9, v * 1.1
    return v * 0.98, v * 1.02


def align_figures(figures: Sequence[Figure]) -> list[dict[str, Any]]:
    """Figures grouped by what they count; agree/conflict by overlap of their hedged ranges."""
    by_what: dict[str, list[Figure]] = defaultdict(list)
    for f in figures:
        if f.counted:
            by_what[_SYNONYMS.get(f.counted, f.counted)].append(f)
    out: list[dict[str, Any]] = []
    for what, fs in by_what.items():
        arts = {f.article for f in fs}
        if len(arts) < 2:
            status = "single-source"
        else:
            ranges = [_bounds(f) for f in fs if not f.approximate] or [_bounds(f) for f in fs]
            lo, hi = max(r[0] for r in ranges), min(r[1] for r in ranges)
            status = "agree" if lo <= hi else "conflict"
        out.append(
            {
                "what": what,
                "status": status,
                "mentions": [
                    {
                        "article": f.article,
                        "value": f.value,
                        "unit": f.unit,
                        "hedge": f.hedge,
                        "text": f.text,
                        "start": f.start,
                        "end": f.end,
                    }
                    for f in fs
                ],
            }
        )
    out.sort(key=lambda g: (-len({m["article"] for m in g["mentions"]}), g["what"]))
    return out


class SimilarityAligner:
    """Aligns sentences across articles by embedding cosine similarity."""

    def __init__(self, embedder: Embedder, threshold: float = 0.72) -> None:
        self.embedder = embedder
        self.threshold = threshold

    def align(
        self, articles: Sequence[Article], analyses: Sequence[ArticleAnalysis], copies: dict[str, str]
    ) -> dict[str, list[dict[str, Any]]]:
        texts = {a.id: a.text for a in articles}
        return {
            "facts": self.facts(analyses, copies),
            "figures": align_figures([f for an in analyses for f in an.figures]),
            "quotes": merge_quotes([q for an in analyses for q in an.quotes], texts),
            "entities": resolve_entities([e for an in analyses for e in an.entities]),
            "shared_passages": shared_passages(articles),
        }

    def facts(self, analyses: Sequence[ArticleAnalysis], copies: dict[str, str]) -> list[dict[str, Any]]:
        sents: list[Sentence] = [s for an in analyses for s in an.sentences if len(s.text.split()) >= 5]
        if not sents:
            return []
        vecs = self.embedder.embed([s.text for s in sents])
        sims = vecs @ vecs.T
        figures = {(f.article, f.sentence): f for an in analyses for f in an.figures if f.counted}
        used: set[int] = set()
        facts: list[dict[str, Any]] = []
        for i, s in enumerate(sents):
            if i in used:
                continue
            group = [i]
            for j in np.argsort(-sims[i]):
                j = int(j)
                if j == i or j in used or sims[i, j] < self.threshold:
                    continue
                if sents[j].article in {sents[k].article for k in group}:
                    continue
                group.append(j)
            used.update(group)
            articles = {sents[k].article for k in group}
            independent = {copies.get(a, a) for a in articles}
            status = "corroborated" if len(independent) >= 2 else "single-source"
            figs = [
                figures[(sents[k].article, sents[k].index)]
                for k in group
                if (sents[k].article, sents[k].index) in figures
            ]
            if len(figs) >= 2 and align_figures(figs) and any(g["status"] == "conflict" for g in align_figures(figs)):
                status = "conflicting"
            facts.append(
                {
                    "text": s.text.strip(),
                    "status": status,
                    "evidence": [
                        {
                            "article": sents[k].article,
                            "text": sents[k].text,
                            "start": sents[k].start,
                            "end": sents[k].end,
                            "sentence": sents[k].index,
                        }
                        for k in group
                    ],
                    "sources": len(independent),
                    "wire_copy": len(independent) < len(articles),
                }
            )
        order = {"conflicting": 0, "corroborated": 1, "single-source": 2}
        facts.sort(key=lambda f: (order[f["status"]], -f["sources"]))
        return facts
