"""Cost growth of the Spark batch engine: wall time, articles/s and peak memory per corpus size.

    python benchmarks/bench_spark.py [--sizes 10000 100000 1000000] [--master local[2]] [--analyze-max 10000]
                                     [--compare-max 10000] [--work /tmp/nw-bench]

Each size is a stream synthesized from the real sets (``benchmarks/synth.py``:
ECB+ and NeuS events, dated, with wire copies), written as JSONL, then run
through ``run_batch`` (ingest → dedupe → cluster → reconcile → Parquet). Per
size it prints:

* wall time and articles/s of the batch (per-article cost: flat if the engine scales);
* peak RSS of the driver's Python process, of the JVM (driver and, in local mode,
  the executors), and of the Python workers together, sampled every 0.2 s;
* B-cubed F1 of the Spark stories against the synthetic gold (computed in Spark);
* up to ``--compare-max``: B-cubed F1 between Spark and the single-machine engine
  (``place_stream``, file order), the equivalence figure on dated, multi-window data;
* up to ``--analyze-max``: the same run with extract/align/summarize per story.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synth import synthesize
from newsweave.spark import BatchConfig, run_batch, spark_session


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class MemorySampler:
    """Peak RSS of the driver Python process, the JVM, and the sum of Python workers (from /proc)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = {"driver_py": 0, "jvm": 0, "workers_py": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            jvm = workers = 0
            stack = _children(me)
            while stack:
                pid = stack.pop()
                stack += _children(pid)
                cmd = _cmdline(pid)
                if "java" in cmd.split(" ")[0]:
                    jvm += _rss_kib(pid)
                elif "python" in cmd:
                    workers += _rss_kib(pid)
            for key, value in (("driver_py", _rss_kib(me)), ("jvm", jvm), ("workers_py", workers)):
                self.peak[key] = max(self.peak[key], value)
            self._stop.wait(self.interval)


def write_stream(n: int, path: Path, seed: int) -> None:
    """The synthetic stream of ``n`` articles as JSONL with its gold ``story``."""
    if path.exists():
        return
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as fh:
        for art, story in synthesize(n, seed=seed):
            rec = {"id": art.id, "story": story, "title": art.title, "text": art.text}
            rec.update({"published": art.published, "source": art.source})
            fh.write(json.dumps(rec) + "\n")
    tmp.rename(path)


def bcubed_in_spark(spark: Any, gold_path: Path, output: Path) -> float:
    """B-cubed F1 of the output's stories against the gold ``story`` field, aggregated in Spark."""
    from pyspark.sql import functions as F

    gold = spark.read.json(str(gold_path)).select("id", F.col("story").alias("gold"))
    pred = spark.read.parquet(str(output / "articles")).select("id", F.col("story").alias("pred"))
    return bcubed_df(gold.join(pred, "id"), "gold", "pred")


def bcubed_df(df: Any, gold: str, pred: str) -> float:
    """B-cubed F1 from a DataFrame of (gold label, predicted label) per item: sums of n_gp^2/n_p and n_gp^2/n_g."""
    from pyspark.sql import functions as F

    cells = df.groupBy(gold, pred).agg(F.count("*").alias("n"))
    n_p = df.groupBy(pred).agg(F.count("*").alias("np"))
    n_g = df.groupBy(gold).agg(F.count("*").alias("ng"))
    row = (
        cells.join(n_p, pred)
        .join(n_g, gold)
        .agg(
            F.sum(F.col("n") * F.col("n") / F.col("np")).alias("p"),
            F.sum(F.col("n") * F.col("n") / F.col("ng")).alias("r"),
            F.sum("n").alias("total"),
        )
        .first()
    )
    p, r = row["p"] / row["total"], row["r"] / row["total"]
    return 2 * p * r / (p + r) if p + r else 0.0


def single_machine_f1(spark: Any, path: Path, output: Path) -> float:
    """B-cubed F1 between the Spark stories and the single-machine engine's, on the same file."""
    from newsweave.evaluate import bcubed, place_stream
    from newsweave.ingest import read_jsonl
    from newsweave.models import Article

    single = place_stream(a for a in read_jsonl(path) if isinstance(a, Article))
    rows = spark.read.parquet(str(output / "articles")).select("id", "story").toLocalIterator()
    distributed = {r["id"]: r["story"] for r in rows}
    return bcubed(single, distributed)["f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--analyze-max", type=int, default=10_000, help="Also run analysis up to this size.")
    parser.add_argument("--compare-max", type=int, default=10_000, help="Compare with one machine up to this size.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsweave-bench-spark"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    spark = spark_session(
        args.master,
        {
            "spark.ui.enabled": "false",
            "spark.driver.memory": "2g",
            "spark.sql.shuffle.partitions": "8",
            "spark.local.dir": str(args.work / "spark-tmp"),
        },
        app_name="newsweave-bench",
    )
    spark.sparkContext.setLogLevel("ERROR")
    header = (
        f"{'articles':>9} {'stage':<8} {'wall s':>8} {'art/s':>7} {'ms/art':>7} "
        f"{'driver py MiB':>13} {'JVM MiB':>8} {'workers MiB':>11} {'windows':>7} {'B3 F1 gold':>10} {'vs 1-mach':>9}"
    )
    print(f"master {args.master}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}", flush=True)
    print(header, flush=True)
    for n in args.sizes:
        path = args.work / f"synth-{n}.jsonl"
        write_stream(n, path, args.seed)
        stages = [("place", False)] + ([("all", True)] if n <= args.analyze_max else [])
        for stage, analyze in stages:
            out = args.work / f"out-{n}-{stage}"
            with MemorySampler() as mem:
                t = time.perf_counter()
                report = run_batch(spark, [str(path)], str(out), BatchConfig(analyze=analyze, partitions=8))
                wall = time.perf_counter() - t
            f1 = bcubed_in_spark(spark, path, out)
            vs = f"{single_machine_f1(spark, path, out):.4f}" if n <= args.compare_max and not analyze else "-"
            peak = {k: v / 1024 for k, v in mem.peak.items()}
            print(
                f"{n:>9} {stage:<8} {wall:>8.1f} {n / wall:>7.0f} {1000 * wall / n:>7.2f} "
                f"{peak['driver_py']:>13.0f} {peak['jvm']:>8.0f} {peak['workers_py']:>11.0f} "
                f"{report.windows:>7} {f1:>10.4f} {vs:>9}",
                flush=True,
            )
    print(f"driver max RSS over the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    spark.stop()


if __name__ == "__main__":
    main()
