"""The summarize stage: an extractive, cited summary, single-source extras and a dated timeline.

Sentences are chosen greedily for *coverage of what several articles say*:
a "concept" is a content word or word pair (lightly stemmed); its weight is
the number of articles beyond the first that carry it (headlines included,
since a headline is the outlet's own summary). Each step takes the sentence
with the most uncovered concept weight per word, plus a prior from features
the align stage measures (similarity to the headlines, position, support,
centrality; weights in ``WEIGHTS``, chosen on the NeuS *train* split with
``newsweave eval summary``), skipping sentences whose concepts are mostly
covered already, until the word budget is spent. This is the concept-coverage
objective of Gillick & Favre (2009), solved greedily. With ``overflow`` (a
reader who cuts at the budget, as ROUGE evaluation does), a sentence that would
run past the budget is valued by the words before the cut only.

An experimental alternative ranks sentences with :class:`SentenceScorer`,
gradient-boosted trees fitted on NeuS train (``scripts/train_summary_scorer.py``,
``resources/summary-scorer.json``) to predict each sentence's ROUGE-2 from cheap
features (``SCORER_FEATURES``); pass ``scorer=SentenceScorer.load()``. It is
off by default: in 5-fold cross-validation on 1,050 train records it is level
with the default (18.26 vs 18.10 ROUGE-2), and lower on NeuS val.

Only sentences that stand alone are chosen: not questions (subheadings,
rhetorical asks), not quotes without their speaker, and not the tail of a
quote opened in an earlier sentence.
Each summary sentence cites every article that carries the same statement
(its fact's evidence, or a sentence close in meaning). The summary shows what
most sources say first (selection order among equals); for a reader who cuts
at the budget (``overflow``) it keeps the selection order, best first.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .align import is_credit, is_question, words_outside_quotes
from .dates import day_named, is_date_line, is_event_date, is_stamp
from .extract import title_case
from .models import Article, ArticleAnalysis, DateMention, Sentence

#: Prior feature weights, in the order of ``FEATURES``; chosen on NeuS train (docs/analysis.md).
FEATURES = ("first", "early", "position", "support", "centrality", "title", "length", "quote", "cited")
WEIGHTS = (0.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.0, 0.0)
INTERCEPT = 0.0
#: Concept weights: a word pair counts fully, a single content word this much.
UNIGRAM_WEIGHT = 0.3
#: A candidate whose concepts are already covered beyond this share is redundant.
REDUNDANCY = 0.6
#: ... and beyond this share when its fact is already in the summary (chosen on 700 NeuS train
#: records: ROUGE-2 17.93 → 18.05; docs/analysis.md).
SAME_FACT_COVERED = 0.3

SCORER_PATH = Path(__file__).parent / "resources" / "summary-scorer.json"

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


_SPEAKER_PRONOUNS = frozenset({"he", "she", "they", "it", "we"})
_QUOTE_TAIL = re.compile(r'[.!?,]["\u201d\u2019]\W*$')


#: Openings that lean on a sentence the summary does not carry: a connective ("On the other
#: hand, …", "As such, …") or a pronoun whose person is named elsewhere ("He said …").
_LEANS_BACK = re.compile(
    r"(?:(?:On the other hand|As such|However|Meanwhile|Instead|Nonetheless|Nevertheless|Moreover|Furthermore|"
    r"In addition|Besides|Otherwise|Likewise|Similarly|That said|Even so),"
    r"|(?:Also|Then|But|And|Yet|So|He|She|They|It|His|Her|Their|Its)(?=[\s,'\u2019]))",
)


def is_headline(text: str) -> bool:
    """A headline left in the text ("Trial Begins for Kraft Shooting Suspect"): most words of
    four letters or more capitalised, and no full stop, question or exclamation mark at the end."""
    t = text.strip().rstrip("\"\u201d\u2019')")
    return title_case(t) and t[-1:] not in ".!?"


def stands_alone(text: str) -> bool:
    """Whether a sentence reads on its own in a summary: not a question, credit line, filing
    stamp or headline left in the text, not leaning on a sentence before it (a connective or
    pronoun opening), not a quote without
    its speaker, and not the rest of a quote that an earlier sentence opened
    ("We did not take action to start a war.”")."""
    t = text.strip()
    if is_question(t) or is_credit(t) or is_date_line(t) or is_headline(t) or _LEANS_BACK.match(t):
        return False
    first = re.search("[\u201c\u201d]", t)
    if first is not None and first.group(0) == "\u201d":
        return False
    if t.count('"') % 2 and not t.startswith('"') and _QUOTE_TAIL.search(t):
        return False
    if t.endswith(":"):
        return False  # a lead-in to what follows ("Here is what we know:")
    outside = words_outside_quotes(t)
    if t[:1] in "\"\u201c'\u2018" and outside and outside[0].lower() in _SPEAKER_PRONOUNS:
        return False  # '"…," he said.': who "he" is, an earlier sentence said
    return len(outside) >= 2  # '“…,” Trump said.' names its speaker


def content_words(text: str) -> list[str]:
    """Lower-cased words without stop words."""
    return [w for w in (t.lower() for t in _WORD.findall(text)) if w not in _STOP]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def concepts(text: str) -> set[tuple[str, str]]:
    """Content words and word pairs (pairs of two stop words excluded), lightly stemmed."""
    words = [_stem(t.lower()) for t in _WORD.findall(text)]
    pairs = {(a, b) for a, b in itertools.pairwise(words) if not (a in _STOP and b in _STOP)}
    return pairs | {(w, "") for w in words if w not in _STOP}


def concept_weights(articles: Sequence[Article], analyses: Sequence[ArticleAnalysis]) -> dict[tuple[str, str], float]:
    """Each concept's weight: how many articles (body or headline) beyond the first carry it."""
    counts: dict[tuple[str, str], int] = {}
    titles = {a.id: a.title for a in articles}
    for an in analyses:
        found = concepts(titles.get(an.article, ""))
        for s in an.sentences:
            found |= concepts(s.text)
        for c in found:
            counts[c] = counts.get(c, 0) + 1
    return {c: (n - 1) * (1.0 if c[1] else UNIGRAM_WEIGHT) for c, n in counts.items() if n > 1}


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


