"""Evaluation gate for the analysis stages: pinned precision/recall floors on hand-annotated stories.

The gold (``tests/fixtures/seeds_gold.json``) annotates the three seed reports
(read from ``../shared`` at run time, fingerprinted by sha256) and the demo
Larkmoor story. Items are located by short keys, so no article text lives in
the fixture. A floor is lowered only on purpose, in review.

Run ``python tests/test_eval_gate_analysis.py`` to print the table.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLD = Path(__file__).parent / "fixtures" / "seeds_gold.json"
DIRS = {"seeds": ROOT.parent / "shared" / "corpus" / "seeds", "demo": ROOT / "demo" / "corpus"}

#: Floors: (precision, recall) per extractor and corpus, and fact-label accuracy. Measured values in docs/analysis.md.
FLOORS: dict[str, dict[str, tuple[float, float]]] = {
    "seeds": {"entities": (0.95, 0.95), "quotes": (0.95, 0.95), "figures": (0.9, 0.9), "facts": (0.9, 0.9)},
    "demo": {"entities": (0.9, 0.9), "quotes": (0.9, 0.9), "figures": (0.9, 0.9), "facts": (0.9, 0.9)},
}

pytestmark = pytest.mark.slow


def _gold() -> dict[str, Any]:
    return json.loads(GOLD.read_text(encoding="utf-8"))


@cache
def analyse(corpus: str) -> tuple[Any, ...]:
    """Read the corpus files, check their fingerprints, run extract + align + summarize."""
    from newsweave.align import SimilarityAligner
    from newsweave.embed import default_embedder
    from newsweave.extract import SpacyExtractor
    from newsweave.ingest import read_paths
    from newsweave.models import Article
    from newsweave.summarize import ExtractiveSummarizer

    spec = _gold()["corpora"][corpus]
    paths = [DIRS[corpus] / name for name in spec["files"].values()]
    for aid, path in zip(spec["files"], paths, strict=True):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == spec["sha256"][aid], f"{path} changed: re-annotate tests/fixtures/seeds_gold.json"
    articles = [a for a in read_paths(paths) if isinstance(a, Article)]
    assert sorted(a.id for a in articles) == sorted(spec["files"])
    analyses = SpacyExtractor().extract_many(articles)
    alignment = SimilarityAligner(default_embedder()).align(articles, analyses, {})
    summary = ExtractiveSummarizer().summarize(articles, analyses, alignment)
    return articles, analyses, alignment, summary


def _pr(correct_pred: int, n_pred: int, correct_gold: int, n_gold: int) -> tuple[float, float]:
    return (correct_pred / n_pred if n_pred else 1.0, correct_gold / n_gold if n_gold else 1.0)


def score_entities(gold: list[dict[str, Any]], predicted: list[dict[str, Any]]) -> tuple[float, float]:
    """Recall: a gold entity counts when ONE predicted entity carries all its spellings (resolution).

    Precision is over predicted PERSON entities (people are annotated exhaustively): right when
    its names belong to one gold person not already claimed by another predicted entity.
    """
    names = [{e["name"], *e["aliases"]} for e in predicted]
    recalled = sum(1 for g in gold if any(set(g["aliases"]) <= n for n in names))
    persons = [g for g in gold if g["type"] == "PERSON"]
    claimed: set[str] = set()
    right = 0
    pred_persons = [(e, n) for e, n in zip(predicted, names, strict=True) if e["type"] == "PERSON"]
    for _, n in pred_persons:
        hits = [g["name"] for g in persons if n & set(g["aliases"])]
        if len(hits) == 1 and hits[0] not in claimed:
            claimed.add(hits[0])
            right += 1
    return _pr(right, len(pred_persons), recalled, len(gold))


def _speaker_ok(gold: dict[str, Any], speaker: str | None) -> bool:
    if not speaker:
        return False
    said = speaker.lower()
    return any(s.lower() in said or said in s.lower() for s in [gold["speaker"], *gold.get("also", [])])


def score_quotes(gold: list[dict[str, Any]], alignment: dict[str, Any]) -> tuple[float, float]:
    """A quote is right when found in its article (by key) with the right speaker."""
    mentions = [m for q in alignment["quotes"] for m in q["mentions"]]
    used: set[int] = set()
    right = 0
    for g in gold:
        for i, m in enumerate(mentions):
            if i in used or m["article"] != g["article"]:
                continue
            found = m["text"] == g["key"] if g.get("exact") else m["text"].startswith(g["key"]) or g["key"] in m["text"]
            if found:
                used.add(i)
                right += _speaker_ok(g, m["speaker"]) or _speaker_ok(g, m.get("said_as"))
                break
    return _pr(right, len(mentions), right, len(gold))


def _figure_matches(g: dict[str, Any], f: Any) -> bool:
    if f.article != g["article"]:
        return False
    if "approximate" in g:
        value_ok = f.approximate and g["approximate"] in f.text.lower()
    else:
        value_ok = not f.approximate and abs(f.value - g["value"]) <= 0.01 * g["value"]
    return bool(value_ok and f.hedge == g["hedge"] and f.counted == g["counted"] and f.unit == g.get("unit"))


def score_figures(gold: list[dict[str, Any]], analyses: list[Any]) -> tuple[float, float]:
    """A figure is right with its value (scale applied), hedge, unit and counted noun."""
    figures = [f for an in analyses for f in an.figures]
    used: set[int] = set()
    right = 0
    for g in gold:
        for i, f in enumerate(figures):
            if i not in used and _figure_matches(g, f):
                used.add(i)
                right += 1
                break
    return _pr(right, len(figures), right, len(gold))


def score_facts(gold: list[dict[str, Any]], articles: list[Any], alignment: dict[str, Any]) -> tuple[float, float]:
    """Label accuracy of gold facts (both numbers are the same share: facts are located, then judged)."""
    right = 0
    for g in gold:
        spans = {}
        for aid, key in g["keys"].items():
            text = next(a.text for a in articles if a.id == aid)
            at = text.find(key)
            assert at >= 0, f"gold key {key!r} not in {aid}"
            spans[aid] = at
        located = []
        for fact in alignment["facts"]:
            hits = {e["article"] for e in fact["evidence"] if e["start"] <= spans.get(e["article"], -1) < e["end"]}
            if hits:
                located.append((len(hits), fact))
        if not located:
            continue
        best = max(located, key=lambda t: t[0])
        need = 2 if g["status"] != "single-source" else 1
        right += best[0] >= need and best[1]["status"] == g["status"]
    return _pr(right, len(gold), right, len(gold))


def measure(corpus: str) -> dict[str, tuple[float, float]]:
    """Precision and recall per extractor on one annotated corpus."""
    articles, analyses, alignment, _ = analyse(corpus)
    spec = _gold()["corpora"][corpus]
    return {
        "entities": score_entities(spec["entities"], alignment["entities"]),
        "quotes": score_quotes(spec["quotes"], alignment),
        "figures": score_figures(spec["figures"], analyses),
        "facts": score_facts(spec["facts"], articles, alignment),
    }


def _need(corpus: str) -> None:
    if not DIRS[corpus].exists():
        pytest.skip(f"{DIRS[corpus]} is absent: the shared evaluation data is not beside this checkout")


@pytest.mark.parametrize("corpus", ["seeds", "demo"])
def test_eval_gate_analysis_floors(corpus: str) -> None:
    _need(corpus)
    scores = measure(corpus)
    for name, (p, r) in scores.items():
        fp, fr = FLOORS[corpus][name]
        assert p >= fp and r >= fr, f"{corpus} {name}: precision {p:.3f} (floor {fp}), recall {r:.3f} (floor {fr})"


def _exact(group: dict[str, Any]) -> set[tuple[str, float]]:
    """(article, value) of a figure group's exact mentions ("thousands of" is not 3,000)."""
    return {(m["article"], m["value"]) for m in group["mentions"] if not m["approximate"]}


