"""Benchmark and ablation of streaming story clustering (issue 3). Prints tables; asserts nothing.

Throughput (ingest + dedupe + cluster, one process)::

    python benchmarks/bench_clustering.py --n 100000

streams ``n`` synthetic articles (``benchmarks/synth.py``: real ECB+ and NeuS
reports on shifted dates with perturbed wording) as JSONL lines through
``parse_record`` (ingest), ``MinHashDeduper`` and ``EventClusterer`` -- the
placement path of ``build_pipeline()`` -- and prints, at 1k, 10k and 100k
articles, the mean cost per article over the last 1,000, the p50/p99 placement
latency so far, the throughput, peak memory (RSS) and open stories, then the
B-cubed F1 against the synthetic gold stories.

Ablation (what each representation adds, ECB+ train and dev)::

    python benchmarks/bench_clustering.py --ablation [--minilm]

runs the same streaming clusterer with parts of the representation switched
off (names, figures, dates) or MiniLM ONNX embeddings of the title and lead
mixed in (``--minilm``; slow: about a minute per split on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synth import synthesize
from newsweave.cluster import ClusterParams, StreamClusterer
from newsweave.errors import InputError
from newsweave.evaluate import bcubed, clustering_scores, load_labelled
from newsweave.events import EventClusterer
from newsweave.features import N_FEATURES, ArticleFeatures, featurize, project
from newsweave.ingest import parse_record
from newsweave.models import Article, follow_aliases
from newsweave.registry import build_placement

ECBPLUS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "ecbplus"
CHECKPOINTS = (1_000, 10_000, 100_000, 1_000_000)


def rss_mb() -> float:
    """Peak resident memory of this process, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(n: int, seed: int) -> None:
    print(f"synthesizing {n} articles (seed {seed}) ...", file=sys.stderr)
    lines: list[str] = []
    gold: dict[str, str] = {}
    for art, story in synthesize(n, seed=seed):
        lines.append(json.dumps({"id": art.id, "title": art.title, "text": art.text, "published": art.published}))
        gold[art.id] = story
    pipe = build_placement()  # the default deduper and two-level clusterer, as `newsweave ingest` places
    clusterer = pipe.clusterer
    assert isinstance(clusterer, EventClusterer)
    lat = np.zeros(len(lines), dtype=np.float64)
    cpu = np.zeros(len(lines), dtype=np.float64)
    alias: dict[str, str] = {}
    pred: dict[str, str] = {}
    rejected = 0
    print(
        "| articles | ms/article (last 1k) | CPU ms/article (last 1k) | p50 ms | p99 ms "
        "| articles/s (cumulative) | peak RSS MiB | open themes |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    t_start = time.perf_counter()
    for i, line in enumerate(lines):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            art = parse_record(json.loads(line), default_id=f"line-{i + 1}", origin=f"synth:{i + 1}")
        except InputError:  # counted as ingested work, as a real ingestion would quarantine it
            rejected += 1
            lat[i] = time.perf_counter() - t0
            continue
        placed = pipe.place(art)
        lat[i] = time.perf_counter() - t0
        cpu[i] = time.process_time() - c0
        alias.update(placed.merges())
        pred.update(placed.moved)
        pred[art.id] = placed.story
        done = i + 1
        if done in CHECKPOINTS or done == len(lines):
            recent = lat[max(0, done - 1000) : done]
            recent_cpu = cpu[max(0, done - 1000) : done]
            so_far = lat[:done]
            rate = done / (time.perf_counter() - t_start)
            print(
                f"| {done:,} | {recent.mean() * 1e3:.2f} | {recent_cpu.mean() * 1e3:.2f} | "
                f"{np.percentile(so_far, 50) * 1e3:.2f} | "
                f"{np.percentile(so_far, 99) * 1e3:.2f} | {rate:.0f} | {rss_mb():.0f} | {clusterer.open_stories:,} |",
                flush=True,
            )

    final = {k: follow_aliases(alias, v) for k, v in pred.items()}
    scores = bcubed({k: v for k, v in gold.items() if k in pred}, final)
    copies = sum(1 for _ in pipe.copies)
    print(
        f"\nB-cubed vs synthetic gold: P {scores['precision']:.3f} R {scores['recall']:.3f} F1 {scores['f1']:.3f}; "
        f"{len(set(gold.values())):,} gold stories; {copies:,} marked copies; {rejected} rejected by ingest"
    )


# --------------------------------------------------------------------------- ablation


def with_minilm(
    featurize_fn: Callable[[Article], ArticleFeatures], weight: float
) -> Callable[[Article], ArticleFeatures]:
    """Mix a MiniLM embedding of title + lead into the term vector: cosine = (1-w) terms + w MiniLM."""
    from newsweave.embed import default_embedder

    emb = default_embedder()
    cache: dict[str, ArticleFeatures] = {}

    def fn(article: Article) -> ArticleFeatures:
        if article.id not in cache:
            f = featurize_fn(article)
            v = emb.embed([f"{article.title}\n{article.text[:600]}"])[0]
            terms = {k: math.sqrt(1 - weight) * x for k, x in f.terms.items()}
            for i, x in enumerate(v):  # keys past the hash space: no collision with terms
                terms[N_FEATURES + i] = math.sqrt(weight) * float(x)
            cache[article.id] = ArticleFeatures(terms, f.year, f.day, f.published, f.names, project(terms))
        return cache[article.id]

    return fn


def ablation(minilm: bool) -> None:
    variants: list[tuple[str, Callable[[Article], ArticleFeatures], ClusterParams]] = [
        ("TF-IDF terms (default)", featurize, ClusterParams()),
        ("+ names (0.6)", partial(featurize, names_weight=0.6), ClusterParams()),
        ("+ figures (0.3)", partial(featurize, numbers_weight=0.3), ClusterParams()),
        ("+ names + figures", partial(featurize, names_weight=0.6, numbers_weight=0.3), ClusterParams()),
        ("+ text dates: datelines", partial(featurize, text_dates=True, year_mentions=False), ClusterParams()),
        ("+ text dates: datelines + years", partial(featurize, text_dates=True), ClusterParams()),
        (
            "+ names + figures + text dates",
            partial(featurize, names_weight=0.6, numbers_weight=0.3, text_dates=True),
            ClusterParams(),
        ),
        ("- merges", featurize, ClusterParams(merge_threshold=1.0, fragment_size=0)),
    ]
    if minilm:
        variants.append(("+ MiniLM (w=0.3)", with_minilm(featurize, 0.3), ClusterParams()))
        variants.append(("+ MiniLM (w=0.5)", with_minilm(featurize, 0.5), ClusterParams()))
    splits = {s: load_labelled(ECBPLUS / f"{s}.jsonl") for s in ("train", "dev")}
    print(
        "| representation | train B3 P | train B3 R | train B3 F1 | dev B3 P | dev B3 R | dev B3 F1 | dev pairwise F1 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, fz, params in variants:
        row = [name]
        for split, (articles, gold) in splits.items():
            c = StreamClusterer(params, featurizer=fz)
            for a in articles:
                c.add(a)
            pred = {a.id: c.story_of(a.id) or "" for a in articles}
            s = clustering_scores(gold, pred)
            b = s["bcubed"]
            row += [f"{b['precision']:.3f}", f"{b['recall']:.3f}", f"{b['f1']:.3f}"]
            if split == "dev":
                row.append(f"{s['pairwise']['f1']:.3f}")
        print("| " + " | ".join(row) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Streaming clustering benchmark and ablation.")
    parser.add_argument("--n", type=int, default=100_000, help="synthetic articles to stream")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ablation", action="store_true", help="print the representation ablation on ECB+")
    parser.add_argument("--minilm", action="store_true", help="with --ablation: add MiniLM variants (slow)")
    args = parser.parse_args()
    if args.ablation:
        ablation(args.minilm)
    else:
        throughput(args.n, args.seed)


if __name__ == "__main__":
    main()