#: Features of the learned sentence scorer (``resources/summary-scorer.json``), in order.
SCORER_FEATURES = (
    "index",
    "first",
    "position",
    "article_sentences",
    "articles",
    "support",
    "centrality",
    "title_similarity",
    "cited",
    "words",
    "quote",
    "word_support",
    "pair_support",
    "title_words",
    "entity_support",
    "figures",
    "concept_density",
    "fact_sources",
    "rel_support",
    "rel_centrality",
    "rel_title_similarity",
    "rel_word_support",
    "rel_pair_support",
    "rel_title_words",
    "rel_concept_density",
)
#: Features also given relative to the story's best sentence (value minus the story's maximum):
#: which sentence to pick depends on the others in the story, not on an absolute level.
RELATIVE = (
    "support",
    "centrality",
    "title_similarity",
    "word_support",
    "pair_support",
    "title_words",
    "concept_density",
)


def _stems(text: str) -> list[str]:
    return [_stem(t.lower()) for t in _WORD.findall(text)]


def _share(items: set[Any], pools: dict[str, set[Any]], others: Sequence[str]) -> float:
    """Mean share of ``items`` found in each other article's pool."""
    if not items or not others:
        return 0.0
    return sum(len(items & pools[o]) / len(items) for o in others) / len(others)