@pytest.mark.parametrize("corpus", ["seeds", "demo"])
def test_eval_gate_analysis_figure_groups(corpus: str) -> None:
    _need(corpus)
    _, _, alignment, _ = analyse(corpus)
    for g in _gold()["corpora"][corpus]["figure_groups"]:
        members = {(a, float(v)) for a, v in g["members"]}
        groups = [grp for grp in alignment["figures"] if members & _exact(grp)]
        assert len(groups) == 1, f"{members} split over {len(groups)} groups"
        assert members <= _exact(groups[0])
        assert groups[0]["status"] == g["status"]


def test_eval_gate_analysis_spans_are_exact_and_summary_cited() -> None:
    _need("seeds")
    for corpus in ("seeds", "demo"):
        articles, _, alignment, summary = analyse(corpus)
        texts = {a.id: a.text for a in articles}
        for f in alignment["facts"]:
            for e in f["evidence"]:
                assert texts[e["article"]][e["start"] : e["end"]] == e["text"]
        for q in alignment["quotes"]:
            for m in q["mentions"]:
                assert texts[m["article"]][m["start"] : m["end"]] == m["text"]
        for g in alignment["figures"]:
            for m in g["mentions"]:
                assert texts[m["article"]][m["start"] : m["end"]] == m["text"]
        words = sum(len(s["text"].split()) for s in summary["summary"])
        assert 60 <= words <= 150, words
        for s in summary["summary"]:
            assert any(s["text"] in texts[c] for c in s["citations"])


