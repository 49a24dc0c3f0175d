"""Benchmark: how well the align stage groups sentences into facts, against hand-annotated claims.

    .venv/bin/python benchmarks/facts_alignment.py [--grid]

Reads six ECB+ *train* stories (four articles each) from ``../shared/eval/ecbplus/train.jsonl``
and the annotation in ``tests/fixtures/ecbplus_facts_gold.json`` (see
:mod:`newsweave.evaluate_facts`). Prints pair precision/recall/F1 (two sentences of different
articles in one fact) and corroboration precision/recall/F1 (a sentence's fact is corroborated)
and citation precision/recall (another article states the sentence's claim / is cited) for the
default settings; ``--grid`` also prints them over the lexical weight, fact threshold, group
floor and citation threshold the defaults were chosen from (on this train sample; the seeds and demo
gold is the check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLD = ROOT / "tests" / "fixtures" / "ecbplus_facts_gold.json"
ECB = ROOT.parent / "shared" / "eval" / "ecbplus" / "train.jsonl"


def _row(label: str, scores: dict[str, dict[str, float]]) -> str:
    p, c, t = scores["pairs"], scores["corroboration"], scores["citations"]
    return (
        f"{label:<34} pairs P {p['precision']:.3f} R {p['recall']:.3f}   "
        f"corroborated P {c['precision']:.3f} R {c['recall']:.3f}   "
        f"citations P {t['precision']:.3f} R {t['recall']:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", action="store_true", help="also print the settings grid")
    args = parser.parse_args()
    if not ECB.exists():
        print(f"{ECB} is absent: the shared evaluation data is not beside this checkout", file=sys.stderr)
        return 1
    from newsweave.align import CITE_THRESHOLD, FACT_THRESHOLD, GROUP_FLOOR, LEXICAL_WEIGHT, SimilarityAligner
    from newsweave.evaluate_facts import evaluate_facts
    from newsweave.models import ArticleAnalysis
    from newsweave.registry import make_embedder

    embedder = make_embedder("minilm")
    cache: dict[str, ArticleAnalysis] = {}
    default = evaluate_facts(GOLD, ECB, SimilarityAligner(embedder), cache)
    print(_row(f"default (w {LEXICAL_WEIGHT}, t {FACT_THRESHOLD}, g {GROUP_FLOOR}, c {CITE_THRESHOLD})", default))
    if args.grid:
        for weight in (0.0, 0.4, 0.6, 0.8):
            for threshold in (0.68, 0.72, 0.76, 0.8):
                aligner = SimilarityAligner(embedder, threshold=threshold, lexical_weight=weight)
                print(_row(f"w {weight}, t {threshold}", evaluate_facts(GOLD, ECB, aligner, cache)))
        for floor in (None, 0.5, 0.55, 0.6, 0.65, 0.7, 0.76):
            aligner = SimilarityAligner(embedder, group_floor=floor)
            print(_row(f"group floor {floor}", evaluate_facts(GOLD, ECB, aligner, cache)))
        for weight, cite in ((0.0, 0.62), (0.0, 0.66), (0.6, 0.62), (0.6, 0.66), (0.6, 0.70), (0.6, 0.74)):
            aligner = SimilarityAligner(embedder, lexical_weight=weight, cite_threshold=cite)
            print(_row(f"citations: w {weight}, c {cite}", evaluate_facts(GOLD, ECB, aligner, cache)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