def scorer_features(
    articles: Sequence[Article],
    analyses: Sequence[ArticleAnalysis],
    alignment: dict[str, list[dict[str, Any]]],
) -> list[tuple[Sentence, dict[str, Any], list[float]]]:
    """Every sentence with its align-stage scores and its feature vector (order: ``SCORER_FEATURES``).

    Besides the align stage's embedding scores, the features count how much of
    the sentence the *other* articles repeat in words (content words, word
    pairs, entity heads, figures) and how much of it the headlines carry: what
    several outlets report is what a roundup tells.
    """
    by_key = {(s["article"], s["sentence"]): s for s in alignment.get("sentences", [])}
    fact_sources = {
        (e["article"], e["sentence"]): len({x["article"] for x in f["evidence"]})
        for f in alignment.get("facts", [])
        for e in f["evidence"]
    }
    n = len(analyses)
    words_of: dict[str, set[str]] = {}
    pairs_of: dict[str, set[tuple[str, str]]] = {}
    ents_of: dict[str, set[str]] = {}
    for an in analyses:
        ws: set[str] = set()
        ps: set[tuple[str, str]] = set()
        for s in an.sentences:
            st = _stems(s.text)
            ws.update(st)
            ps.update(itertools.pairwise(st))
        words_of[an.article] = ws
        pairs_of[an.article] = ps
        ents_of[an.article] = {e.text.lower() for e in an.entities}
    title_words = {w for a in articles for w in _stems(a.title) if w not in _STOP}
    weights = concept_weights(articles, analyses)
    figures_in: dict[tuple[str, int], int] = {}
    ents_in: dict[tuple[str, int], set[str]] = {}
    for an in analyses:
        for f in an.figures:
            figures_in[(f.article, f.sentence)] = figures_in.get((f.article, f.sentence), 0) + 1
        for e in an.entities:
            ents_in.setdefault((e.article, e.sentence), set()).add(e.text.lower())
    out = []
    for an in analyses:
        others = [a.article for a in analyses if a.article != an.article]
        for s in an.sentences:
            key = (s.article, s.index)
            sc = by_key.get(key, {"citations": [s.article]})
            st = _stems(s.text)
            content = {w for w in st if w not in _STOP}
            pairs = {p for p in itertools.pairwise(st) if not (p[0] in _STOP and p[1] in _STOP)}
            ents = ents_in.get(key, set())
            n_words = len(s.text.split())

            out.append(
                (
                    s,
                    sc,
                    [
                        float(min(s.index, 30)),
                        1.0 if s.index == 0 else 0.0,
                        float(sc.get("position", 0.0)),
                        float(min(len(an.sentences), 100)),
                        float(n),
                        float(sc.get("support", 0.0)),
                        float(sc.get("centrality", 0.0)),
                        float(sc.get("title_similarity", 0.0)),
                        (len(sc.get("citations", [])) - 1) / max(n - 1, 1),
                        float(min(n_words, 80)),
                        1.0 if s.text.lstrip()[:1] in "\"“'‘" or "“" in s.text or '"' in s.text else 0.0,
                        _share(content, words_of, others),
                        _share(pairs, pairs_of, others),
                        len(content & title_words) / len(content) if content else 0.0,
                        _share(ents, ents_of, others),
                        float(min(figures_in.get(key, 0), 10)),
                        sum(weights.get(c, 0.0) for c in concepts(s.text)) / max(n_words, 1),
                        float(fact_sources.get(key, 1)),
                    ],
                )
            )
    if out:
        cols = [SCORER_FEATURES.index(f) for f in RELATIVE]
        top = np.array([x for _, _, x in out])[:, cols].max(axis=0)
        for _, _, x in out:
            x.extend(float(x[c] - t) for c, t in zip(cols, top, strict=True))
    return out


