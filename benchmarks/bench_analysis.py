"""Benchmark: analysis of one 50-article story, and the full pipeline's throughput.

Reads real articles from ECB+ (``../shared/eval/ecbplus/train.jsonl``) at run
time. The "story" is the 50 articles of topics 19 and 28 (25 each, about 500
words per article: the longest topics, so the figure is conservative).

    .venv/bin/python benchmarks/bench_analysis.py [--articles 50] [--pipeline 100] [--reference] [--processes N]

Prints: extract, align and summarize seconds for the story (target <= 15 s on
2 cores, models already loaded), and articles per second of the full
pipeline (ingest-parsed records -> dedupe -> cluster -> extract -> align ->
summarize, models loaded; target >= 5/s) on the first N train articles.
Each figure comes with the CPU seconds it took (all threads and child
processes): on a shared machine those are the ones to compare.
``--reference`` runs the packaged MiniLM model instead of its int8-quantised
copy; ``--processes`` fixes spaCy's processes for the story.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsweave.models import Article

ROOT = Path(__file__).resolve().parent.parent
ECB = ROOT.parent / "shared" / "eval" / "ecbplus" / "train.jsonl"
TOPICS = (19, 28)


def load(limit: int | None = None, topics: tuple[int, ...] | None = None) -> list[Article]:
    """ECB+ train articles (without their gold labels), optionally only some topics."""
    from newsweave.ingest import parse_record

    out = []
    with open(ECB, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            rec = json.loads(line)
            if topics is not None and rec["topic"] not in topics:
                continue
            clean = {"id": rec["id"], "title": rec.get("title", ""), "text": rec["text"]}
            out.append(parse_record(clean, default_id=f"line-{n}", origin=f"{ECB}:{n}"))
            if limit is not None and len(out) >= limit:
                break
    return out


def cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50, help="articles in the analysed story")
    parser.add_argument("--pipeline", type=int, default=100, help="articles through the full pipeline")
    parser.add_argument(
        "--reference", action="store_true", help="run the packaged MiniLM model as it is, not its int8-quantised copy"
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="spaCy processes for the story (default: 2 when a core is spare)"
    )
    args = parser.parse_args()
    if not ECB.exists():
        print(f"{ECB} is absent: the shared evaluation data is not beside this checkout", file=sys.stderr)
        return 2

    from newsweave.align import SimilarityAligner
    from newsweave.embed import OnnxMiniLMEmbedder, default_embedder
    from newsweave.extract import SpacyExtractor
    from newsweave.nlp import load_spacy
    from newsweave.summarize import ExtractiveSummarizer

    t = time.perf_counter()
    load_spacy()
    emb = OnnxMiniLMEmbedder(quantize=False) if args.reference else default_embedder()
    assert isinstance(emb, OnnxMiniLMEmbedder), "the benchmark measures the MiniLM embedder"
    emb.embed(["warm up"])
    print(f"before: {load_average()}")
    print(
        f"model load: {time.perf_counter() - t:.2f} s (once per process, not counted below); MiniLM: {emb.model_path}"
    )

    story = load(topics=TOPICS)[: args.articles]
    words = sum(len(a.text.split()) for a in story)
    extractor, aligner = SpacyExtractor(processes=args.processes), SimilarityAligner(emb)
    summarizer = ExtractiveSummarizer()
    print(f"spaCy processes for the story: {extractor.processes_for(len(story))}")
    # Wall time, and CPU time of this process (all threads) and its children: on a shared, loaded machine the
    # CPU seconds show what the work costs; wall time on an idle 2-core machine lies between
    # CPU/2 and CPU.
    t0, c0 = time.perf_counter(), cpu()
    analyses = extractor.extract_many(story)
    t1, c1 = time.perf_counter(), cpu()
    alignment = aligner.align(story, analyses, {})
    t2, c2 = time.perf_counter(), cpu()
    summary = summarizer.summarize(story, analyses, alignment)
    t3, c3 = time.perf_counter(), cpu()
    print(f"story: {len(story)} articles, {words} words, {sum(len(a.sentences) for a in analyses)} sentences")
    print(f"  extract   {t1 - t0:6.2f} s wall  {c1 - c0:6.2f} s CPU")
    print(
        f"  align     {t2 - t1:6.2f} s wall  {c2 - c1:6.2f} s CPU  "
        f"({len(alignment['facts'])} facts, {len(alignment['figures'])} figure groups)"
    )
    print(f"  summarize {t3 - t2:6.2f} s wall  {c3 - c2:6.2f} s CPU  ({len(summary['summary'])} summary sentences)")
    print(f"  analysis total {t3 - t0:.2f} s wall, {c3 - c0:.2f} s CPU for {len(story)} articles (target <= 15 s)")
    print(f"  {load_average()}")

    # The story grows by one article: the others' analyses are stored (the engine keeps them)
    # and their sentence vectors are still in the embedder's cache; only the new one is extracted.
    emb.clear_cache()
    aligner.align(story[:-1], analyses[:-1], {})
    t0, c0 = time.perf_counter(), cpu()
    grown = analyses[:-1] + extractor.extract_many(story[-1:])
    alignment = aligner.align(story, grown, {})
    summarizer.summarize(story, grown, alignment)
    dt, dc = time.perf_counter() - t0, cpu() - c0
    print(f"  story grown by one article: {dt:.2f} s wall, {dc:.2f} s CPU (vectors of the other articles cached)")

    from newsweave.engine import analyze_articles
    from newsweave.registry import build_pipeline

    articles = load(limit=args.pipeline)
    emb.clear_cache()  # a cold run: no vectors left from the story above
    pipe = build_pipeline(emb)
    t0, c0 = time.perf_counter(), cpu()
    result = analyze_articles(articles, pipe)
    dt, dc = time.perf_counter() - t0, cpu() - c0
    print(
        f"full pipeline: {len(articles)} articles -> {len(result.stories)} stories in {dt:.2f} s wall "
        f"({dc:.2f} s CPU) = {len(articles) / dt:.1f} articles/s wall, {len(articles) / dc:.1f} per CPU-second "
        "(target >= 5/s)"
    )
    print(f"after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
