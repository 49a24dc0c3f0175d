"""The summarizer's learned sentence scorer and the lead baseline, on hand-made data."""

from __future__ import annotations

import json

import pytest

from newsweave.evaluate_summary import lead_summary
from newsweave.models import ArticleAnalysis, Sentence
from newsweave.summarize import SCORER_FEATURES, SCORER_PATH, SentenceScorer


def _params(**extra: object) -> dict[str, object]:
    # One stump on feature 0 ("index"): index <= 0.5 scores 0.3, else 0.1; baseline 0.05.
    tree = {"feature": [0, 0, 0], "threshold": [0.5, 0, 0], "left": [1, 0, 0], "right": [2, 0, 0]}
    tree |= {"leaf": [0, 1, 1], "value": [0.0, 0.3, 0.1]}
    return {"features": list(SCORER_FEATURES), "baseline": 0.05, "trees": [tree, tree]} | extra


def test_summarize_scorer_walks_every_tree() -> None:
    scorer = SentenceScorer(_params())
    rows = [[0.0] * len(SCORER_FEATURES), [3.0] + [0.0] * (len(SCORER_FEATURES) - 1)]
    assert scorer.predict(rows).tolist() == pytest.approx([0.65, 0.25])


def test_summarize_scorer_rejects_other_features() -> None:
    with pytest.raises(ValueError, match="train_summary_scorer"):
        SentenceScorer(_params(features=["index"]))


def test_summarize_scorer_resource_holds_only_numbers() -> None:
    params = json.loads(SCORER_PATH.read_text(encoding="utf-8"))
    assert params["features"] == list(SCORER_FEATURES)
    assert set(params) <= {"features", "baseline", "trees", "selection", "trained_on"}
    for tree in params["trees"]:
        assert all(isinstance(v, int | float) for values in tree.values() for v in values)
    SentenceScorer(params)


def test_summarize_lead_baseline_fills_the_budget_in_article_order() -> None:
    def analysis(aid: str, sents: list[str]) -> ArticleAnalysis:
        return ArticleAnalysis(aid, sentences=[Sentence(aid, i, 0, len(t), t) for i, t in enumerate(sents)])

    analyses = [analysis("a", ["A one two.", "A three four."]), analysis("b", ["B one two.", "B three four."])]
    assert lead_summary(analyses, 0) == ["A one two.", "B one two."]
    assert lead_summary(analyses, 7) == ["A one two.", "B one two.", "A three four."]
    assert lead_summary(analyses, 50) == ["A one two.", "B one two.", "A three four.", "B three four."]