class SentenceScorer:
    """Gradient-boosted regression trees over ``SCORER_FEATURES``: a sentence's expected ROUGE-2
    against a human roundup (fitted on NeuS train by ``scripts/train_summary_scorer.py``).

    Args:
        params: The fitted trees and selection settings, as the training script writes them.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        if list(params["features"]) != list(SCORER_FEATURES):
            raise ValueError("the summary scorer was trained on other features; re-run scripts/train_summary_scorer.py")
        self.baseline = float(params["baseline"])
        self.trees = [
            (
                np.asarray(t["feature"], dtype=np.int64),
                np.asarray(t["threshold"], dtype=np.float64),
                np.asarray(t["left"], dtype=np.int64),
                np.asarray(t["right"], dtype=np.int64),
                np.asarray(t["leaf"], dtype=bool),
                np.asarray(t["value"], dtype=np.float64),
            )
            for t in params["trees"]
        ]
        selection = params.get("selection", {})
        self.redundancy = float(selection.get("redundancy", REDUNDANCY))
        self.coverage = float(selection.get("coverage", 0.0))

    @classmethod
    def load(cls, path: str | Path = SCORER_PATH) -> SentenceScorer:
        """The scorer shipped in ``newsweave/resources`` (or another file the script wrote)."""
        with open(path, encoding="utf-8") as fh:
            return cls(json.load(fh))

    def predict(self, x: Any) -> np.ndarray:
        """Scores of feature rows (one row per sentence); all trees walked at once per row set."""
        rows = np.asarray(x, dtype=np.float64).reshape(-1, len(SCORER_FEATURES))
        out = np.full(len(rows), self.baseline)
        idx = np.arange(len(rows))
        for feature, threshold, left, right, leaf, value in self.trees:
            node = np.zeros(len(rows), dtype=np.int64)
            while True:
                inner = ~leaf[node]
                if not inner.any():
                    break
                n = node[inner]
                go_left = rows[idx[inner], feature[n]] <= threshold[n]
                node[inner] = np.where(go_left, left[n], right[n])
            out += value[node]
        return out


@functools.cache
def default_scorer() -> SentenceScorer:
    """The shipped scorer, read once."""
    return SentenceScorer.load()


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


def learned_scores(
    articles: Sequence[Article],
    analyses: Sequence[ArticleAnalysis],
    alignment: dict[str, list[dict[str, Any]]],
    scorer: SentenceScorer,
) -> list[tuple[float, Sentence, dict[str, Any]]]:
    """Every sentence with the learned scorer's value, best first (ties: earlier first)."""
    rows = scorer_features(articles, analyses, alignment)
    if not rows:
        return []
    values = scorer.predict([x for _, _, x in rows])
    out = [(float(v), s, sc) for v, (s, sc, _) in zip(values, rows, strict=True)]
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
        weights: Sentence feature weights, in the order of ``FEATURES``.
        scorer: A learned sentence scorer (:meth:`SentenceScorer.load`) to rank with instead
            of the weights; experimental, off by default (lower on NeuS val, docs/analysis.md).
    """

    def __init__(
        self,
        max_words: int = 120,
        min_words: int = 60,
        single_source_limit: int = 5,
        min_sentence_words: int = 6,
        overflow: bool = False,
        weights: Sequence[float] = WEIGHTS,
        scorer: SentenceScorer | None = None,
    ) -> None:
        self.overflow = overflow
        self.scorer = scorer
        self.weights = tuple(weights)
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
        if self.scorer is not None:
            ranked = learned_scores(articles, analyses, alignment, self.scorer)
        else:
            ranked = score_sentences(analyses, alignment.get("sentences", []), self.weights)
        fact_ids = {key: id(f) for key, f in fact_of.items()}
        chosen = self.select(ranked, concept_weights(articles, analyses), fact_ids)
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
        if not self.overflow:
            # What most sources say first (a stable sort keeps the selection order among equals);
            # a reader who cuts at the budget (overflow) gets the selection order, best first.
            summary.sort(key=lambda item: -len(item["citations"]))
        rank = {(s.article, s.index): i for i, (_, s, _) in enumerate(ranked)}
        singles = [
            f
            for f in facts
            if f["status"] == "single-source"
            and id(f) not in used_facts
            and len(f["text"].split()) >= self.min_sentence_words
            and stands_alone(f["text"])
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

    def select(
        self,
        ranked: Sequence[tuple[float, Sentence, dict[str, Any]]],
        weights: dict[tuple[str, str], float],
        fact_of: dict[tuple[str, int], int] | None = None,
    ) -> list[tuple[Sentence, dict[str, Any]]]:
        """Greedy concept coverage within the budget (see the module docstring). A sentence of a
        fact already told (``fact_of``: (article, sentence) -> fact) must be mostly new: at most
        ``SAME_FACT_COVERED`` of its concepts covered."""
        fact_of = fact_of or {}
        told: set[int] = set()
        pool = [
            (prior, s, sc, concepts(s.text))
            for prior, s, sc in ranked
            if len(s.text.split()) >= self.min_sentence_words and stands_alone(s.text)
        ]
        chosen: list[tuple[Sentence, dict[str, Any]]] = []
        covered: set[tuple[str, str]] = set()
        total = 0
        coverage = self.scorer.coverage if self.scorer is not None else 1.0
        redundancy = self.scorer.redundancy if self.scorer is not None else REDUNDANCY
        while pool and total < self.max_words:
            best, best_value = 0, float("-inf")
            room = self.max_words - total
            for i, (prior, s, _, cs) in enumerate(pool):
                words = s.text.split()
                if self.overflow and len(words) > room:
                    # The reader cuts this sentence at the budget: only the words kept count.
                    seen, n = concepts(" ".join(words[:room])), room
                else:
                    seen, n = cs, len(words)
                gain = sum(weights.get(c, 0.0) for c in seen - covered)
                value = coverage * gain / n + prior
                if value > best_value:
                    best, best_value = i, value
            _, s, sc, cs = pool.pop(best)
            n = len(s.text.split())
            if total + n > self.max_words and not self.overflow:
                continue
            if cs and len(cs & covered) / len(cs) > redundancy:
                continue
            fact = fact_of.get((s.article, s.index))
            if fact is not None and fact in told and cs and len(cs & covered) / len(cs) > SAME_FACT_COVERED:
                continue
            if fact is not None:
                told.add(fact)
            chosen.append((s, sc))
            covered |= cs
            total += n
        return chosen


def _stamp(sentence: Sentence, mention: DateMention) -> bool:
    """A line that is only a date ("on Feb. 04, 2009", "Posted: Apr 02, 2009 11:06 PM"): when the
    report was filed, not an event of the timeline."""
    a, b = mention.start - sentence.start, mention.end - sentence.start
    return is_stamp(sentence.text[: max(a, 0)] + " " + sentence.text[max(b, 0) :])


def timeline(analyses: Sequence[ArticleAnalysis], facts: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Dated events: sentences with a day-level date outside quotes, merged across articles when
    they state one fact.

    Dates that could not be resolved (no publication date to anchor "on Friday")
    keep ``date: null`` and their ``expression``, after the dated ones, unless
    another article states the same fact with the same day word and a known
    date: then the entry takes that date and cites both.
    """
    fact_of = {(e["article"], e["sentence"]): i for i, f in enumerate(facts) for e in f["evidence"]}
    entries: dict[tuple[str, object], dict[str, Any]] = {}
    mentions = sorted(
        ((an, d) for an in analyses for d in an.dates if is_event_date(d.text)), key=lambda t: t[1].date is None
    )
    for an, d in mentions:
        sents = {s.index: s for s in an.sentences}
        if d.sentence not in sents:
            continue
        s = sents[d.sentence]
        if _stamp(s, d):
            continue
        if any(q.start <= d.start and d.end <= q.end for q in an.quotes):
            continue  # a speaker's "today" ("We will win today," he said) dates words, not an event
        fact = fact_of.get((s.article, s.index))
        day = day_named(d.text)
        if fact is not None and day:
            key: tuple[str, object] = ("fact", (fact, day))
        else:
            key = (d.date or d.text.lower(), (s.article, s.index))
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
        if entry["date"] is None and d.date:
            entry["date"] = d.date
    return sorted(entries.values(), key=lambda e: (e["date"] is None, e["date"] or "", -len(e["citations"])))