NEUS_VAL = ROOT.parent / "shared" / "eval" / "neus" / "val.jsonl"
NEUS_VAL_SHA256 = "ca4b989508a659e131b002eef84564aaa31836eb18220a55a8c53c01af5ac480"
#: A fixed subset (the first records of val) keeps the gate inside its CI budget; the full-val
#: figures come from `newsweave eval summary` and are reported in docs/analysis.md.
ROUGE_RECORDS = 40
ROUGE_FLOORS = {"rouge1": 40.0, "rouge2": 18.0, "rougeL": 26.0}  # measured 40.56 / 18.56 / 26.65 (2026-12-02)


def test_eval_gate_analysis_rouge_on_neus_val_subset() -> None:
    if not NEUS_VAL.exists():
        pytest.skip(f"{NEUS_VAL} is absent: the shared evaluation data is not beside this checkout")
    digest = hashlib.sha256(NEUS_VAL.read_bytes()).hexdigest()
    assert digest == NEUS_VAL_SHA256, "NeuS val changed: re-measure and re-pin the ROUGE floors"
    from newsweave.evaluate_summary import evaluate, load_records

    scores = evaluate(load_records(NEUS_VAL, limit=ROUGE_RECORDS), words=67)
    ours = scores.rouge["newsweave"]
    for name, floor in ROUGE_FLOORS.items():
        assert ours[name] >= floor, f"ROUGE {name} {ours[name]:.2f} fell below its floor {floor}"
    assert scores.cited_sentences == scores.summary_sentences > 0


ECB_TRAIN = ROOT.parent / "shared" / "eval" / "ecbplus" / "train.jsonl"
FACTS_GOLD = Path(__file__).parent / "fixtures" / "ecbplus_facts_gold.json"
#: Fact grouping on six annotated ECB+ train stories (benchmarks/facts_alignment.py):
#: measured pairs P 0.863 / R 0.189, corroborated P 0.925 / R 0.617 (lexical weight 0.6,
#: threshold 0.76, group floor 0.6), citations P 0.767 / R 0.559 (threshold 0.70).
FACTS_FLOORS = {
    "pairs": {"precision": 0.84},
    "corroboration": {"precision": 0.9, "recall": 0.58},
    "citations": {"precision": 0.73, "recall": 0.52},
}


def test_eval_gate_analysis_fact_grouping_on_annotated_ecbplus_stories() -> None:
    if not ECB_TRAIN.exists():
        pytest.skip(f"{ECB_TRAIN} is absent: the shared evaluation data is not beside this checkout")
    from newsweave.evaluate_facts import evaluate_facts

    scores = evaluate_facts(FACTS_GOLD, ECB_TRAIN)
    for measure_name, floors in FACTS_FLOORS.items():
        for name, floor in floors.items():
            got = scores[measure_name][name]
            assert got >= floor, f"facts {measure_name} {name} {got:.3f} fell below its floor {floor}"


if __name__ == "__main__":  # pragma: no cover - prints the measured table
    for c in ("seeds", "demo"):
        if DIRS[c].exists():
            for k, (p, r) in measure(c).items():
                print(f"{c:<6} {k:<9} precision {p:.3f}  recall {r:.3f}")
    sys.exit(0)
