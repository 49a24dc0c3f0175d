"""Summary evaluation: ROUGE of newsweave's summarizer against human roundups, beside two baselines.

``newsweave eval summary FILE.jsonl --words 67`` reads NeuS-style records
(``{"id", "articles": [{"title", "text"}, …], "reference": {"title", "text"}}``),
runs each record's articles through the same extract, align and summarize
stages as a story, and scores at the same word budget:

    * ``newsweave``: the :class:`~newsweave.summarize.ExtractiveSummarizer`;
    * ``lead``: the first sentence of each article, in order (then the second ones, while
      under the budget);
    * ``lexrank``: LexRank (the ``sumy`` package) over all the sentences.

Every summary is cut at the budget (whole words), as the baselines are.
ROUGE-1/2/L F-measures come from Google's ``rouge-score`` package (stemmed).
``scripts/train_summary_scorer.py`` re-trains the summarizer's sentence scorer on a *train* split.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, NotInstalled
from .models import Article, ArticleAnalysis

METHODS = ("lead", "lexrank", "newsweave")
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


@dataclass
class Record:
    """One evaluation record: a story's articles and the human reference."""

    id: str
    articles: list[Article]
    reference: str


@dataclass
class SummaryScores:
    """Mean ROUGE F-measures (x100) per method, and the citation check of newsweave's summaries."""

    records: int = 0
    words: int = 67
    rouge: dict[str, dict[str, float]] = field(default_factory=dict)
    cited_sentences: int = 0
    summary_sentences: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "words": self.words,
            "rouge": self.rouge,
            "cited_sentences": self.cited_sentences,
            "summary_sentences": self.summary_sentences,
        }


def load_records(path: str | Path, limit: int | None = None) -> list[Record]:
    """NeuS-style records from a JSONL file (the first ``limit`` ones)."""
    out: list[Record] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if limit is not None and len(out) >= limit:
                break
            try:
                rec = json.loads(line)
                rid = str(rec.get("id", f"line-{n}"))
                arts = [
                    Article(id=f"{rid}-{k}", title=str(a.get("title") or ""), text=str(a["text"]), source=f"s{k}")
                    for k, a in enumerate(rec["articles"])
                ]
                ref = str(rec["reference"]["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(
                    f"{path}:{n}", f"not a summary record ({exc}); expected articles and reference"
                ) from exc
            out.append(Record(rid, arts, ref))
    return out


def truncate(texts: Sequence[str], words: int) -> str:
    """The texts joined, cut after ``words`` words."""
    return " ".join(" ".join(texts).split()[:words])


def lead_summary(analyses: Sequence[ArticleAnalysis], words: int = 0) -> list[str]:
    """The first sentence of each article, in article order; then, while under ``words`` words,
    the second sentence of each, and so on (so the lead, too, fills the budget it is cut at)."""
    out: list[str] = []
    total = 0
    depth = max((len(an.sentences) for an in analyses), default=0)
    for k in range(depth):
        for an in analyses:
            if k < len(an.sentences) and (k == 0 or total < words):
                out.append(an.sentences[k].text)
                total += len(an.sentences[k].text.split())
        if total >= words:
            break
    return out


def lexrank_summary(analyses: Sequence[ArticleAnalysis], words: int) -> list[str]:
    """LexRank (sumy) over all sentences, best first, until the budget is reached."""
    try:
        from sumy.models.dom import ObjectDocumentModel, Paragraph
        from sumy.models.dom import Sentence as SumySentence
        from sumy.nlp.stemmers import Stemmer
        from sumy.summarizers.lex_rank import LexRankSummarizer
        from sumy.utils import get_stop_words
    except ImportError as exc:
        raise NotInstalled("the LexRank baseline", "eval") from exc

    class _Words:
        """sumy's tokenizer role, without NLTK data downloads: our sentences, regex words."""

        language = "english"

        @staticmethod
        def to_words(text: str) -> list[str]:
            import re

            return re.findall(r"\w+(?:'\w+)?", text)

    sents = [s for an in analyses for s in an.sentences]
    if not sents:
        return []
    dom = ObjectDocumentModel([Paragraph([SumySentence(s.text, _Words()) for s in sents])])
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    # sumy returns the top-k sentences in document order; grow k until the budget is filled.
    out: list[str] = []
    for k in range(1, len(sents) + 1):
        out = [str(s) for s in summarizer(dom, k)]
        if sum(len(t.split()) for t in out) >= words:
            break
    return out


def analyse(records: Sequence[Record]) -> Iterator[tuple[Record, list[ArticleAnalysis], dict[str, Any]]]:
    """Each record with its articles' analyses and alignment (the extract and align stages of a story)."""
    from .align import SimilarityAligner
    from .embed import default_embedder
    from .extract import SpacyExtractor

    extractor = SpacyExtractor(batch_size=64)
    aligner = SimilarityAligner(default_embedder())
    flat = [a for r in records for a in r.articles]
    by_id = {an.article: an for an in extractor.extract_many(flat)}
    for r in records:
        analyses = [by_id[a.id] for a in r.articles]
        yield r, analyses, aligner.align(r.articles, analyses, {})


def evaluate(records: Sequence[Record], words: int = 67, methods: Sequence[str] = METHODS) -> SummaryScores:
    """Mean ROUGE-1/2/L F (x100) of each method at a ``words`` budget."""
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise NotInstalled("ROUGE scoring", "eval") from exc
    from .summarize import ExtractiveSummarizer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    summarizer = ExtractiveSummarizer(max_words=words, min_words=0, single_source_limit=0, overflow=True)
    sums: dict[str, dict[str, float]] = {m: dict.fromkeys(ROUGE_TYPES, 0.0) for m in methods}
    scores = SummaryScores(words=words)
    for r, analyses, alignment in analyse(records):
        outputs: dict[str, list[str]] = {}
        if "lead" in methods:
            outputs["lead"] = lead_summary(analyses, words)
        if "lexrank" in methods:
            outputs["lexrank"] = lexrank_summary(analyses, words)
        if "newsweave" in methods:
            summary = summarizer.summarize(r.articles, analyses, alignment)["summary"]
            outputs["newsweave"] = [s["text"] for s in summary]
            texts = {a.id: a.text for a in r.articles}
            scores.summary_sentences += len(summary)
            scores.cited_sentences += sum(
                1 for s in summary if s["citations"] and any(s["text"] in texts[c] for c in s["citations"])
            )
        for m, sents in outputs.items():
            result = scorer.score(r.reference, truncate(sents, words))
            for t in ROUGE_TYPES:
                sums[m][t] += result[t].fmeasure
        scores.records += 1
    n = max(scores.records, 1)
    scores.rouge = {m: {t: round(100 * v / n, 2) for t, v in d.items()} for m, d in sums.items()}
    return scores
