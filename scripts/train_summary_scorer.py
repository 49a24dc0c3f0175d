"""Re-train the summarizer's sentence scorer on NeuS *train* and write ``newsweave/resources/summary-scorer.json``.

Usage::

    .venv/bin/python scripts/train_summary_scorer.py ../shared/eval/neus/train.jsonl \\
        --limit 1050 --cache /tmp/nwsum

Each train record's articles go through the same extract and align stages as
``newsweave eval summary`` (cached as pickles under ``--cache``, since that is
the slow part); every sentence gets the features of
:func:`newsweave.summarize.scorer_features` and, as its target, its ROUGE-2 F
against the record's human reference. A gradient-boosted regression tree
ensemble (scikit-learn ``HistGradientBoostingRegressor``, fixed seed) learns the
target; the trees (thresholds and leaf values only, no text) are written as
JSON. The selection settings (redundancy threshold, weight of the concept
coverage gain) are then chosen by ROUGE-2 of whole 67-word summaries on the
last fifth of the train records, which the trees were not fitted on. Val is
never read.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newsweave.evaluate_summary import analyse, load_records, truncate
from newsweave.summarize import SCORER_FEATURES, ExtractiveSummarizer, SentenceScorer, scorer_features

OUT = Path(__file__).resolve().parent.parent / "newsweave" / "resources" / "summary-scorer.json"
CHUNK = 50
WORDS = 67


def analysed(path: str, limit: int, cache: Path) -> list[tuple[Any, Any, Any]]:
    """(record, analyses, alignment) of the first ``limit`` records, cached per chunk of 50."""
    records = load_records(path, limit=limit)
    out: list[tuple[Any, Any, Any]] = []
    cache.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        f = cache / f"{Path(path).stem}-{start}-{start + len(chunk)}.pkl"
        if f.exists():
            with open(f, "rb") as fh:
                out.extend(pickle.load(fh))
            continue
        done = list(analyse(chunk))
        with open(f, "wb") as fh:
            pickle.dump(done, fh)
        out.extend(done)
    return out


def dataset(data: Sequence[tuple[Any, Any, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, ROUGE-2 F targets and the record number of every sentence."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge2"], use_stemmer=True)
    xs, ys, groups = [], [], []
    for k, (r, analyses, alignment) in enumerate(data):
        for s, _, x in scorer_features(r.articles, analyses, alignment):
            xs.append(x)
            ys.append(scorer.score(r.reference, s.text)["rouge2"].fmeasure)
            groups.append(k)
    return np.array(xs), np.array(ys), np.array(groups)


def export(model: Any) -> dict[str, Any]:
    """The fitted trees as plain lists (node arrays of sklearn's predictors)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append(
            {
                "feature": nodes["feature_idx"].tolist(),
                "threshold": [float(t) for t in nodes["num_threshold"]],
                "left": nodes["left"].tolist(),
                "right": nodes["right"].tolist(),
                "leaf": nodes["is_leaf"].astype(int).tolist(),
                "value": [round(float(v), 7) for v in nodes["value"]],
            }
        )
    return {"features": list(SCORER_FEATURES), "baseline": float(model._baseline_prediction[0][0]), "trees": trees}


def rouge2(data: Sequence[tuple[Any, Any, Any]], summarizer: ExtractiveSummarizer) -> float:
    """Mean ROUGE-2 F (x100) of the summarizer at the 67-word cut."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge2"], use_stemmer=True)
    total = 0.0
    for r, analyses, alignment in data:
        summary = summarizer.summarize(r.articles, analyses, alignment)["summary"]
        total += scorer.score(r.reference, truncate([s["text"] for s in summary], WORDS))["rouge2"].fmeasure
    return 100 * total / max(len(data), 1)


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train", help="NeuS train JSONL (never val)")
    ap.add_argument("--limit", type=int, default=1050, help="first N train records")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/newsweave-scorer-cache"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    data = analysed(args.train, args.limit, args.cache)
    cut = len(data) * 4 // 5
    saved = args.cache / f"dataset-{len(data)}-{len(SCORER_FEATURES)}.npz"
    if saved.exists():
        with np.load(saved) as z:
            x, y, groups = z["x"], z["y"], z["groups"]
    else:
        x, y, groups = dataset(data)
        np.savez(saved, x=x, y=y, groups=groups)
    fit = groups < cut
    params = {
        "max_iter": 150,
        "learning_rate": 0.05,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 40,
        "early_stopping": False,
        "random_state": 0,
    }
    model = HistGradientBoostingRegressor(**params).fit(x[fit], y[fit])
    params_out = export(model)
    check = SentenceScorer(params_out).predict(x[~fit][:200])
    gap = float(np.abs(check - model.predict(x[~fit][:200])).max())
    assert gap < 1e-4, f"exported trees disagree with sklearn by {gap}"

    # Selection settings, chosen on the held-out fifth of train.
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    for redundancy in (0.5, 0.6):
        for coverage in (0.0, 0.1, 0.3, 1.0):
            params_out["selection"] = {"redundancy": redundancy, "coverage": coverage}
            summarizer = ExtractiveSummarizer(
                max_words=WORDS, min_words=0, single_source_limit=0, overflow=True, scorer=SentenceScorer(params_out)
            )
            r2 = rouge2(data[cut:], summarizer)
            print(f"redundancy {redundancy} coverage {coverage}: held-out train ROUGE-2 {r2:.2f}", flush=True)
            if r2 > best[0]:
                best = (r2, redundancy, coverage)
    params_out["selection"] = {"redundancy": best[1], "coverage": best[2]}
    # Refit on all the records read, with the settings chosen.
    model = HistGradientBoostingRegressor(**params).fit(x, y)
    final = export(model) | {"selection": params_out["selection"]}
    final["trained_on"] = f"first {len(data)} records of {Path(args.train).name}; params {params}"
    args.out.write_text(json.dumps(final, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (held-out ROUGE-2 {best[0]:.2f} with {params_out['selection']})")


if __name__ == "__main__":
    main()
